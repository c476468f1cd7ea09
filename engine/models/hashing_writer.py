"""Writing a download to disk and hashing it, off the thread that receives it.

Measured on loopback (`bunko bench download`, cProfile on a 200 MB file): with the
hub client's default 10 MiB chunks, most of the time went to memory copies, not
the network: httpx gathers its 64 KiB socket reads in a BytesIO, copies the
value out and slices it, and the resulting 10 MiB pieces no longer fit in the
CPU cache when they are written and hashed. Writing each 64 KiB piece on its
own instead costs one system call per piece. So the client hands over its raw
pieces (`raw_chunks`), `HashingWriter` gathers a few MiB of them by reference,
and a worker thread joins each batch, writes it with one call and hashes it while
the next batch arrives (hashlib and writes let go of the GIL; one buffer per batch
keeps the worker's GIL hand-overs few, which mattered more than the copy).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

BATCH_BYTES = 4 * 1024 * 1024
BATCH_PIECES = 512          # a slow trickle of tiny pieces still gets written

_chunk_lock = threading.Lock()
_chunk_users = 0
_chunk_saved: int | None = None


@contextmanager
def raw_chunks():
    """While inside, huggingface_hub's http_get passes on the socket's pieces as they come.

    http_get reads `constants.DOWNLOAD_CHUNK_SIZE` each time it starts a transfer. The
    value is process-wide, so concurrent downloads share one setting, counted under a
    lock; the last one out restores the client's default. Any chunk size is correct for
    any caller (it only changes how bytes are grouped), so another hub user running
    meanwhile is not harmed."""
    global _chunk_users, _chunk_saved
    from huggingface_hub import constants

    with _chunk_lock:
        if _chunk_users == 0:
            _chunk_saved = constants.DOWNLOAD_CHUNK_SIZE
            constants.DOWNLOAD_CHUNK_SIZE = None
        _chunk_users += 1
    try:
        yield
    finally:
        with _chunk_lock:
            _chunk_users -= 1
            if _chunk_users == 0:
                constants.DOWNLOAD_CHUNK_SIZE = _chunk_saved


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # a short write (a nearly full disk) writes the rest next, or raises ENOSPC
        view = view[os.write(fd, view):]


class HashingWriter:
    """A write-only file for the hub client: keeps the pieces it is given, and a worker
    thread appends each batch to `fd` and adds it to `digest`, in order.

    At most one batch is being written while the next one fills, so memory stays
    near 2 × BATCH_BYTES. An error of the worker (a full disk) comes out of the next
    write or of close(). If the client rewinds (a server that ignored Range),
    `rewound` is set and the hash must be redone from the file."""

    def __init__(self, fd: int, digest) -> None:
        self.fd, self.digest, self.rewound = fd, digest, False
        self.written = 0                   # bytes handed over so far (written or in a batch)
        self._pieces: list[bytes] = []
        self._size = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="download-writer")
        self._pending: Future | None = None

    def write(self, data: bytes) -> int:
        if data:
            self._pieces.append(data)
            self._size += len(data)
            self.written += len(data)
            if self._size >= BATCH_BYTES or len(self._pieces) >= BATCH_PIECES:
                self._hand_over()
        return len(data)

    def _hand_over(self) -> None:
        self._wait()
        pieces, self._pieces, self._size = self._pieces, [], 0
        self._pending = self._pool.submit(self._write_batch, pieces)

    def _write_batch(self, pieces: list[bytes]) -> None:
        # One buffer, so the write and the hash each let go of the GIL once per batch:
        # per 64 KiB piece, taking the GIL back from the receiving thread cost more than the work.
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        _write_all(self.fd, data)
        self.digest.update(data)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def flush(self) -> None:
        """Everything handed over is on disk (in the file) afterwards."""
        self._wait()
        if self._pieces:
            pieces, self._pieces, self._size = self._pieces, [], 0
            self._write_batch(pieces)

    def close(self):
        """Write what is left and stop the worker; returns the digest."""
        try:
            self.flush()
        finally:
            self._pool.shutdown()
        return self.digest

    def tell(self) -> int:
        self.flush()
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self.flush()
        self.rewound = True
        return os.lseek(self.fd, offset, whence)

    def truncate(self, size: int | None = None) -> int:
        self.flush()
        self.rewound = True
        size = os.lseek(self.fd, 0, os.SEEK_CUR) if size is None else size
        os.ftruncate(self.fd, size)
        return size
