"""Which model answers and why (the first-run guide, the empty chat, the Models page), and the
catalog model recommended for a machine: a real registry on a real DuckDB file, the built-in SmolLM2."""

from __future__ import annotations

import dataclasses

import pytest

from engine.bench.hub_server import write_test_gguf
from engine.chat.routing import model_advice
from engine.llm import fit
from engine.models.registry import SMOLLM2_NAME, ModelRegistry
from engine.store import open_store


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BUNKO_DEFAULT_MODEL", SMOLLM2_NAME)
    store = open_store(tmp_path / "b.duckdb")
    yield ModelRegistry(store)
    store.close()


def rows_for(machine: fit.Machine) -> list[dict]:
    return fit.catalog_rows(machine)


SMALL = fit.Machine(ram_total=8_000_000_000, ram_available=6_000_000_000, cpu_bandwidth=20e9)


def test_the_recommendation_fits_is_japanese_and_fast_enough_to_read():
    small = fit.recommend(rows_for(SMALL))
    assert small.fits and "ja" in small.languages and small.default
    assert small.tokens_per_s >= fit.USABLE_TOKENS_PER_S
    gpu = dataclasses.replace(SMALL, ram_total=64_000_000_000, ram_available=60_000_000_000,
                              gpu_free=24 * 1024 ** 3, gpu_name="test", cuda=True)
    big = fit.recommend(rows_for(gpu))
    assert big.params_b > small.params_b and big.where == "GPU"   # a GPU affords a larger model
    slow = dataclasses.replace(SMALL, cpu_bandwidth=2e9)  # nothing reads along: the fastest that fits
    fitting = [r for r in rows_for(slow) if r.fits and r.default]
    assert fit.recommend(rows_for(slow)).tokens_per_s == max(r.tokens_per_s for r in fitting)
    tiny = fit.Machine(ram_total=200_000_000, ram_available=100_000_000, cpu_bandwidth=20e9)
    assert fit.recommend(rows_for(tiny)) is None


def test_the_default_that_writes_no_japanese_is_named_with_its_reason(registry, tmp_path):
    advice = model_advice(registry, None, rows_for(SMALL))
    assert advice.model == SMOLLM2_NAME and advice.reason == "no-japanese"
    assert not advice.japanese_ready and advice.recommended.fits

    path = write_test_gguf(tmp_path / "ja-Q4_K_M.gguf", 64 * 1024)
    registry.add(path, "ja-model")
    registry.set_origin("ja-model", {"languages": ["ja", "en"]})
    advice = model_advice(registry, None, [])
    assert advice.reason == "routed" and advice.japanese_model == "ja-model" and advice.japanese_ready
    assert advice.recommended is None

    loaded = model_advice(registry, "ja-model", [])
    assert loaded.reason == "loaded" and loaded.japanese and loaded.japanese_model is None
