"""Names another local user could take first are not used: the single-instance socket lives in a
folder only this user can enter (a /tmp/bunko-<uid> made by someone else, or opened to others,
is refused), and the theme's icon files go to a folder made with a random name."""

from __future__ import annotations

import os
import stat
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="named pipes and user folders on Windows")


def test_the_socket_is_in_a_private_folder(tmp_path, monkeypatch):
    from desktop.single_instance import key_for

    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    key = key_for(tmp_path / "bunko.duckdb")
    folder = os.path.dirname(key)
    st = os.lstat(folder)
    assert folder == str(tmp_path / f"bunko-{os.getuid()}") and stat.S_ISDIR(st.st_mode)
    assert st.st_uid == os.getuid() and not st.st_mode & 0o077


@pytest.mark.parametrize("planted", ["open_folder", "link"])
def test_a_folder_planted_under_the_name_is_not_used(tmp_path, monkeypatch, planted):
    from desktop.single_instance import SingleInstance, key_for

    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    name = tmp_path / f"bunko-{os.getuid()}"
    if planted == "open_folder":          # what another user's mkdir with 0777 looks like to us
        name.mkdir()
        name.chmod(0o777)
    else:                                 # a link to somewhere the planter controls
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        name.symlink_to(tmp_path / "elsewhere")
    key = key_for(tmp_path / "bunko.duckdb")
    assert key == ""
    instance = SingleInstance(key)
    assert not instance.notify_running(50) and not instance.listen()


def test_the_theme_icons_go_to_a_fresh_private_folder(qapp):
    from desktop.theme import icons

    path = icons.icon_file("chevron-down", "#123456")
    folder = os.path.dirname(path)
    assert os.path.basename(folder).startswith("bunko-theme-") and os.path.basename(folder) != \
        f"bunko-theme-{os.getuid()}"
    st = os.lstat(folder)
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077
    assert open(path, "rb").read().count(b"#123456")
