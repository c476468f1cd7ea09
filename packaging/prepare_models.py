"""Build the default embedding model once and copy the SmolLM2 GGUF, for the bundle.

    python packaging/prepare_models.py build/bundle-extra/models

The packaged program then never builds the embedder on the user's machine: the engine
finds these under models/ in its bundle (engine.paths.bundled_model).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.embed import default_embedder_dir, load_embedder  # noqa: E402
from engine.models.registry import SMOLLM2_FILE, smollm2_path  # noqa: E402


def main() -> int:
    cache = Path(sys.argv[1])
    cache.mkdir(parents=True, exist_ok=True)
    embedder = load_embedder(None, cache_dir=cache)
    folder = default_embedder_dir(cache)
    for stray in folder.glob(".*"):  # the digest cache is keyed by mtime: useless once unpacked
        stray.unlink()
    print(f"embedder {embedder.model_id} in {folder}")
    src, dest = smollm2_path(), cache / SMOLLM2_FILE
    if not dest.is_file() or dest.stat().st_size != src.stat().st_size:
        shutil.copy2(src, dest)
    print(f"chat model {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
