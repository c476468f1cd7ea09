"""A small HTTP server on 127.0.0.1 that answers like the Hugging Face Hub's file URLs.

`bunko bench download` and the tests point the real huggingface_hub client at
it. It serves `/{repo}/resolve/{revision}/{filename}` for HEAD and GET with the
headers the client reads (X-Repo-Commit, ETag and X-Linked-Etag holding the
file's sha256, X-Linked-Size, Content-Length) and byte ranges, and it can
misbehave on request: cut a transfer short, refuse a gated repository (401),
claim a wrong sha256, or answer 404 the way the hub does (X-Error-Code).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..hashing import sha256_file

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class Served:
    path: Path
    sha256: str
    size: int
    gated: bool = False
    cut_after: int | None = None   # the next GET sends this many bytes, then drops the connection
    claim_sha256: str | None = None  # announce this hash instead of the real one
    cut_at: int | None = None       # the file offset where the last cut transfer stopped


class HubServer:
    """with HubServer() as hub: hub.add("org/repo", path); hub.endpoint -> "http://127.0.0.1:PORT"."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], Served] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Range header
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        # a short poll: stop() returns within 50 ms, not the default half second (the tests start one each)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="hub-server", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, repo: str, path: Path, name: str | None = None, **faults) -> Served:
        path = Path(path)
        served = Served(path, sha256_file(path).hexdigest(), path.stat().st_size, **faults)
        self.files[(repo, name or path.name)] = served
        return served

    def url(self, repo: str, name: str, revision: str = "main") -> str:
        return f"{self.endpoint}/{repo}/resolve/{revision}/{name}"

    def start(self) -> HubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _handler(hub: HubServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: tests and benches print their own
            pass

        def _error(self, status: int, code: str | None, message: str) -> None:
            body = message.encode()
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _find(self) -> Served | None:
            with hub.lock:
                hub.requests.append((self.command, self.path, self.headers.get("Range")))
            match = _RESOLVE.match(self.path.split("?")[0])
            if not match:
                self._error(404, None, "Not Found")
                return None
            repo, filename = match["repo"], match["file"]
            served = hub.files.get((repo, filename))
            if served is None:
                known_repo = any(r == repo for r, _ in hub.files)
                if known_repo:
                    self._error(404, "EntryNotFound", "Entry not found")
                else:
                    self._error(404, "RepoNotFound", "Repository not found")
                return None
            if served.gated:
                self._error(401, "GatedRepo", "Access to model is restricted. You must have access to it "
                                              "and be authenticated to access it.")
                return None
            return served

        def _head(self, served: Served, status: int, length: int, start: int = 0) -> None:
            sha = served.claim_sha256 or served.sha256
            self.send_response(status)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{sha}"')
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(served.size))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{start + length - 1}/{served.size}")
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
            served = self._find()
            if served is not None:
                self._head(served, 200, served.size)

        def do_GET(self) -> None:  # noqa: N802
            served = self._find()
            if served is None:
                return
            start, end = 0, served.size - 1
            rng = _RANGE.match(self.headers.get("Range") or "")
            if rng:
                start = int(rng[1])
                end = int(rng[2]) if rng[2] else end
                if start >= served.size:
                    self._error(416, None, "Range Not Satisfiable")
                    return
            length = end - start + 1
            self._head(served, 206 if rng else 200, length, start)
            cut, served.cut_after = served.cut_after, None
            left = length if cut is None else min(cut, length)
            if cut is None:  # the kernel copies: the server spends no Python time per byte
                with open(served.path, "rb") as f:
                    self.wfile.flush()
                    self.connection.sendfile(f, start, length)
                return
            with open(served.path, "rb") as f:
                f.seek(start)
                while left > 0:
                    chunk = f.read(min(1024 * 1024, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
            if cut is not None:
                served.cut_at = start + min(cut, length) - left
                self.close_connection = True
                self.wfile.flush()
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    return Handler


def write_test_gguf(path: Path, payload_bytes: int = 12 * 1024 * 1024, seed: int = 0) -> Path:
    """A small but real GGUF file (a llama-architecture header and one f32 tensor) for tests and benches."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_name("bunko-test")
    writer.add_block_count(1)
    writer.add_context_length(256)
    writer.add_embedding_length(64)
    writer.add_head_count(4)
    n = max(payload_bytes // 4, 64)
    data = np.random.default_rng(seed).standard_normal(n, dtype=np.float32)
    writer.add_tensor("blk.0.ffn_up.weight", data.reshape(-1, 64) if n % 64 == 0 else data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path



def serve_in_process(repo: str, path: Path) -> tuple[subprocess.Popen, str]:
    """A HubServer serving `path` in a child process (so a bench's client has the GIL to itself);
    returns the process and its endpoint."""
    proc = subprocess.Popen([sys.executable, "-m", "engine.bench.hub_server", repo, str(path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None   # a pipe
    return proc, proc.stdout.readline().strip()


if __name__ == "__main__":  # the child of serve_in_process
    with HubServer() as _hub:
        _hub.add(sys.argv[1], Path(sys.argv[2]))
        print(_hub.endpoint, flush=True)
        threading.Event().wait()
