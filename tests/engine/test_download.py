"""Catalog downloads with the real huggingface_hub client against a hub-layout server on 127.0.0.1,
and imports from a folder, with their faults: cut connections, wrong hashes, 401, 404, a full disk."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from engine import paths
from engine.bench.hub_server import COMMIT, HubServer, write_test_gguf
from engine.cancel import CancelToken
from engine.errors import (Cancelled, DiskFullError, DownloadCheckError, HubAccessError, HubNotFoundError,
                           HubUnreachableError, ModelError, ModelFileError)
from engine.llm import fit
from engine.models import catalog as cat
from engine.models.download import download, fetch
from engine.models.model_import import import_models
from engine.models.registry import ModelRegistry
from engine.store import open_store

MiB = 1024 * 1024
REPO = "bunko-test/tiny-GGUF"


@pytest.fixture(scope="module")
def gguf_file(tmp_path_factory) -> Path:
    return write_test_gguf(tmp_path_factory.mktemp("hub") / "tiny-Q4_K_M.gguf", 12 * MiB)


@pytest.fixture
def hub(gguf_file, monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with HubServer() as server:
        server.add(REPO, gguf_file)
        yield server


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    store = open_store(tmp_path / "b.duckdb")
    yield ModelRegistry(store)
    store.close()


def entry(gguf_file: Path, **changes) -> cat.CatalogModel:
    f = cat.CatalogFile("Q4_K_M", gguf_file.name, gguf_file.stat().st_size)
    model = cat.CatalogModel(id="tiny", name="Tiny", repo=REPO, revision="main", licence="Apache-2.0",
                             languages=("ja", "en"), params_b=0.003, context=256, files=(f,), default_quant="Q4_K_M",
                             arch="llama", layers=1, embd=64, heads=4, kv_heads=4, vocab=100)
    return dataclasses.replace(model, **changes)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def gets(hub: HubServer) -> list[tuple[str, str, str | None]]:
    return [r for r in hub.requests if r[0] == "GET"]


def test_download_registers_the_model_with_languages_and_licence(hub, registry, gguf_file):
    seen = []
    model = download(registry, entry(gguf_file), endpoint=hub.endpoint, progress=seen.append, allow_unverified=True)
    assert model.name == "tiny-q4_k_m"
    assert Path(model.path).read_bytes() == gguf_file.read_bytes()
    assert Path(model.path).is_relative_to(paths.models_dir())
    origin = registry.origin(model.name)
    assert origin["languages"] == ["ja", "en"] and origin["licence"] == "Apache-2.0"
    # The catalog says "main"; the commit the hub reported is recorded, and the bytes came from it.
    assert origin["source"]["revision"] == "main" and origin["source"]["commit"] == COMMIT
    assert [r[1] for r in gets(hub)] == [f"/{REPO}/resolve/{COMMIT}/{gguf_file.name}"]
    assert origin["source"]["sha256"] == sha(gguf_file)
    listed = registry.get(model.name)  # the catalog's languages route Japanese questions to it
    assert listed.languages == ("ja", "en") and listed.japanese and listed.license == "Apache-2.0"
    assert seen[-1].done == gguf_file.stat().st_size and seen[-1].total == seen[-1].done
    assert not list((Path(model.path).parent / ".partial").iterdir())
    # Asked again: nothing is fetched twice, the same entry comes back.
    before = len(gets(hub))
    assert download(registry, entry(gguf_file), endpoint=hub.endpoint, allow_unverified=True).id == model.id
    assert len(gets(hub)) == before


def test_a_cut_connection_resumes_with_a_range_request_keeping_every_byte(hub, registry, gguf_file):
    # The server drops the connection at an offset that is not a multiple of any chunk size;
    # every byte that arrived before it is kept, and the client asks for the rest.
    served = hub.add(REPO, gguf_file, cut_after=3 * MiB + 12345)
    model = download(registry, entry(gguf_file), endpoint=hub.endpoint, allow_unverified=True)
    assert sha(Path(model.path)) == sha(gguf_file)
    assert served.cut_at == 3 * MiB + 12345
    ranges = [r[2] for r in gets(hub)]
    assert ranges == [None, f"bytes={served.cut_at}-"]


def test_a_download_stopped_midway_resumes_on_the_next_try(hub, tmp_path, gguf_file):
    cancel = CancelToken()
    seen = []

    def stop_midway(p):
        seen.append(p.done)
        if p.done >= 4 * MiB:
            cancel.cancel()

    with pytest.raises(Cancelled):
        fetch(REPO, gguf_file.name, "main", tmp_path, endpoint=hub.endpoint, progress=stop_midway, cancel=cancel)
    partial = list((tmp_path / ".partial").iterdir())
    assert len(partial) == 1
    kept = partial[0].stat().st_size
    assert 0 < kept < gguf_file.stat().st_size
    assert partial[0].read_bytes() == gguf_file.read_bytes()[:kept]  # what was kept is the file's start
    got = fetch(REPO, gguf_file.name, "main", tmp_path, endpoint=hub.endpoint)
    assert got.resumed_from == kept and sha(got.path) == sha(gguf_file)
    assert gets(hub)[-1][2] == f"bytes={kept}-"


def test_the_hub_clients_chunk_size_is_restored_after_a_download(hub, tmp_path, gguf_file):
    from huggingface_hub import constants

    before = constants.DOWNLOAD_CHUNK_SIZE
    fetch(REPO, gguf_file.name, "main", tmp_path, endpoint=hub.endpoint)
    assert constants.DOWNLOAD_CHUNK_SIZE == before


def test_a_file_whose_bytes_do_not_match_its_hash_is_deleted(hub, registry, gguf_file):
    hub.add(REPO, gguf_file, claim_sha256="ab" * 32)  # a mirror that serves other bytes than it announces
    with pytest.raises(DownloadCheckError, match="sha256"):
        download(registry, entry(gguf_file), endpoint=hub.endpoint, allow_unverified=True)
    folder = paths.models_dir() / "hub" / REPO.replace("/", "--")
    assert not (folder / gguf_file.name).exists()
    assert not list((folder / ".partial").iterdir())
    assert registry.list() == []


def test_a_catalog_hash_that_the_hub_contradicts_stops_before_downloading(hub, registry, gguf_file):
    wrong = entry(gguf_file)
    wrong = dataclasses.replace(wrong, files=(dataclasses.replace(wrong.files[0], sha256="cd" * 32),))
    with pytest.raises(DownloadCheckError, match="different"):
        download(registry, wrong, endpoint=hub.endpoint, allow_unverified=True)
    assert gets(hub) == []


def test_a_gated_repository_says_how_to_get_access(hub, registry, gguf_file):
    hub.add(REPO, gguf_file, gated=True)
    with pytest.raises(HubAccessError, match="HF_TOKEN") as info:
        download(registry, entry(gguf_file), endpoint=hub.endpoint, allow_unverified=True)
    assert "gated" in str(info.value) and info.value.__cause__ is not None


def test_a_missing_file_or_repository_says_the_catalog_is_out_of_date(hub, registry, gguf_file):
    gone = entry(gguf_file)
    gone = dataclasses.replace(gone, files=(dataclasses.replace(gone.files[0], file="other.gguf"),))
    with pytest.raises(HubNotFoundError, match="other.gguf is not in"):
        download(registry, gone, endpoint=hub.endpoint, allow_unverified=True)
    with pytest.raises(HubNotFoundError, match="repository nobody/nothing is not"):
        download(registry, entry(gguf_file, repo="nobody/nothing"), endpoint=hub.endpoint, allow_unverified=True)


def test_an_unreachable_hub_or_a_refusing_proxy_is_named(registry, gguf_file, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(HubUnreachableError, match="Cannot reach") as info:
        download(registry, entry(gguf_file), endpoint=dead, allow_unverified=True)
    assert "bunko models import" in str(info.value)
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("NO_PROXY", "")
    with pytest.raises(HubUnreachableError, match="proxy"):
        download(registry, entry(gguf_file), endpoint="http://127.0.0.2:9", allow_unverified=True)


def test_not_enough_disk_space_is_refused_before_writing(hub, registry, gguf_file):
    with pytest.raises(DiskFullError, match="Not enough disk space"):
        download(registry, entry(gguf_file), endpoint=hub.endpoint, free=lambda folder: 5 * MiB, allow_unverified=True)
    assert gets(hub) == []


def test_a_disk_that_fills_up_midway_removes_the_partial_file(hub, tmp_path, gguf_file):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        with pytest.raises(DiskFullError, match="filled up"):
            fetch(REPO, gguf_file.name, "main", mount, endpoint=hub.endpoint, free=lambda folder: 1 << 40)
        assert not list((mount / ".partial").iterdir())
        assert not (mount / gguf_file.name).exists()
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_download_that_is_not_gguf_is_refused(hub, registry, tmp_path):
    text = tmp_path / "notes.gguf"
    text.write_bytes(b"<html>not a model</html>" * 1000)
    hub.add(REPO, text)
    with pytest.raises(DownloadCheckError, match="not a usable GGUF"):
        download(registry, entry(text), endpoint=hub.endpoint, allow_unverified=True)
    assert registry.list() == []


# -- imports ------------------------------------------------------------------------------
def test_import_a_folder_copies_checks_and_registers(registry, tmp_path, gguf_file):
    usb = tmp_path / "usb"
    (usb / "sub").mkdir(parents=True)
    shutil.copy(gguf_file, usb / "sub" / gguf_file.name)
    (usb / "broken.gguf").write_bytes(b"PK\x03\x04 a zip file")
    bad_hash = usb / "other.gguf"
    shutil.copy(gguf_file, bad_hash)
    (usb / "other.gguf.sha256").write_text("00" * 32 + "  other.gguf\n")
    catalog = [entry(gguf_file)]
    result = import_models(registry, usb, catalog=catalog)
    assert [m.name for m in result.added] == ["tiny-q4_k_m"]
    assert registry.origin("tiny-q4_k_m")["licence"] == "Apache-2.0"
    assert Path(result.added[0].path).is_relative_to(paths.models_dir())
    refused = dict(result.refused)
    assert "not a GGUF" in refused[str(usb / "broken.gguf")]
    assert "sha256" in refused[str(bad_hash)]
    leftovers = [p.name for p in (paths.models_dir() / "imported").iterdir()]
    assert leftovers == [gguf_file.name]


def test_import_of_a_single_file_that_is_not_gguf_raises(registry, tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text("hello")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        import_models(registry, fake, catalog=[])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no .gguf"):
        import_models(registry, empty, catalog=[])


# -- the catalog ------------------------------------------------------------------------
def test_the_shipped_catalog_loads_and_is_honest():
    models = cat.load_catalog()
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids)) >= 10
    assert {"qwen2.5-7b-instruct", "gemma-3-4b-it", "llm-jp-3-1.8b-instruct"} <= set(ids)
    for m in models:
        assert "ja" in m.languages and m.licence and m.files
        assert (all(m.trusted(f.quant) for f in m.files) and not m.unverified) or (m.unverified and m.revision == "main")


def test_a_broken_catalog_names_the_entry(tmp_path):
    bad = tmp_path / "catalog.toml"
    bad.write_text('[[model]]\nid = "x"\nname = "X"\n')
    with pytest.raises(ModelError, match="entry 1 \\(x\\)"):
        cat.load_catalog(bad)


def test_fit_follows_memory_and_gpu():
    model = cat.find("qwen2.5-7b-instruct")
    f = model.file("Q4_K_M")
    small = fit.Machine(ram_total=4_000_000_000, ram_available=3_000_000_000, cpu_bandwidth=20e9)
    big = fit.Machine(ram_total=32_000_000_000, ram_available=30_000_000_000, cpu_bandwidth=20e9)
    gpu = dataclasses.replace(big, gpu_free=24 * 1024 ** 3, gpu_name="test", cuda=True)
    half = dataclasses.replace(big, gpu_free=3 * 1024 ** 3, gpu_name="test", cuda=True)
    assert not fit.assess(model, f, small).fits
    on_cpu = fit.assess(model, f, big)
    assert on_cpu.fits and on_cpu.where == "CPU" and 1 < on_cpu.tokens_per_s < 5
    on_gpu = fit.assess(model, f, gpu)
    assert on_gpu.where == "GPU" and on_gpu.tokens_per_s > 10 * on_cpu.tokens_per_s
    split = fit.assess(model, f, half)
    assert split.where == "GPU+CPU" and 0 < split.gpu_layers < model.layers
    assert on_cpu.tokens_per_s < split.tokens_per_s < on_gpu.tokens_per_s


def test_the_writer_passes_a_full_disk_on_and_hashes_what_it_wrote(tmp_path):
    import errno
    import os

    from engine.models.hashing_writer import BATCH_BYTES, HashingWriter

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        sink = HashingWriter(fd, hashlib.sha256())
        with pytest.raises(OSError) as info:
            for _ in range(4 * BATCH_BYTES // (64 * 1024)):
                sink.write(b"x" * 64 * 1024)
            sink.close()
        assert info.value.errno == errno.ENOSPC
    finally:
        os.close(fd)
    pieces = [os.urandom(n) for n in (1, 70_000, 3 * MiB, 5 * MiB, 17)]
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        sink = HashingWriter(fd, hashlib.sha256())
        for piece in pieces:
            sink.write(piece)
        assert sink.tell() == sum(map(len, pieces))  # tell() writes out what is held first
        digest = sink.close()
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"".join(pieces)
    assert digest.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()
