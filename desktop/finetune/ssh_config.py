"""The host aliases of ~/.ssh/config, to offer them in the wizard. ssh itself reads the
file when connecting; this only lists the `Host` names (wildcard patterns skipped)."""

from __future__ import annotations

from pathlib import Path


def ssh_hosts(path: Path | str | None = None) -> list[str]:
    path = Path(path) if path else Path.home() / ".ssh" / "config"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    names: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].replace("=", " ").split()
        if len(words) < 2 or words[0].lower() != "host":
            continue
        for name in words[1:]:
            if not any(ch in name for ch in "*?!") and name not in names:
                names.append(name)
    return names
