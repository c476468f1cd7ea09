"""A catalog GGUF downloaded on the GPU server itself, when the server has internet.

Uploading 8 GB from an office line takes hours; a rented server downloads it in minutes.
Bunko sends a small script (Python's standard library, or curl where the host has no
python3) that resumes `<file>.part` with an HTTP Range request, checks the size and
sha256 from the catalog, renames the file into place only when both match, and deletes
it when the hash is wrong. Progress comes back over SSH as one line per half second.
The result is the file's path there, its sha256 and its fingerprint (the same measure as
registry.fingerprint, so adapters trained on the same file match it).
"""

from __future__ import annotations

import json
import logging
import posixpath
import time
from dataclasses import dataclass
from collections.abc import Callable

from ...cancel import CancelToken
from ...errors import DownloadCheckError, DownloadError, HostError
from ...hosts.hosts import quote
from ...types import Progress

log = logging.getLogger(__name__)

# Runs on the user's server with only Python's standard library, so it hashes in its own loop, not engine.hashing.
PY_SCRIPT = r'''
import hashlib, json, os, sys, time, urllib.error, urllib.request
url, dest, size, sha = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
part, EDGE = dest + ".part", 1024 * 1024
def say(**kw):
    print(json.dumps(kw), flush=True)
def fingerprint(path):
    n, d = os.path.getsize(path), hashlib.sha256()
    with open(path, "rb") as f:
        d.update(f.read(EDGE)); f.seek(max(n - EDGE, 0)); d.update(f.read(EDGE))
    return "%d:%s" % (n, d.hexdigest())
if not (os.path.exists(dest) and os.path.getsize(dest) == size):
    have = os.path.getsize(part) if os.path.exists(part) else 0
    if have > size:
        os.remove(part); have = 0
    if have < size:
        req = urllib.request.Request(url, headers={"Range": "bytes=%d-" % have} if have else {})
        try:
            resp = urllib.request.urlopen(req, timeout=60)
        except urllib.error.HTTPError as e:
            say(error="http", status=e.code); sys.exit(2)
        except (urllib.error.URLError, OSError) as e:
            say(error="network", reason=str(getattr(e, "reason", e))); sys.exit(2)
        if have and resp.status != 206:
            have = 0  # the server ignored the range: start over
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if have else os.O_TRUNC), 0o600)
        done, last = have, 0.0
        with os.fdopen(fd, "ab" if have else "wb") as f:
            try:
                while True:
                    chunk = resp.read(1 << 20)
                    if not chunk:
                        break
                    f.write(chunk); done += len(chunk)
                    if time.monotonic() - last > 0.5:
                        last = time.monotonic(); say(stage="download", done=done, total=size)
            except OSError as e:
                say(error="cut", done=done, reason=str(e)); sys.exit(4)
    got = os.path.getsize(part)
    if got < size:
        say(error="cut", done=got); sys.exit(4)
    if got > size:
        os.remove(part); say(error="size", got=got); sys.exit(3)
    d, done, last = hashlib.sha256(), 0, 0.0
    with open(part, "rb") as f:
        while True:
            chunk = f.read(8 << 20)
            if not chunk:
                break
            d.update(chunk); done += len(chunk)
            if time.monotonic() - last > 0.5:
                last = time.monotonic(); say(stage="check", done=done, total=size)
    if sha and d.hexdigest() != sha:
        os.remove(part); say(error="sha256", got=d.hexdigest()); sys.exit(3)
    os.replace(part, dest)
    say(ok=True, sha256=d.hexdigest(), fingerprint=fingerprint(dest))
else:
    say(ok=True, sha256=sha, fingerprint=fingerprint(dest))
'''

# The same steps with curl and coreutils, for a host without python3.
SH_SCRIPT = r'''
url=$1 dest=$2 size=$3 sha=$4 part=$2.part
fp() { n=$(wc -c < "$1" | tr -d ' '); echo "$n:$( (head -c 1048576 "$1"; tail -c 1048576 "$1") | sha256sum | cut -d' ' -f1)"; }
if [ -f "$dest" ] && [ "$(wc -c < "$dest" | tr -d ' ')" = "$size" ]; then
  echo "{\"ok\": true, \"sha256\": \"$sha\", \"fingerprint\": \"$(fp "$dest")\"}"; exit 0
fi
curl -fsSL -C - -o "$part" "$url" 2>"$part.err" & c=$!
trap 'kill $c 2>/dev/null' EXIT HUP PIPE TERM
while kill -0 $c 2>/dev/null; do
  echo "{\"stage\": \"download\", \"done\": $(wc -c < "$part" 2>/dev/null | tr -d ' ' || echo 0), \"total\": $size}"
  sleep 0.5
done
wait $c; rc=$?
trap - EXIT
said=$(head -c 200 "$part.err" 2>/dev/null | tr -d '"\\\n'); rm -f "$part.err"
got=$(wc -c < "$part" 2>/dev/null | tr -d ' ')
if [ $rc -ne 0 ] || [ "${got:-0}" -lt "$size" ]; then
  echo "{\"error\": \"cut\", \"done\": ${got:-0}, \"reason\": \"curl exit $rc: $said\"}"; exit 4
fi
if [ "$got" -gt "$size" ]; then rm -f "$part"; echo "{\"error\": \"size\", \"got\": $got}"; exit 3; fi
echo "{\"stage\": \"check\", \"done\": 0, \"total\": $size}"
h=$(sha256sum "$part" | cut -d' ' -f1)
if [ -n "$sha" ] && [ "$h" != "$sha" ]; then rm -f "$part"; echo "{\"error\": \"sha256\", \"got\": \"$h\"}"; exit 3; fi
mv -f "$part" "$dest"
echo "{\"ok\": true, \"sha256\": \"$h\", \"fingerprint\": \"$(fp "$dest")\"}"
'''


@dataclass(frozen=True)
class ServerFile:
    path: str
    sha256: str
    fingerprint: str
    size: int


def probe_fetcher(host) -> str | None:
    """What the host can download with: "python3", "curl", or None."""
    for tool in ("python3", "curl"):
        if host.run(f"command -v {tool} >/dev/null 2>&1").code == 0:
            if tool == "curl" and host.run("command -v sha256sum >/dev/null 2>&1").code != 0:
                continue
            return tool
    return None


def download_on_server(host, url: str, folder: str, size: int, sha256: str | None, label: str,
                       progress: Callable[[Progress], None] | None = None,
                       cancel: CancelToken | None = None, tool: str | None = None) -> ServerFile:
    """Download `url` into `folder` on the host as <sha256>.gguf (resuming a .part); raises
    DownloadCheckError (file deleted there) or DownloadError (network; the .part is kept)."""
    if not sha256:
        raise DownloadError("This catalog entry has no sha256, so a download on the server could not be "
                            "checked. Download it on this computer and upload it instead.")
    tool = tool or probe_fetcher(host)
    if tool is None:
        raise DownloadError(f"{label} has neither python3 nor curl (with sha256sum) to download the model. "
                            "Install one there, or upload the model from this computer.")
    host.mkdir(folder)
    dest = posixpath.join(folder, f"{sha256}.gguf")
    script = posixpath.join(folder, "bunko-fetch." + ("py" if tool == "python3" else "sh"))
    host.write_text(script, PY_SCRIPT if tool == "python3" else SH_SCRIPT)
    runner = "python3" if tool == "python3" else "sh"
    command = " ".join([runner, quote(script), quote(url), quote(dest), str(int(size)), quote(sha256)])
    log.info("downloading %s on %s with %s", url.rsplit("/", 1)[-1], label, tool)
    last = _stream(host, command, progress, cancel, label)
    if last.get("ok"):
        return ServerFile(dest, last["sha256"], last["fingerprint"], int(size))
    error = last.get("error")
    if error == "sha256":
        raise DownloadCheckError(f"The model downloaded on {label} does not match the catalog: its sha256 is "
                                 f"{last.get('got')}, the catalog says {sha256}. The file was deleted there. "
                                 "The source may have changed the file; update the catalog or try later.")
    if error == "size":
        raise DownloadCheckError(f"The model downloaded on {label} is {last.get('got')} bytes, more than the "
                                 f"catalog's {size}. The file was deleted there.")
    if error == "http":
        raise DownloadError(f"The download source refused {label} (HTTP {last.get('status')}). Gated models "
                            "need a token, which Bunko does not send to servers: upload the model instead.")
    if error == "network":
        raise DownloadError(f"{label} cannot reach the download source ({last.get('reason')}). The server may "
                            "have no internet: upload the model from this computer instead.")
    if error == "cut":
        raise DownloadError(f"The download on {label} broke off after {int(last.get('done', 0)) // 1_000_000} "
                            "MB; what came is kept there. Try again: it resumes.")
    raise DownloadError(f"The download on {label} failed: {last or 'no answer from the script'}.")


def _stream(host, command: str, progress, cancel, label: str) -> dict:
    """Run `command` there and pass its JSON lines on as Progress; the last line is the result."""
    try:
        _, stdout, _stderr = host.client.exec_command(f"umask 077; {command}")
    except Exception as exc:  # paramiko.SSHException: the link is gone
        raise HostError(f"The connection to {label} was lost ({exc}).") from exc
    channel = stdout.channel
    last: dict = {}
    buf = b""
    t0, mb0 = time.monotonic(), None
    try:
        while True:
            if cancel is not None and cancel.cancelled:
                channel.close()   # the script dies on its next write; the .part stays for a resume
                cancel.raise_if_cancelled()
            if channel.recv_ready():
                data = channel.recv(65536)
                if not data:
                    break
                buf += data
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    last = event
                    if progress and "stage" in event:
                        done, total = int(event["done"]), int(event["total"])
                        mb0 = done if mb0 is None else mb0
                        rate = (done - mb0) / max(1e-3, time.monotonic() - t0)
                        word = "downloading on" if event["stage"] == "download" else "checking on"
                        progress(Progress(phase=event["stage"], done=done, total=total, unit="bytes",
                                          rate=rate if rate > 0 else None,
                                          message=f"{word} {label}: {done // 1_000_000} of {total // 1_000_000} MB"))
            elif channel.exit_status_ready() and not channel.recv_ready():
                break
            else:
                time.sleep(0.05)
        if buf.strip():
            try:
                last = json.loads(buf)
            except ValueError:
                pass
    finally:
        channel.close()
    return last
