"""How long and how much memory one file may take, and stopping inside it.

Reading, parsing, cleaning and chunking one file happen under a `FileBudget`:
a time limit that grows with the file's size, a limit on how far the process's
resident memory may grow while the file is worked on, and the run's cancel
token. The work calls `checkpoint()` inside its long loops (lines, pages, rows,
pieces of a long sentence); outside a budget it costs one attribute lookup.

Code that cannot reach a checkpoint (a library parsing one huge PDF page) is
stopped by a `Watchdog` thread, which raises the same exception inside the
working thread at its next Python instruction (CPython's async exceptions).
A call into C that never returns cannot be stopped this way; the limits on
archive members and file sizes keep such calls short.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from contextlib import contextmanager
from collections.abc import Iterator

from engine.errors import Cancelled, ParseError

FILE_SECONDS = 120.0  # every file may take this long to read and chunk ...
FILE_SECONDS_PER_MB = 6.0  # ... and this much more per MB of its size
FILE_MEMORY = 400 * 1024 * 1024  # growth of resident memory while one file is worked on

_RSS_EVERY = 0.05  # seconds between two reads of the resident size


class FileBudgetExceeded(ParseError):
    """A file took longer or needed more memory than one file may."""


def rss_bytes() -> int | None:
    """This process's resident memory now, or None where the system does not say."""
    return _rss()


def _rss_linux() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _rss_windows() -> int | None:  # pragma: no cover - Windows only
    if sys.platform != "win32":   # where ctypes has no windll
        return None
    class Counters(ctypes.Structure):
        _fields_ = [("cb", ctypes.c_ulong), ("PageFaultCount", ctypes.c_ulong),
                    ("PeakWorkingSetSize", ctypes.c_size_t), ("WorkingSetSize", ctypes.c_size_t),
                    ("QuotaPeakPagedPoolUsage", ctypes.c_size_t), ("QuotaPagedPoolUsage", ctypes.c_size_t),
                    ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t), ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
                    ("PagefileUsage", ctypes.c_size_t), ("PeakPagefileUsage", ctypes.c_size_t)]

    counters = Counters()
    counters.cb = ctypes.sizeof(counters)
    try:
        process = ctypes.windll.kernel32.GetCurrentProcess()
        if ctypes.windll.psapi.GetProcessMemoryInfo(process, ctypes.byref(counters), counters.cb):
            return int(counters.WorkingSetSize)
    except (AttributeError, OSError):
        pass
    return None


def _rss_none() -> int | None:
    return None


if sys.platform.startswith("linux"):
    _PAGE = os.sysconf("SC_PAGE_SIZE")
    _rss = _rss_linux
elif sys.platform == "win32":  # pragma: no cover
    _rss = _rss_windows
else:  # macOS reports only the peak cheaply: the time limit alone guards there
    _rss = _rss_none


class FileBudget:
    """The limits of one file; `check` raises once one of them is passed."""

    def __init__(self, size: int = 0, cancel=None, seconds: float | None = None,
                 memory: int | None = FILE_MEMORY) -> None:
        self.cancel = cancel
        self.seconds = seconds if seconds is not None else FILE_SECONDS + FILE_SECONDS_PER_MB * size / 1e6
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds
        self.memory = memory
        self.base = rss_bytes() if memory else None
        self.peak = self.base or 0
        self._next_rss = 0.0
        self.problem: BaseException | None = None  # the first limit passed, with its message

    def over(self) -> BaseException | None:
        """What stops the file now: Cancelled, FileBudgetExceeded, or None."""
        if self.problem is None:
            self.problem = self._over()
        return self.problem

    def _over(self) -> BaseException | None:
        if self.cancel is not None and self.cancel.cancelled:
            return Cancelled("Cancelled.")
        now = time.monotonic()
        if now > self.deadline:
            return FileBudgetExceeded(
                f"reading the file took too long (more than {self.seconds:.0f} s); it was left out")
        if self.base is not None and self.memory and now >= self._next_rss:
            self._next_rss = now + _RSS_EVERY
            rss = rss_bytes()
            if rss is not None:
                self.peak = max(self.peak, rss)
                if rss - self.base > self.memory:
                    return FileBudgetExceeded(
                        f"reading the file needed too much memory (more than {self.memory // 2**20} MB); "
                        "it was left out")
        return None

    def reason(self, exc: BaseException) -> str:
        """The message for `exc`; one raised by the watchdog comes without its own."""
        return str(exc) or str(self.problem or "") or "reading the file was stopped"

    def check(self) -> None:
        problem = self.over()
        if problem is not None:
            raise problem


_local = threading.local()


def extend(seconds: float) -> None:
    """Give the file being worked on in this thread more time: work that is known to be slow
    and measured in pages (OCR) earns its time page by page, so a long scan is not cut off."""
    budget = getattr(_local, "budget", None)
    if budget is not None and budget.problem is None:
        budget.deadline += seconds
        budget.seconds += seconds


def checkpoint() -> None:
    """Raise if the file being worked on in this thread is cancelled or over its budget."""
    budget = getattr(_local, "budget", None)
    if budget is not None:
        budget.check()


@contextmanager
def file_budget(budget: FileBudget, watchdog: Watchdog | None = None) -> Iterator[FileBudget]:
    """Work on one file under `budget` in this thread (and under `watchdog`, if given)."""
    previous = getattr(_local, "budget", None)
    _local.budget = budget
    if watchdog is not None:
        watchdog.arm(budget)
    try:
        yield budget
    finally:
        _local.budget = previous  # first: the watchdog may still fire inside disarm()
        if watchdog is not None:
            watchdog.disarm()


class Watchdog:
    """Stops one thread's file that is past its budget but reaches no checkpoint.

    It raises the budget's exception inside the thread that armed it, a grace
    period after the limit passed (so a thread that checks on its own stops
    itself first), and again each grace period after while the thread stays
    armed (a library may swallow the first one). Arming and disarming take a
    lock that firing takes too, so once `disarm` has returned nothing more is
    fired at the thread.
    """

    GRACE = 0.5  # seconds after a limit passed

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._budget: FileBudget | None = None
        self._thread_id: int | None = None
        self._next: float | None = None  # when to fire at the armed thread
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bunko-file-watchdog", daemon=True)
        self._thread.start()

    def arm(self, budget: FileBudget) -> None:
        with self._lock:
            self._budget, self._thread_id, self._next = budget, threading.get_ident(), None

    def disarm(self) -> None:
        with self._lock:
            self._budget = self._thread_id = None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                budget = self._budget
                if budget is None:
                    continue
                problem = budget.over()
                if problem is None:
                    continue
                now = time.monotonic()
                if self._next is None:
                    self._next = now + self.GRACE
                elif now >= self._next:
                    _raise_in(self._thread_id, type(problem))
                    self._next = now + self.GRACE


def _raise_in(thread_id: int | None, exc_type: type[BaseException]) -> None:
    if thread_id is None:
        return
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type))
    if done > 1:  # never expected: undo rather than hit several threads
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)
