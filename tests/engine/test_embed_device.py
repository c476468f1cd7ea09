"""Where the embedder runs and which graph: the choice logic with onnxruntime's provider
list faked (no GPU here), the fast graph against the exact one on the real model, and a
library that keeps the graph its vectors came from.

The CUDA path itself is not measured on this machine: only that it would be asked for,
and that a session which cannot start CUDA is reported as running on the CPU."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from engine.embed import OnnxEmbedder, device, load_embedder
from engine.errors import EmbedderError

CUDA_AND_CPU = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
CPU_ONLY = ["AzureExecutionProvider", "CPUExecutionProvider"]
EXACT_ID = "multilingual-e5-small@0123456789abcdef"
FAST_ID = "multilingual-e5-small+fast@fedcba9876543210"


@pytest.mark.parametrize("available, wanted, expected", [
    (CUDA_AND_CPU, "auto", ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    (CUDA_AND_CPU, "cuda", ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    (CUDA_AND_CPU, "cpu", ["CPUExecutionProvider"]),
    (CPU_ONLY, "auto", ["CPUExecutionProvider"]),
    (CPU_ONLY, "cpu", ["CPUExecutionProvider"]),
])
def test_providers_follow_what_onnxruntime_offers(available, wanted, expected) -> None:
    assert device.choose_providers(available, wanted) == expected


def test_asking_for_cuda_without_it_says_what_to_install() -> None:
    with pytest.raises(EmbedderError, match="onnxruntime-gpu"):
        device.choose_providers(CPU_ONLY, "cuda")
    with pytest.raises(EmbedderError, match="Unknown embedding device"):
        device.choose_providers(CPU_ONLY, "tpu")


@pytest.mark.parametrize("wanted, providers, libraries, expected", [
    ("auto", ["CPUExecutionProvider"], [], "fast"),  # a new setup on a CPU
    ("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"], [], "exact"),  # on a GPU
    ("auto", ["CPUExecutionProvider"], [EXACT_ID, None], "exact"),  # libraries made before
    ("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"], [FAST_ID], "fast"),
    ("auto", ["CPUExecutionProvider"], [EXACT_ID, FAST_ID], "exact"),
    ("fast", ["CPUExecutionProvider"], [EXACT_ID], "fast"),  # a choice made on purpose wins
    ("exact", ["CPUExecutionProvider"], [], "exact"),
])
def test_graph_follows_the_libraries(wanted, providers, libraries, expected) -> None:
    assert device.choose_graph(wanted, providers, libraries) == expected


def test_settings_come_from_the_environment_or_the_flags(monkeypatch) -> None:
    monkeypatch.setattr(device, "_defaults", {"device": None, "graph": None})
    monkeypatch.setenv("BUNKO_EMBED_GRAPH", "exact")
    monkeypatch.setenv("BUNKO_EMBED_DEVICE", "cpu")
    assert (device.wanted_graph(), device.wanted_device()) == ("exact", "cpu")
    device.set_defaults(graph="fast")
    assert device.wanted_graph() == "fast"


def test_cuda_listed_without_a_gpu_runs_the_cpu_graph(embedder_dir: Path, monkeypatch) -> None:
    """onnxruntime-gpu installed on a PC whose GPU does not answer: CUDA is asked for (faked
    here), the session falls back to the CPU, and the CPU's graph is used and reported."""
    monkeypatch.setattr(device, "available_providers", lambda: list(CUDA_AND_CPU))
    emb = load_embedder(embedder_dir, threads=1, graph="auto", device="auto")
    assert emb.providers == ["CPUExecutionProvider"]
    assert emb.graph == "fast"
    info = device.report(emb)
    assert info["chosen_providers"][0] == "CUDAExecutionProvider"
    assert info["embedder"]["device"] == "cpu" and info["embedder"]["graph"] == "fast"
    assert "fast graph on CPU" in "\n".join(device.report_lines(info))


@pytest.fixture(scope="module")
def exact_and_fast(embedder_dir: Path):
    return (load_embedder(embedder_dir, threads=2, graph="exact", device="cpu"),
            load_embedder(embedder_dir, threads=2, graph="fast", device="cpu"))


TEXTS = ["出張旅費規程　第３条　日当は一日につき二千円とする。", "How do I reset my password?",
         "就業規則の適用範囲は、正社員、契約社員およびパートタイマーとする。" * 6,
         "Researchers found that regular exercise improves memory in older adults. " * 12,
         "Mixed 日本語 and English text: API の rate limit は 100 req/s です。"]


@pytest.mark.slow
def test_fast_graph_is_close_to_the_exact_one(exact_and_fast) -> None:
    exact, fast = exact_and_fast
    assert exact.model_id.startswith("multilingual-e5-small@")
    assert fast.model_id.startswith("multilingual-e5-small+fast@") and fast.model_id != exact.model_id
    a, b = exact.embed_passages(TEXTS), fast.embed_passages(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cos = (a * b).sum(axis=1)
    # measured: 0.9987-0.9995 (the feed-forward output rounded per token; 0.995 before)
    assert cos.min() >= 0.998 and cos.mean() >= 0.9985, cos
    # still the same model: every text is nearest to its own exact vector
    assert ((b @ a.T).argmax(axis=1) == np.arange(len(TEXTS))).all()


@pytest.mark.slow
def test_fast_graph_batches_keep_order_and_mask_padding(exact_and_fast) -> None:
    _, fast = exact_and_fast
    together = fast.embed_passages(TEXTS, batch_size=5)
    alone = np.stack([fast.embed_passages([t])[0] for t in TEXTS])
    # DynamicQuantizeMatMul rounds a whole call's activations with one scale, so a text's
    # neighbours in its batch move its vector a little (measured: cosine 0.998 at worst)
    assert ((together * alone).sum(axis=1)).min() >= 0.997
    again = fast.embed_passages(TEXTS, batch_size=5)
    np.testing.assert_allclose(together, again, atol=1e-6)  # same batch, same vectors


def test_a_folder_without_the_graph_falls_back_to_exact(embedder_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        (folder / name).symlink_to(embedder_dir / name)
    config = (embedder_dir / "bunko-embedder.json").read_text(encoding="utf-8")
    (folder / "bunko-embedder.json").write_text(config.replace('"fast"', '"other"'), encoding="utf-8")
    emb = OnnxEmbedder(folder, threads=1, graph="fast")
    assert emb.graph == "exact" and "+fast" not in emb.model_id


@pytest.mark.slow
def test_a_library_keeps_its_graph_and_a_change_asks_first(embedder_dir: Path, exact_and_fast, tmp_path: Path,
                                                             monkeypatch, capsys) -> None:
    from engine.api import Engine
    from engine.cli.commands import main

    exact, _ = exact_and_fast
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 規程\n\n出張の日当は二千円とする。\n", encoding="utf-8")
    db = tmp_path / "lib.duckdb"
    with Engine.open(db, embedder_dir) as engine:  # a library made before the fast graph existed
        engine.searcher._embedder = exact
        engine.libraries.add(docs, "old")
        engine.libraries.index("old")
    monkeypatch.setattr(device, "_defaults", {"device": None, "graph": None})
    monkeypatch.delenv("BUNKO_EMBED_GRAPH", raising=False)
    with Engine.open(db, embedder_dir) as engine:  # auto follows the library: nothing to redo
        assert engine.searcher.embedder.graph == "exact" and engine.libraries.embedder_change("old") is None
        assert engine.search("日当", k=1, mode="dense")

    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)  # a script: the answer is no
    base = ["--db", str(db), "--embedder", str(embedder_dir), "--embed-graph", "fast"]
    assert main([*base, "index", "old", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--rebuild" in err and "multilingual-e5-small+fast@" in err
    with Engine.open(db, embedder_dir) as engine:
        assert "+fast" not in engine.libraries.get("old").embedder_id  # nothing was changed

    assert main([*base, "index", "old", "--quiet", "--yes"]) == 0
    with Engine.open(db, embedder_dir) as engine:
        assert "+fast@" in engine.libraries.get("old").embedder_id
        assert engine.searcher.embedder.graph == "fast"  # auto now follows the rebuilt library
        assert engine.search("日当", k=1, mode="dense")
    device.set_defaults(graph="auto")
