"""Downloading a catalog model from the Hugging Face Hub, only when the user asks.

The hub's own client (huggingface_hub) does the talking: the URL layout, the
HEAD that reports the commit, size and sha256 of the file, the token for gated
repositories, its retries, and a resumed GET with a Range header when the
connection drops. hf_hub_download itself is not used: since huggingface_hub
1.x it writes to a per-process temporary name and deletes it on any failure, so
a download cut off by closing the app or kill -9 would start again from zero.
Bunko keeps its own partial file, named by the file's hash, and hands the
client's http_get the bytes it already has.

A finished file is checked (size, sha256, a readable GGUF header) before it is
moved next to the other models and registered; a file that fails is deleted.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import time
import urllib.request
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, cast
from collections.abc import Callable
from urllib.parse import urlparse

from .. import paths
from ..errors import (BunkoError, Cancelled, DiskFullError, DownloadCheckError, DownloadError, HubAccessError,
                      HubNotFoundError, HubUnreachableError, ModelFileError, UnverifiedModelError)
from ..hashing import sha256_file
from ..timefmt import size as size_text
from ..types import Progress
from .catalog import CatalogFile, CatalogModel
from .gguf_file import read_gguf_info
from .hashing_writer import HashingWriter, raw_chunks

log = logging.getLogger(__name__)

SHA256 = re.compile(r"[0-9a-f]{64}")
DEFAULT_ENDPOINT = "https://huggingface.co"
SPARE_BYTES = 64 * 1024 * 1024   # left free on the disk besides the model
HEAD_TIMEOUT = 15.0
REPORT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class FetchedFile:
    path: Path
    commit: str | None         # the commit the hub served the file from
    sha256: str
    resumed_from: int          # bytes that were already there from an earlier try


class Meter:
    """Turns byte counts into Progress (rate and time left) and checks cancel.

    huggingface_hub's http_get calls it like a tqdm bar (`tqdm_class=`); imports
    and hashing call `update` themselves."""

    def __init__(self, stage: str, progress, cancel, total: int | None = None, initial: int = 0,
                 **_tqdm_kwargs) -> None:
        self.stage, self.progress, self.cancel = stage, progress, cancel
        self.total, self.done = total, initial
        self._start = self._last = time.monotonic()
        self._window: list[tuple[float, int]] = [(self._start, initial)]
        self._report(force=True)

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc) -> None:
        self._report(force=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        # At least every 0.2 s, and each time another REPORT_BYTES has come (a fast
        # transfer still shows its steps, and a cancel from the callback lands soon).
        self._report(force=self.done // REPORT_BYTES != (self.done - n) // REPORT_BYTES)

    def rate(self) -> float | None:
        now = time.monotonic()
        self._window.append((now, self.done))
        while len(self._window) > 2 and now - self._window[0][0] > 5.0:  # the last ~5 s
            self._window.pop(0)
        (t0, d0), (t1, d1) = self._window[0], self._window[-1]
        return (d1 - d0) / (t1 - t0) if t1 - t0 > 0.05 and d1 > d0 else None

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not force and now - self._last < 0.2):
            return
        self._last = now
        rate = self.rate()
        eta = (self.total - self.done) / rate if rate and self.total else None
        self.progress(Progress(phase=self.stage, done=self.done, total=self.total, unit="bytes", rate=rate, eta_s=eta))


def checked_sha256(path: Path, progress=None, cancel=None):
    """sha256 of a file already on disk, reported as the "check" stage; returns the digest."""
    return sha256_file(path, on_bytes=Meter("check", progress, cancel, path.stat().st_size).update)


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def check_space(folder: Path, needed: int, free: Callable[[Path], int] = free_bytes) -> None:
    have = free(folder)
    if have < needed + SPARE_BYTES:
        raise DiskFullError(f"Not enough disk space in {folder}: the model needs {size_text(needed)} more, "
                            f"{size_text(have)} is free. Free some space (or set BUNKO_DATA_DIR to a bigger "
                            "disk) and try again.")


def disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1))


def verify(path: Path, size: int | None, sha256: str | None, actual_sha: str, what: str) -> None:
    """Refuse (and delete) a file whose size or sha256 is not the expected one, or that is not a GGUF model."""
    problem = None
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        problem = f"it has {actual_size:,} bytes instead of {size:,}"
    elif sha256 and actual_sha != sha256:
        problem = f"its sha256 is {actual_sha}, not the expected {sha256}"
    if problem:
        path.unlink(missing_ok=True)
        raise DownloadCheckError(f"{what} is damaged or not the expected file ({problem}). It was deleted "
                                 "and not added; try again, and if it happens again the source is wrong.")
    try:
        info = read_gguf_info(path)
    except ModelFileError as exc:
        path.unlink(missing_ok=True)
        raise DownloadCheckError(f"{what} is not a usable GGUF model, so it was deleted and not added: {exc}") \
            from exc
    if info.kind != "model" or info.architecture == "clip":
        path.unlink(missing_ok=True)
        raise DownloadCheckError(f"{what} is a {'LoRA adapter' if info.kind == 'adapter' else 'vision projector'}"
                                 ", not a chat model; it was deleted and not added.")


# -- the network side --------------------------------------------------------------
def endpoint_url(endpoint: str | None = None) -> str:
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _system_proxy(url: str) -> str | None:
    """The proxy the system would use for `url` (environment, Windows registry, macOS settings)."""
    host = urlparse(url).hostname or ""
    if urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(urlparse(url).scheme) or proxies.get("all")


def _use_client(endpoint: str) -> None:
    """Give the hub client a fresh HTTP client that follows the proxy settings of this moment.

    httpx reads HTTP(S)_PROXY and NO_PROXY itself; on Windows and macOS the system
    proxy lives in the registry or the system settings, which urllib knows."""
    import httpx
    from huggingface_hub import constants, set_client_factory

    # The client's telemetry would also fetch an "agent" list from huggingface.co to build its
    # User-Agent, whatever endpoint the user chose (a mirror, a local hub): off.
    constants.HF_HUB_DISABLE_TELEMETRY = True
    env_proxy = any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                                                 "ALL_PROXY", "all_proxy"))
    proxy = None if env_proxy else _system_proxy(endpoint)
    set_client_factory(lambda: httpx.Client(follow_redirects=True, timeout=None, proxy=proxy))


def _describe_proxy(endpoint: str) -> str:
    proxy = _system_proxy(endpoint)
    return f"the proxy {proxy}" if proxy else "the proxy"


def hub_error(exc: BaseException, repo: str, filename: str, revision: str, endpoint: str) -> DownloadError:
    """The hub client's exception, in words a user can act on."""
    import httpx
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled,
                                        RemoteEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError)

    page = f"{endpoint}/{repo}"
    offline_hint = " Without internet, copy the .gguf file from another computer and import it: bunko models import PATH"
    if isinstance(exc, GatedRepoError):
        return HubAccessError(f"{repo} is a gated repository: open {page} while logged in, accept its conditions, "
                              "then set the HF_TOKEN environment variable to an access token "
                              "(huggingface.co/settings/tokens) and try again.")
    if isinstance(exc, RemoteEntryNotFoundError):
        return HubNotFoundError(f"The file {filename} is not in {repo} at revision {revision}: the catalog is out of "
                                "date. Update Bunko (or resources/catalog.toml) or choose another model.")
    if isinstance(exc, RevisionNotFoundError):
        return HubNotFoundError(f"{repo} has no revision {revision}: the catalog is out of date. Update Bunko (or "
                                "resources/catalog.toml).")
    if isinstance(exc, RepositoryNotFoundError):
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            return HubAccessError(f"{endpoint} refused access to {repo} ({status}): it is private or gated, or it "
                                  "does not exist. If you have access, set the HF_TOKEN environment variable to an "
                                  "access token and try again.")
        return HubNotFoundError(f"The repository {repo} is not on {endpoint}: the catalog is out of date or the "
                                "repository was removed. Update Bunko (or resources/catalog.toml).")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status == 407:
            return HubUnreachableError(f"{_describe_proxy(endpoint).capitalize()} wants a user name and password "
                                       "(407). Put them in the proxy setting (http://user:password@proxy:port).")
        if status in (401, 403):
            return HubAccessError(f"{endpoint} refused access to {repo} ({status}). If the repository is gated or "
                                  "private, set the HF_TOKEN environment variable to an access token.")
        return HubUnreachableError(f"{endpoint} answered {status} for {repo}; the hub may be busy. Try again "
                                   "later: the download resumes where it stopped.")
    if isinstance(exc, OfflineModeIsEnabled):
        return HubUnreachableError("Downloads are switched off (HF_HUB_OFFLINE is set)." + offline_hint)
    if isinstance(exc, httpx.ProxyError):
        return HubUnreachableError(f"{_describe_proxy(endpoint).capitalize()} refused the connection to "
                                   f"{endpoint} ({exc}). Check the proxy setting (HTTPS_PROXY or the system's "
                                   "network settings).")
    if isinstance(exc, httpx.RemoteProtocolError):
        return HubUnreachableError(f"The connection to {endpoint} kept dropping. Try again: the download resumes "
                                   "where it stopped.")
    if isinstance(exc, (httpx.TransportError, OSError)):
        return HubUnreachableError(f"Cannot reach {endpoint} ({exc.__class__.__name__}: {exc}). Check the network "
                                   "connection and proxy; a later try resumes where it stopped." + offline_hint)
    return DownloadError(f"The download of {filename} from {repo} failed: {exc}")


def _partial_path(folder: Path, filename: str, etag: str) -> Path:
    """The partial file of one version of one file; older versions' partials are dropped."""
    partials = folder / ".partial"
    partials.mkdir(parents=True, exist_ok=True)
    tag = re.sub(r"[^0-9A-Za-z]", "", etag)[:16] or "unknown"
    for old in partials.glob(f"{filename}.*.part"):
        if old.name != f"{filename}.{tag}.part":
            old.unlink(missing_ok=True)
    return partials / f"{filename}.{tag}.part"


def fetch(repo: str, filename: str, revision: str, folder: Path, size: int | None = None,
          sha256: str | None = None, endpoint: str | None = None, token: str | None = None,
          progress: Callable[[Progress], None] | None = None, cancel=None,
          free: Callable[[Path], int] = free_bytes) -> FetchedFile:
    """Download `filename` of `repo` at `revision` into `folder`, resuming an earlier partial file.

    `size` and `sha256` (if given) are what the file must have; otherwise the hub's own
    report is the reference (its LFS sha256). Returns the checked file."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    endpoint = endpoint_url(endpoint)
    folder.mkdir(parents=True, exist_ok=True)
    what = f"The downloaded file {filename}"
    _use_client(endpoint)
    url = hf_hub_url(repo, filename, revision=revision, endpoint=endpoint)
    try:
        meta = get_hf_file_metadata(url, token=token, timeout=HEAD_TIMEOUT, endpoint=endpoint)
    except Exception as exc:  # noqa: BLE001 - every failure becomes words (hub_error)
        raise hub_error(exc, repo, filename, revision, endpoint) from exc
    if meta.commit_hash is None or meta.etag is None:
        raise HubUnreachableError(f"{endpoint} did not answer like a model hub (no commit or ETag in its reply): "
                                  "a proxy or firewall may be rewriting the traffic, or HF_ENDPOINT is wrong.")
    hub_sha = meta.etag.lower() if SHA256.fullmatch(meta.etag.lower()) else None
    if sha256 and hub_sha and hub_sha != sha256:
        raise DownloadCheckError(f"{repo} now serves a different {filename} (sha256 {hub_sha}) from the one the "
                                 f"catalog names ({sha256}); nothing was downloaded. Update the catalog entry.")
    expected_sha = sha256 or hub_sha
    if size is not None and meta.size is not None and size != meta.size:
        raise DownloadCheckError(f"{repo} serves {filename} with {meta.size:,} bytes, not the {size:,} the catalog "
                                 "names; nothing was downloaded. Update the catalog entry.")
    total = size or meta.size

    dest = folder / filename
    if dest.is_file() and total == dest.stat().st_size and expected_sha:
        if checked_sha256(dest, progress, cancel).hexdigest() == expected_sha:
            log.info("%s is already here and checked", dest)
            return FetchedFile(dest, meta.commit_hash, expected_sha, dest.stat().st_size)

    part = _partial_path(folder, filename, meta.etag)
    have = part.stat().st_size if part.exists() else 0
    if total is not None and have > total:
        part.unlink()
        have = 0
    if total is not None:
        check_space(folder, total - have, free)
    digest = checked_sha256(part, progress, cancel) if have else hashlib.sha256()
    # A CDN behind a redirect gets no token; the hub itself does.
    headers = build_hf_headers(token=token) if urlparse(meta.location).hostname == urlparse(url).hostname else {}
    location = meta.location
    if location == url and revision != meta.commit_hash:
        # No redirect to a content-addressed URL: ask for the commit the HEAD reported, so the
        # bytes are those of the commit recorded in the registry even if the branch moves meanwhile.
        location = hf_hub_url(repo, filename, revision=meta.commit_hash, endpoint=endpoint)
    log.info("downloading %s from %s (%s), %s already here", filename, repo, meta.commit_hash, have)
    try:
        fd = os.open(part, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            sink = HashingWriter(fd, digest)
            try:
                with raw_chunks():
                    http_get(location, cast(BinaryIO, sink), resume_size=have, headers=headers, expected_size=total,
                             displayed_filename=filename, tqdm_class=cast(Any, partial(Meter, "download", progress, cancel)))
            finally:
                digest = sink.close()  # what came before a cut or a cancel is kept for the next try
        finally:
            os.close(fd)
    except Cancelled:
        log.info("download of %s cancelled at %s bytes; the partial file stays for a later try",
                 filename, part.stat().st_size if part.exists() else 0)
        raise
    except OSError as exc:
        if disk_full(exc):
            part.unlink(missing_ok=True)
            raise DiskFullError(f"The disk filled up while downloading {filename} into {folder}; the partial file "
                                "was removed. Free some space and try again.") from exc
        if "Consistency check failed" in str(exc):  # the hub client's own size check
            part.unlink(missing_ok=True)
            raise DownloadCheckError(f"{what} did not have the size the hub announced; it was deleted. Try "
                                     "again.") from exc
        raise hub_error(exc, repo, filename, revision, endpoint) from exc
    except BunkoError:
        raise
    except Exception as exc:  # noqa: BLE001 - httpx and hub errors become words
        raise hub_error(exc, repo, filename, revision, endpoint) from exc

    actual = (checked_sha256(part, progress, cancel) if sink.rewound else digest).hexdigest()
    verify(part, total, expected_sha, actual, what)
    os.replace(part, dest)
    log.info("downloaded %s (%s bytes, sha256 %s)", dest, dest.stat().st_size, actual)
    return FetchedFile(dest, meta.commit_hash, actual, have)


def model_folder(entry: CatalogModel) -> Path:
    """Where a catalog model's files go: Bunko's model folder, one folder per hub repository."""
    return paths.models_dir() / "hub" / entry.repo.replace("/", "--")


def download(registry, entry: CatalogModel, quant: str | None = None, name: str | None = None,
             endpoint: str | None = None, token: str | None = None,
             progress: Callable[[Progress], None] | None = None, cancel=None,
             free: Callable[[Path], int] = free_bytes, allow_unverified: bool = False):
    """Download a catalog model and register it (with its languages and licence); returns its ModelInfo.

    A model that is already registered from the same file is returned as it is. An entry the
    catalog does not pin (commit, sha256, exact size) is refused unless `allow_unverified`:
    then the hub's own report of the file that day is all it is checked against."""
    f: CatalogFile = entry.file(quant)
    if not entry.trusted(f.quant):
        if not allow_unverified:
            raise UnverifiedModelError(
                f"{entry.name} {f.quant} is not pinned in Bunko's catalog (no checked commit, sha256 and size), "
                "so Bunko cannot tell the file the hub serves today from the one that was reviewed. Download it "
                "only if you trust its publisher: bunko models download ID --allow-unverified (in the app: "
                "confirm the question).")
        log.warning("downloading %s %s, which the catalog does not pin (the user allowed it)", entry.id, f.quant)
    got = fetch(entry.repo, f.file, entry.revision, model_folder(entry),
                size=f.size if f.size_exact else None, sha256=f.sha256, endpoint=endpoint, token=token,
                progress=progress, cancel=cancel, free=free)
    return register(registry, got.path, name or f"{entry.id}-{f.quant.lower()}", entry,
                    {"repo": entry.repo, "revision": entry.revision, "commit": got.commit, "file": f.file,
                     "sha256": got.sha256, "endpoint": endpoint_url(endpoint)})


def register(registry, path: Path, name: str, entry: CatalogModel | None, source: dict):
    """Add `path` to the registry (the usual add path) and note where it came from."""
    resolved = str(path.resolve())
    for known in registry.list():
        if known.path == resolved:
            return known
    model = registry.add(path, name)
    origin: dict[str, object] = {"source": source}
    if entry is not None:
        origin.update(catalog_id=entry.id, languages=list(entry.languages), licence=entry.licence,
                      licence_url=entry.licence_url)
    registry.set_origin(model.name, origin)
    return model
