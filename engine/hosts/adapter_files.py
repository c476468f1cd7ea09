"""What a finished training run hands back, and the checks on a host that hands it.

A GPU server is someone else's computer: rented, shared, perhaps compromised.
Nothing it lists is trusted. Only the files the trainer writes (PEFT's
adapter_config.json and adapter_model.safetensors) are fetched, under their
fixed names, each a plain file (not a link) inside the job's folder and under a
size cap; the remote listing is never used as a local path.
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat
from pathlib import Path

from ..errors import UnsafeAdapterError

log = logging.getLogger(__name__)

# name -> the most bytes accepted. The weights of a LoRA for a 70B model at a high rank
# stay well under the cap; the config is a few hundred bytes.
ADAPTER_FILES = {"adapter_config.json": 1024 ** 2, "adapter_model.safetensors": 8 * 1024 ** 3}
CHUNK = 1024 ** 2


def _refuse(label: str, why: str) -> UnsafeAdapterError:
    return UnsafeAdapterError(f"The adapter on {label} was not taken: {why}. The training host may be "
                              "misconfigured or compromised; the job's files here are unchanged.")


def _too_big(name: str, size: int, cap: int) -> str:
    return f"{name} has {size:,} bytes, more than the {cap:,} an adapter file may have"


def check_local(job_dir: Path, label: str = "this computer") -> Path:
    """The adapter folder of a job run on this computer, after the same checks as a download."""
    folder = Path(job_dir) / "output" / "adapter"
    root = Path(job_dir).resolve()
    if folder.is_symlink() or not folder.resolve().is_relative_to(root) or not folder.is_dir():
        raise _refuse(label, f"{folder} is not a folder inside the job's folder")
    for name, cap in ADAPTER_FILES.items():
        path = folder / name
        try:
            st = path.lstat()
        except FileNotFoundError:
            raise _refuse(label, f"{name} is missing") from None
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(label, f"{name} is not a plain file (a link or something else)")
        if st.st_size > cap:
            raise _refuse(label, _too_big(name, st.st_size, cap))
    return folder


def fetch_remote(sftp, job_dir: str, local: Path, label: str) -> Path:
    """Download the adapter of the job in `job_dir` (a remote POSIX path) into `local`."""
    remote = posixpath.join(job_dir, "output", "adapter")
    try:
        real_root = sftp.normalize(job_dir)
        real = sftp.normalize(remote)
        is_dir = stat.S_ISDIR(sftp.lstat(remote).st_mode or 0)
    except FileNotFoundError:
        raise _refuse(label, "the job's output/adapter folder is missing") from None
    if not is_dir or not real.startswith(real_root.rstrip("/") + "/"):
        raise _refuse(label, "output/adapter is a link or leads outside the job's folder")
    checked = {}
    for name, cap in ADAPTER_FILES.items():
        try:
            st = sftp.lstat(posixpath.join(remote, name))
        except FileNotFoundError:
            raise _refuse(label, f"{name} is missing") from None
        if not stat.S_ISREG(st.st_mode or 0):
            raise _refuse(label, f"{name} is not a plain file (a link or something else)")
        if (st.st_size or 0) > cap:
            raise _refuse(label, _too_big(name, st.st_size, cap))
        checked[name] = cap
    local.mkdir(parents=True, exist_ok=True)
    for name, cap in checked.items():
        _download(sftp, posixpath.join(remote, name), local / name, cap, label)
    return local


def _download(sftp, src: str, dest: Path, cap: int, label: str) -> None:
    """Stream into dest.part, stopping at the cap (a file may grow after it was measured)."""
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    done = 0
    try:
        with sftp.open(src, "rb") as f, open(part, "xb") as out:
            f.prefetch()
            while True:
                block = f.read(CHUNK)
                if not block:
                    break
                done += len(block)
                if done > cap:
                    raise _refuse(label, _too_big(dest.name, done, cap))
                out.write(block)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    log.info("fetched %s (%d bytes) from %s", dest.name, done, label)
