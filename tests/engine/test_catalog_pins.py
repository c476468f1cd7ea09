"""The catalog never lets a download trust the hub silently: every entry is pinned (a commit, and
each file's sha256 and exact size) or declared `unverified`, which is refused unless the user
asks; repo, revision and file values are plain names, never paths or URLs. Downloads use the
real huggingface_hub client against a hub-layout server on loopback. This file is the CI check
of resources/catalog.toml."""

from __future__ import annotations

import dataclasses

import pytest

from engine.bench.hub_server import COMMIT
from engine.errors import DownloadCheckError, ModelError, UnverifiedModelError
from engine.models import catalog as cat
from engine.models.download import download
from tests.engine.test_download import REPO, entry, gets, gguf_file, hub, registry, sha  # noqa: F401 - fixtures

ENTRY = '''[[model]]
id = "{id}"
name = "X"
repo = "{repo}"
revision = "{revision}"
licence = "Apache-2.0"
languages = ["ja"]
params_b = 1.0
context = 256
{extra}
files = [{{ quant = "Q4_K_M", file = "{file}", size = 10, size_exact = true, sha256 = "{sha}" }}]
'''
GOOD = dict(id="x", repo="owner/name-GGUF", revision="ab" * 20, file="x-Q4_K_M.gguf", sha="cd" * 32, extra="")


def load(tmp_path, **changes):
    path = tmp_path / "catalog.toml"
    path.write_text(ENTRY.format(**{**GOOD, **changes}), encoding="utf-8")
    return cat.load_catalog(path)


def test_the_shipped_catalog_is_pinned_or_declares_what_is_not() -> None:
    models = cat.load_catalog()
    pinned = [m for m in models if all(m.trusted(f.quant) for f in m.files)]
    for m in models:
        assert m in pinned or m.unverified, m.id
        assert cat.REPO_NAME.fullmatch(m.repo) and all(cat.FILE_NAME.fullmatch(f.file) for f in m.files)
    assert {"qwen2.5-1.5b-instruct", "qwen2.5-3b-instruct", "qwen2.5-7b-instruct"} <= {m.id for m in pinned}
    for m in pinned:
        assert m.pinned and all(len(f.sha256) == 64 and f.size_exact and f.size > 10**8 for f in m.files)


def test_a_pinned_entry_loads(tmp_path) -> None:
    (m,) = load(tmp_path)
    assert m.trusted() and not m.unverified


@pytest.mark.parametrize("field, value", [
    ("repo", "../etc"), ("repo", "owner/../../x"), ("repo", "/abs/path"), ("repo", "https://evil.example/x"),
    ("repo", "owner/name?download=1"), ("repo", "owner/name/extra"), ("repo", "owner\\\\name"),
    ("file", "../../.bashrc.gguf"), ("file", "sub/x.gguf"), ("file", "/tmp/x.gguf"), ("file", "x.gguf?x=1"),
    ("file", "C:\\\\x.gguf"), ("file", "x.bin"), ("file", "..gguf"),
    ("revision", "../main"), ("revision", "main/../../x"), ("revision", "refs%2Fpr%2F1"), ("id", "../x"),
])
def test_names_that_are_not_plain_are_refused(tmp_path, field, value) -> None:
    with pytest.raises(ModelError, match="plain|neither a commit"):
        load(tmp_path, **{field: value})


def test_an_entry_neither_pinned_nor_declared_is_refused(tmp_path) -> None:
    with pytest.raises(ModelError, match="neither pinned"):
        load(tmp_path, revision="main")
    (m,) = load(tmp_path, revision="main", extra="unverified = true")
    assert m.unverified and not m.trusted()


def test_an_unverified_entry_is_not_downloaded_unless_asked(hub, registry, gguf_file) -> None:  # noqa: F811
    with pytest.raises(UnverifiedModelError, match="--allow-unverified"):
        download(registry, entry(gguf_file, unverified=True), endpoint=hub.endpoint)
    assert hub.requests == [] and registry.list() == []
    assert download(registry, entry(gguf_file, unverified=True), endpoint=hub.endpoint, allow_unverified=True)


def test_a_pinned_entry_downloads_from_its_commit_and_checks_its_own_values(hub, registry, gguf_file) -> None:  # noqa: F811
    f = cat.CatalogFile("Q4_K_M", gguf_file.name, gguf_file.stat().st_size, sha(gguf_file), size_exact=True)
    pinned = entry(gguf_file, revision=COMMIT, files=(f,))
    assert pinned.trusted()
    model = download(registry, pinned, endpoint=hub.endpoint)
    assert [r[1] for r in gets(hub)] == [f"/{REPO}/resolve/{COMMIT}/{gguf_file.name}"]
    assert registry.origin(model.name)["source"]["sha256"] == sha(gguf_file)
    # the hub now serves other bytes than the pinned ones: nothing is downloaded
    other = dataclasses.replace(pinned, id="other", files=(dataclasses.replace(f, sha256="ef" * 32),))
    with pytest.raises(DownloadCheckError):
        download(registry, other, endpoint=hub.endpoint)


def test_the_cli_refuses_an_unverified_entry_in_words(tmp_path, monkeypatch, capsys) -> None:
    from engine.cli.commands import main as cli_main

    path = tmp_path / "catalog.toml"
    path.write_text(ENTRY.format(**{**GOOD, "revision": "main", "extra": "unverified = true"}), encoding="utf-8")
    monkeypatch.setattr(cat, "catalog_path", lambda: path)
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    code = cli_main(["--db", str(tmp_path / "b.duckdb"), "models", "download", "x", "--endpoint", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code != 0 and "not pinned" in err and "--allow-unverified" in err
