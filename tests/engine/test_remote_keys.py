"""Endpoint keys never go to the wrong server: they are filed per model (a random id), per data
profile and per address, so a model of the same name in another profile, after a reset or at
another server gets none; and a key never crosses the network in clear text. A real server on
loopback records the Authorization headers it is sent; the keyring is a real file keyring."""

from __future__ import annotations

import dataclasses
import time

import pytest

from engine.api import Engine
from engine.errors import EndpointError, ModelError
from engine.llm.remote import keys
from engine.llm.remote.open import open_endpoint
from engine.llm.remote.openai_http import OpenAIClient
from engine.types import GenerationSettings
from tests.engine import hostile_http
from tests.engine.remote_fixtures import file_keyring  # noqa: F401 - fixture

ASK = [{"role": "user", "content": "hi"}]


@pytest.fixture
def two_servers():
    one, url1 = hostile_http.start()
    two, url2 = hostile_http.start()
    yield url1, url2
    for s in (one, two):
        s.shutdown()
        s.server_close()


def ask(info) -> None:
    model = open_endpoint(info)
    list(model.generate(ASK, 8, GenerationSettings(max_tokens=8)))


def test_a_key_stays_in_its_profile(tmp_path, monkeypatch, file_keyring, two_servers) -> None:  # noqa: F811
    url1, url2 = two_servers
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "a"))
    with Engine.open(tmp_path / "a" / "bunko.duckdb") as a:
        a.models.add_endpoint(url1, "secret-of-a", name="gpt")
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "b"))
    with Engine.open(tmp_path / "b" / "bunko.duckdb") as b:
        info = b.models.add_endpoint(url2, None, name="gpt")     # the same name, no key
        assert keys.get_key(info) is None
        hostile_http.Hostile.seen_keys.clear()
        ask(info)
    assert hostile_http.Hostile.seen_keys == [None], "profile B sent a key it was never given"


def test_a_reset_database_does_not_inherit_a_key(tmp_path, monkeypatch, file_keyring, two_servers) -> None:  # noqa: F811
    url1, _ = two_servers
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "a"))
    db = tmp_path / "a" / "bunko.duckdb"
    with Engine.open(db) as a:
        old = a.models.add_endpoint(url1, "secret-of-a", name="gpt")
        assert keys.get_key(old) == "secret-of-a"
    for f in db.parent.glob("bunko.duckdb*"):
        f.unlink()                                           # the profile's database is made again
    with Engine.open(db) as again:
        fresh = again.models.add_endpoint(url1, None, name="gpt")   # same profile, name, address; no key
        assert fresh.remote["key_id"] != old.remote["key_id"]
        assert keys.get_key(fresh) is None
        hostile_http.Hostile.seen_keys.clear()
        ask(fresh)
    assert hostile_http.Hostile.seen_keys == [None]


def test_a_key_is_for_one_address_and_goes_with_the_model(tmp_path, monkeypatch, file_keyring,  # noqa: F811
                                                          two_servers) -> None:
    url1, url2 = two_servers
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "a"))
    with Engine.open(tmp_path / "a" / "bunko.duckdb") as a:
        info = a.models.add_endpoint(url1, "k1", name="gpt")
        hostile_http.Hostile.seen_keys.clear()
        ask(info)
        assert hostile_http.Hostile.seen_keys == ["Bearer k1"]
        moved = dataclasses.replace(info, path=url2)   # the same entry pointed at another server
        assert keys.get_key(moved) is None
        a.models.remove("gpt")
        assert keys.get_key(info) is None
        assert not any("k1" in line for line in open(file_keyring.file_path, encoding="utf-8"))


def test_a_failed_key_delete_is_reported(tmp_path, monkeypatch, file_keyring, two_servers) -> None:  # noqa: F811
    url1, _ = two_servers
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "a"))
    with Engine.open(tmp_path / "a" / "bunko.duckdb") as a:
        a.models.add_endpoint(url1, "k1", name="gpt")

        def locked(*_a):
            raise RuntimeError("the keyring is locked")
        monkeypatch.setattr(file_keyring, "delete_password", locked)
        with pytest.raises(ModelError, match="could not be deleted from the system keyring"):
            a.models.remove("gpt")
        assert "gpt" not in [m.name for m in a.models.list()]


def test_a_key_never_goes_over_plain_http_to_another_machine() -> None:
    started = time.monotonic()
    for url in ("http://192.0.2.10:8000/v1", "http://gpu.example:8000", "http://10.0.0.5/v1"):
        with pytest.raises(EndpointError, match="only over https"):
            OpenAIClient(url, "secret").models()
    assert time.monotonic() - started < 1, "it tried to connect first"
    # no scheme means https, so the key is never sent in clear text by accident
    assert OpenAIClient("gpu.example:8000", "secret").base_url == "https://gpu.example:8000/v1"
    # this computer itself is fine over http (llama-server through an SSH tunnel, bunko serve)
    for url in ("http://127.0.0.1:1/v1", "http://localhost:1", "http://[::1]:1"):
        assert OpenAIClient(url, "secret").key == "secret"
    # without a key, plain http to another machine is the user's choice
    assert OpenAIClient("http://10.0.0.5/v1").key is None


def test_an_endpoint_added_by_an_older_bunko_gets_no_key_by_its_name(tmp_path, monkeypatch,
                                                                     file_keyring, two_servers) -> None:  # noqa: F811
    url1, _ = two_servers
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "a"))
    file_keyring.set_password("bunko", "model:gpt", "someone-elses")   # how keys were filed before
    with Engine.open(tmp_path / "a" / "bunko.duckdb") as a:
        info = a.models.add_endpoint(url1, None, name="gpt")
        legacy = dataclasses.replace(info, remote={k: v for k, v in info.remote.items() if k != "key_id"})
        assert keys.get_key(legacy) is None and keys.get_key(info) is None


def test_without_any_keyring_a_model_without_a_key_is_removed_quietly(tmp_path, monkeypatch) -> None:
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    before = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "a"))
    try:
        with Engine.open(tmp_path / "a" / "bunko.duckdb") as a:
            a.models.registry.insert_remote("team", "endpoint", "https://llm.example/v1", {"model": "qwen"})
            a.models.remove("team")     # nothing was ever kept, so nothing failed to go
            assert "team" not in [m.name for m in a.models.list()]
    finally:
        keyring.set_keyring(before)
