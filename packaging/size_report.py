"""Size breakdown of a built bundle: the archive, the folder, and its biggest items.

    python packaging/size_report.py dist/Bunko dist/Bunko-*.tar.gz [--build-seconds N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _size(path: Path) -> int:
    """Bytes on disk, not counting symbolic links (PyInstaller links libraries to their copies)."""
    if path.is_symlink():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def groups(bundle: Path) -> dict[str, int]:
    """Sizes by component: the top-level items of _internal, a few split further."""
    internal = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    out: dict[str, int] = {}
    for item in internal.iterdir():
        if item.name in ("PySide6", "models") and item.is_dir():
            for sub in item.iterdir():
                key = f"{item.name}/{sub.name}"
                if item.name == "PySide6" and sub.name == "Qt":
                    for qt in sub.iterdir():
                        out[f"PySide6/Qt/{qt.name}"] = _size(qt)
                else:
                    out[key] = _size(sub)
        else:
            out[item.name] = _size(item)
    for item in bundle.iterdir():
        if item.name != "_internal":
            out[item.name] = _size(item)
    return out


def _mb(n: int) -> str:
    return f"{n / 1e6:8.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("archive", nargs="?")
    parser.add_argument("--build-seconds", type=float)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json")
    args = parser.parse_args()
    bundle = Path(args.bundle)
    sizes = groups(bundle)
    total = sum(sizes.values())
    archive = Path(args.archive).stat().st_size if args.archive else None
    print(f"Bundle folder {bundle}: {_mb(total)} in {sum(1 for _ in bundle.rglob('*'))} files")
    if archive is not None:
        print(f"Archive {args.archive}: {_mb(archive)}")
    if args.build_seconds is not None:
        print(f"Build time: {args.build_seconds:.0f} s")
    print("Biggest items (uncompressed):")
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:args.top]:
        if size == 0:
            break
        print(f"  {_mb(size)}  {size / total:5.1%}  {name}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({
            "bundle_bytes": total, "archive_bytes": archive, "build_seconds": args.build_seconds,
            "items": dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:40])}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
