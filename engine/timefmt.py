"""How long things take and how big they are, written for people."""

from __future__ import annotations


def clock(seconds: float | None) -> str:
    """'1:05', '1:02:03', or '--:--' when unknown."""
    if seconds is None:
        return "--:--"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def size(n: float) -> str:
    """'1.2 GB' or '98 MB'."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"
