"""What happens on the GPU server itself, on the real sshd (loopback): the catalog GGUF
downloaded there from the local hub server (resumed, checked by size and sha256; a wrong
hash deletes it), and the idle watchdog that stops llama-server while Bunko is closed."""

from __future__ import annotations

import time

import pytest

from engine.api import Engine
from engine.errors import DownloadCheckError, DownloadError
from engine.hosts.connect import connect
from engine.hosts.hosts import HostSpec, Secrets
from engine.models import catalog as cat
from engine.models.registry import fingerprint, smollm2_path
from engine.llm.remote.server_download import download_on_server
from engine.types import GenerationSettings
from engine.bench.hub_server import COMMIT, HubServer
from engine.hashing import sha256_file
from tests.engine.remote_fixtures import file_keyring, need_llama_server  # noqa: F401

REPO = "bunko-test/smol"


def spec_for(sshd, tmp_path) -> HostSpec:
    return sshd.alias_spec(tmp_path)


@pytest.fixture(scope="module")
def hub():
    with HubServer() as server:
        server.add(REPO, smollm2_path(), "smol.gguf")
        yield server


def entry(sha: str, size: int) -> cat.CatalogModel:
    f = cat.CatalogFile("Q4_1", "smol.gguf", size, sha, size_exact=True)
    return cat.CatalogModel(id="smol", name="SmolLM2 135M", repo=REPO, revision=COMMIT, licence="Apache-2.0",
                            languages=("en",), params_b=0.135, context=2048, files=(f,), default_quant="Q4_1",
                            arch="llama", layers=30, embd=576, heads=9, kv_heads=3, vocab=49152)


@pytest.mark.parametrize("tool", ["python3", "curl"])
def test_download_on_the_server_resumes_and_checks(sshd, tmp_path, hub, tool) -> None:
    served = hub.files[(REPO, "smol.gguf")]
    host = connect(spec_for(sshd, tmp_path), tmp_path)
    folder = str(tmp_path / "remote" / "models")
    url = hub.url(REPO, "smol.gguf")
    try:
        # a wrong hash: the file is deleted there, and the words say so
        with pytest.raises(DownloadCheckError, match="does not match the catalog.*deleted there"):
            download_on_server(host, url, folder, served.size, "0" * 64, "gpubox", tool=tool)
        assert not list((tmp_path / "remote" / "models").glob("*.gguf*"))

        # cut mid-way: what came is kept, and the next run resumes with a Range request
        served.cut_after = 20 * 1024 * 1024
        with pytest.raises(DownloadError, match="broke off.*resumes"):
            download_on_server(host, url, folder, served.size, served.sha256, "gpubox", tool=tool)
        [part] = (tmp_path / "remote" / "models").glob("*.part")
        assert 0 < part.stat().st_size < served.size
        hub.requests.clear()
        said = []
        got = download_on_server(host, url, folder, served.size, served.sha256, "gpubox", said.append, tool=tool)
        assert any(r[2] and r[2].startswith("bytes=") and r[2] != "bytes=0-" for r in hub.requests)
        assert got.sha256 == served.sha256 and got.size == served.size
        assert got.fingerprint == fingerprint(smollm2_path())   # the same measure as the registry's
        assert (tmp_path / "remote" / "models" / f"{served.sha256}.gguf").stat().st_size == served.size
        assert any(p.phase == "download" and "downloading on gpubox" in p.message for p in said)
    finally:
        served.cut_after = None
        host.close()


def test_a_catalog_model_downloaded_on_the_server_answers(sshd, tmp_path, hub, monkeypatch,
                                                          file_keyring) -> None:
    binary = need_llama_server()
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    served = hub.files[(REPO, "smol.gguf")]
    catalog = [entry(served.sha256, served.size)]
    with Engine.open(tmp_path / "b.duckdb") as engine:
        said = []
        info = engine.models.add_remote(spec_for(sshd, tmp_path), None, "gpu-dl", n_ctx=1024, idle_minutes=0,
                                       server_binary=str(binary), catalog="smol", endpoint=hub.endpoint,
                                       catalog_list=catalog, secrets=Secrets(), progress=said.append)
        assert info.location == "ssh" and info.remote["server_file"].endswith(f"{served.sha256}.gguf")
        assert (info.size, info.fingerprint) == (served.size, fingerprint(smollm2_path()))
        assert info.chat_template and engine.models.registry.origin("gpu-dl")["catalog_id"] == "smol"
        try:
            state = engine.models.start_remote("gpu-dl", Secrets(), lambda p: said.append(p))
            assert state.offload.startswith("CPU")
            assert not any("uploading" in (p.message or "") for p in said)   # nothing came from this PC
            done = list(engine.chat.ask("Say hello.", model="gpu-dl", libraries=(),
                                        settings=GenerationSettings(temperature=0.0, max_tokens=8)))[-1].answer
            assert done.status == "complete" and done.text
        finally:
            engine.models.stop_remote("gpu-dl")


def test_idle_watchdog_stops_llama_server_while_bunko_is_closed(sshd, tmp_path, monkeypatch,
                                                                file_keyring) -> None:
    binary = need_llama_server()
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    with Engine.open(tmp_path / "b.duckdb") as engine:
        engine.models.add_remote(spec_for(sshd, tmp_path), smollm2_path(), "gpu-idle", n_ctx=1024,
                                idle_minutes=3 / 60, server_binary=str(binary))   # 3 seconds
        engine.models.start_remote("gpu-idle", Secrets())
        server = engine.models.host.server("gpu-idle")
        pid = server._pid
        # an answer longer than the idle time is not cut: a request in flight is use
        long = GenerationSettings(temperature=0.0, max_tokens=100, seed=1)
        t0 = time.monotonic()
        done = list(engine.chat.ask("Write a long story about a cat on a train.", model="gpu-idle",
                                    libraries=(), settings=long))[-1].answer
        assert done.status == "complete", done
        took = time.monotonic() - t0
    # Bunko is closed now (its own idle watcher gone with it): the server stops itself
    state = tmp_path / "remote" / "llama-server" / "run" / "gpu-idle.json"
    assert alive(pid) and state.exists()
    deadline = time.monotonic() + 30
    while (alive(pid) or state.exists()) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not alive(pid), "llama-server still runs after its idle time"
    assert not state.exists()   # the next start begins afresh
    log = (tmp_path / "remote" / "llama-server" / "run" / "gpu-idle.log").read_text()
    assert "bunko-watchdog: no request for" in log
    print(f"long answer took {took:.1f} s with a 3 s idle time")

    # in one session: stopped while idle, the next question starts it again
    with Engine.open(tmp_path / "b.duckdb") as engine:
        short = GenerationSettings(temperature=0.0, max_tokens=4, seed=1)
        first = list(engine.chat.ask("Hi.", model="gpu-idle", libraries=(), settings=short))[-1].answer
        pid = engine.models.host.server("gpu-idle")._pid
        assert first.status == "complete" and alive(pid)
        deadline = time.monotonic() + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not alive(pid)
        again = list(engine.chat.ask("Hi.", model="gpu-idle", libraries=(), settings=short))[-1].answer
        assert again.status == "complete" and again.text
        assert engine.models.host.server("gpu-idle")._pid != pid
        engine.models.stop_remote("gpu-idle")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"llama-server" in f.read()
    except OSError:
        return False


def test_cli_add_remote_download(sshd, tmp_path, monkeypatch, capsys) -> None:
    from engine.bench.hub_server import write_test_gguf
    from engine.cli import main as cli_main

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    small = write_test_gguf(tmp_path / "tiny.gguf", payload_bytes=1024 * 1024)
    digest = sha256_file(small).hexdigest()
    toml = tmp_path / "catalog.toml"
    toml.write_text(f'''[[model]]
id = "tiny"
name = "Tiny"
repo = "{REPO}"
revision = "{COMMIT}"
licence = "Apache-2.0"
languages = ["ja", "en"]
params_b = 0.003
context = 256
files = [{{ quant = "Q8_0", file = "tiny.gguf", size = {small.stat().st_size}, sha256 = "{digest}", size_exact = true }}]
''', encoding="utf-8")
    monkeypatch.setattr(cat, "catalog_path", lambda: toml)
    with HubServer() as hub:
        hub.add(REPO, small)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        db = str(tmp_path / "b.duckdb")
        common = ["--host", "gpubox", "--ssh-config", str(sshd.ssh_config), "--remote-dir", str(tmp_path / "remote"),
                  "--accept-host-key", sshd.host_key_fingerprint]
        assert cli_main(["--db", db, "models", "add-remote", "--download", "tiny", "--name", "gpu-tiny"] + common) == 0
    out = capsys.readouterr().out
    assert "Downloaded tiny on gpubox and checked its sha256" in out and "gpu-tiny" in out
    assert (tmp_path / "remote" / "llama-server" / "models" / f"{sha256_file(small).hexdigest()}.gguf").is_file()
    with Engine.open(db) as engine:
        info = engine.models.get("gpu-tiny")
        assert info.location == "ssh" and info.remote["catalog_id"] == "tiny" and info.size == small.stat().st_size
    # neither a file nor --download, or both: said in words
    assert cli_main(["--db", db, "models", "add-remote"] + common) != 0
    assert "either a .gguf file" in capsys.readouterr().err


def test_too_big_for_the_servers_gpu_is_said_with_numbers_before_downloading(sshd, tmp_path, hub, monkeypatch,
                                                                             file_keyring) -> None:
    """The sshd here has no GPU: a small one is reported in its place (nvidia-smi's answer)."""
    from engine.errors import ModelLoadError
    from engine.llm import gpu
    from engine.llm.remote import server_gpu

    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(server_gpu, "probe_gpu", lambda host: gpu.GpuInfo("Tiny GPU", 64 << 20, 16 << 20, "550", 1))
    served = hub.files[(REPO, "smol.gguf")]
    hub.requests.clear()
    with Engine.open(tmp_path / "b.duckdb") as engine:
        with pytest.raises(ModelLoadError, match=r"needs about 0.7 GB of GPU memory .* \(Tiny GPU\) has 0.0 GB free"):
            engine.models.add_remote(spec_for(sshd, tmp_path), None, "gpu-big", catalog="smol",
                                    endpoint=hub.endpoint, catalog_list=[entry(served.sha256, served.size)],
                                    secrets=Secrets())
        assert "gpu-big" not in [m.name for m in engine.models.list()]
    assert hub.requests == []   # nothing was downloaded
