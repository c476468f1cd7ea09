"""llama-server is built only from the published llama-cpp-python archive: the build script (on a
GPU server, and packaging/build_llama_server.sh here) checks its sha256 before unpacking it. A
fake pip that "downloads" a tampered archive stands in for a hostile index or proxy."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from engine.llm.remote import build_server

ROOT = Path(__file__).resolve().parents[2]


def shim(tmp_path: Path) -> dict:
    """python3 whose `-m pip download` does nothing (the archive is already there)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python3").write_text(f'#!/bin/sh\n[ "$1 $2" = "-m pip" ] && exit 0\nexec {sys.executable} "$@"\n')
    (bin_dir / "python3").chmod(0o755)
    (bin_dir / "pip").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "pip").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_the_server_build_refuses_a_tampered_archive(tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / f"llama_cpp_python-{build_server.VERSION}.tar.gz").write_bytes(b"not the published archive")
    (src / "build.sh").write_text(build_server.SCRIPT)
    done = subprocess.run(["bash", str(src / "build.sh"), str(src), build_server.VERSION, build_server.SDIST_SHA256],
                          env=shim(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "BUNKO_BUILD_BAD_HASH" in done.stdout
    # the check itself is not what fails a good archive: with its own sha256 the script goes on (to tar)
    own = hashlib.sha256(b"not the published archive").hexdigest()
    done = subprocess.run(["bash", str(src / "build.sh"), str(src), build_server.VERSION, own],
                          env=shim(tmp_path), capture_output=True, text=True, timeout=60)
    assert "BUNKO_BUILD_BAD_HASH" not in done.stdout and done.returncode != 0


def test_the_packaging_build_refuses_a_tampered_archive(tmp_path) -> None:
    fake = tmp_path / f"llama_cpp_python-{build_server.VERSION}.tar.gz"
    fake.write_bytes(b"tampered")
    env = {**shim(tmp_path), "BUNKO_LLAMA_SDIST": str(fake), "BUNKO_LLAMA_CPU": "1"}
    done = subprocess.run(["bash", str(ROOT / "packaging" / "build_llama_server.sh"), str(tmp_path / "dest")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3 and "sha256 is not the pinned one" in done.stderr
    assert build_server.SDIST_SHA256 in (ROOT / "packaging" / "build_llama_server.sh").read_text()
