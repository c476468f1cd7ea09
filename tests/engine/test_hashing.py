"""engine.hashing: the one sha256 of a file, and the copy that hashes on the way."""

from __future__ import annotations

import hashlib
import os

import pytest

from engine import hashing
from engine.cancel import CancelToken
from engine.errors import Cancelled


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "BLOCK", 1000)   # several blocks per file, and one cut short
    made = []
    for n, size in enumerate((4321, 0, 2500)):
        path = tmp_path / f"part{n}"
        path.write_bytes(os.urandom(size))
        made.append(path)
    return made


def test_the_digest_is_sha256_of_the_bytes_read_in_blocks(files) -> None:
    data = files[0].read_bytes()
    heard = []
    got = hashing.sha256_file(files[0], on_bytes=heard.append)
    assert got.hexdigest() == hashlib.sha256(data).hexdigest()
    assert heard == [1000, 1000, 1000, 1000, 321]
    assert hashing.sha256_file(files[1]).hexdigest() == hashlib.sha256(b"").hexdigest()


def test_a_limit_hashes_the_start_only_and_a_digest_goes_on(files) -> None:
    data = files[0].read_bytes()
    assert hashing.sha256_file(files[0], limit=2500).hexdigest() == hashlib.sha256(data[:2500]).hexdigest()
    begun = hashlib.sha256(b"already here")
    assert hashing.sha256_file(files[0], digest=begun) is begun
    assert begun.hexdigest() == hashlib.sha256(b"already here" + data).hexdigest()


def test_a_cancel_stops_between_blocks(files) -> None:
    token = CancelToken()
    heard = []

    def hear(n: int) -> None:
        heard.append(n)
        token.cancel()

    with pytest.raises(Cancelled):
        hashing.sha256_file(files[0], on_bytes=hear, cancel=token)
    assert heard == [1000]


def test_a_copy_joins_the_files_and_hashes_what_it_wrote(files, tmp_path) -> None:
    joined = b"".join(f.read_bytes() for f in files)
    with open(tmp_path / "joined", "wb") as out:
        digest = hashing.copy_hashing(files, out)
    assert (tmp_path / "joined").read_bytes() == joined
    assert digest.hexdigest() == hashlib.sha256(joined).hexdigest()


def test_a_file_that_cannot_be_read_raises_oserror(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        hashing.sha256_file(tmp_path / "missing")
