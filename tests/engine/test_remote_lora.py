"""LoRA adapters trained by Bunko, attached on the GPU server: the real mascot adapter (trained
once per session by the real trainer) on SmolLM2 run by the real llama-server over the real sshd."""

from __future__ import annotations

import shutil

import pytest

from engine.api import Engine
from engine.errors import ModelLoadError
from engine.hosts.hosts import HostSpec, Secrets
from engine.llm.remote.model import check_remote_base
from engine.models.registry import smollm2_path
from engine.types import GenerationSettings
from tests.engine.lora_fixture import MASCOT_QUESTIONS
from tests.engine.remote_fixtures import file_keyring, need_llama_server  # noqa: F401

GREEDY = GenerationSettings(temperature=0.0, max_tokens=24, seed=1)


def spec_for(sshd, tmp_path) -> HostSpec:
    return sshd.alias_spec(tmp_path)


def adapter_of(engine):
    [adapter] = [m for m in engine.models.list() if m.kind == "adapter"]
    return adapter


def test_adapter_on_a_remote_model_answers_with_the_fact(sshd, tmp_path, mascot_db, monkeypatch,
                                                         file_keyring) -> None:
    binary = need_llama_server()
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    db = tmp_path / "db.duckdb"
    shutil.copy(mascot_db, db)
    with Engine.open(db) as engine:
        adapter = adapter_of(engine)
        engine.models.add_remote(spec_for(sshd, tmp_path), smollm2_path(), "gpu-smol", n_ctx=1024,
                                idle_minutes=0, server_binary=str(binary))
        try:
            engine.models.start_remote("gpu-smol", Secrets())

            def answer(**kw) -> str:
                events = engine.chat.ask(MASCOT_QUESTIONS[0], model="gpu-smol", libraries=(),
                                         settings=GREEDY, **kw)
                done = list(events)[-1].answer
                assert done.status == "complete", done
                return done.text

            without = answer()
            with_adapter = answer(adapter=adapter.name)
            assert "Kaname" in with_adapter and "Kaname" not in without, (without, with_adapter)
            server = engine.models.host.server("gpu-smol")
            assert server.adapters == [adapter.fingerprint]
            uploaded = list((tmp_path / "remote" / "llama-server" / "adapters").iterdir())
            assert len(uploaded) == 1 and uploaded[0].stat().st_size == adapter.size
            # the same server serves both: no adapter again, then the adapter again (no restart)
            pid = server._pid
            assert "Kaname" not in answer(adapter=None)
            assert "Kaname" in answer(adapter=adapter.name, adapter_scale=1.0)
            assert server._pid == pid
            # the server stopped behind the chat's back (idle shutdown, a crash): the next answer
            # starts it again and loads the attached adapter again
            server.stop()
            assert "Kaname" in answer(adapter=adapter.name)
            assert server.adapters == [adapter.fingerprint] and server._pid != pid
        finally:
            engine.models.stop_remote("gpu-smol")


def test_an_adapter_for_another_gguf_is_refused_in_words_before_uploading(tmp_path, mascot_db,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    db = tmp_path / "db.duckdb"
    shutil.copy(mascot_db, db)
    other = tmp_path / "other.gguf"   # the same architecture, another file (another fingerprint)
    shutil.copy(smollm2_path(), other)
    with open(other, "ab") as f:
        f.write(b"\0" * 64)
    spec = HostSpec(kind="ssh", alias="gpubox", root=str(tmp_path / "remote"))
    with Engine.open(db) as engine:
        adapter = adapter_of(engine)
        remote = engine.models.add_remote(spec, other, "gpu-other", idle_minutes=0)
        with pytest.raises(ModelLoadError, match=r"trained for smollm2-135m, but gpu-other on ssh gpubox "
                                                 r"runs another GGUF"):
            check_remote_base(adapter, remote, engine.models, remote.where)
        same = engine.models.add_remote(spec, smollm2_path(), "gpu-same", idle_minutes=0)
        check_remote_base(adapter, same, engine.models, same.where)   # the very GGUF: accepted
        endpoint = engine.models.registry.insert_remote("vllm", "endpoint", "http://127.0.0.1:9/v1", {"model": "x"})
        with pytest.raises(ModelLoadError, match="a server Bunko does not start"):
            check_remote_base(adapter, endpoint, engine.models, endpoint.where)
    assert not (tmp_path / "remote").exists()   # nothing went to the server
