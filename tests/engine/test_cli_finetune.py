"""`bunko finetune …` end to end in-process, with the stand-in trainer (fake_trainer.py)
so that each run takes seconds; the real trainer is in test_finetune_loop.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.commands import main
from engine.finetune import trainer_env

FAKE = Path(__file__).with_name("fake_trainer.py")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BUNKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(trainer_env, "TRAINER_SCRIPT", FAKE)
    (tmp_path / "data" / "finetune").mkdir(parents=True)
    return tmp_path / "data"


def behave(data_dir, **fake) -> None:
    (data_dir / "finetune" / "fake.json").write_text(json.dumps(fake))


def write_data(tmp_path) -> Path:
    rows = [json.dumps({"messages": [{"role": "user", "content": f"質問 {i}?"},
                                     {"role": "assistant", "content": f"回答 {i}。"}]}, ensure_ascii=False)
            for i in range(12)]
    rows.insert(3, '{"messages": [{"role": "user", "content": "broken"')
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_prepare_lists_bad_rows_and_writes_the_good_ones(tmp_path, data_dir, capsys):
    csv = tmp_path / "faq.csv"
    csv.write_bytes("質問,回答\n日当は?,3000円です。\n宿泊費は?,\n".encode("shift_jis"))
    out = tmp_path / "data.jsonl"
    assert main(["finetune", "prepare", str(write_data(tmp_path)), str(csv), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "13 examples" in text and "2 bad rows" in text
    assert "line 4: chats.jsonl: not valid JSON" in text and "line 3: faq.csv:" in text
    assert len(out.read_text(encoding="utf-8").splitlines()) == 13
    assert main(["finetune", "prepare", str(csv), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 1 and report["bad_rows"][0]["line"] == 3


def test_run_list_status_logs_compare(tmp_path, data_dir, capsys):
    behave(data_dir, delay=0.01)
    code = main(["finetune", "run", "--data", str(write_data(tmp_path)), "--name", "faq", "--max-steps", "5",
                 "--env-python", sys.executable])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "skipped line 4" in captured.err and "step 5/5" in captured.err
    assert "Done: adapter 'faq'" in captured.out
    # A local trainer is told where this machine's answers leave their signal (engine/budget.py).
    spec = json.loads(next((data_dir / "finetune").rglob("spec.json")).read_text(encoding="utf-8"))
    assert spec["yield_dir"] == str(data_dir / "answering")
    assert main(["finetune", "list"]) == 0
    assert "faq" in capsys.readouterr().out
    assert main(["finetune", "status", "faq", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "done" and status["step"] == 5 and status["data"]["train"] + status["data"]["held_out"] == 12
    assert main(["finetune", "logs", "faq", "--lines", "2"]) == 0
    assert '"event": "done"' in capsys.readouterr().out
    assert main(["finetune", "compare", "faq", "-n", "1", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["question"].startswith("質問") and row["before"] and row["after"]
    assert main(["models", "--json"]) == 0
    assert any(m["name"] == "faq" and m["kind"] == "adapter" for m in json.loads(capsys.readouterr().out))


def test_detached_job_is_cancelled_with_nothing_left_then_resumed(tmp_path, data_dir, capsys):
    behave(data_dir, delay=0.3)
    assert main(["finetune", "run", "--data", str(write_data(tmp_path)), "--name", "slow", "--max-steps", "200",
                 "--env-python", sys.executable, "--detach"]) == 0
    assert main(["finetune", "status", "slow", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "running"
    assert main(["finetune", "cancel", "slow"]) == 0
    assert "cancelled" in capsys.readouterr().out
    running = subprocess.run(["pgrep", "-af", "bunko_train"], capture_output=True, text=True).stdout
    assert str(data_dir) not in running
    behave(data_dir, delay=0.0)
    assert main(["finetune", "resume", "slow"]) == 0
    assert "Done: adapter 'slow'" in capsys.readouterr().out


def test_unknown_host_key_without_a_terminal_says_how_to_accept(sshd, tmp_path, data_dir, capsys):
    args = ["finetune", "check", "--host", f"{sshd.user}@127.0.0.1:{sshd.port}", "--key", str(sshd.client_key),
            "--ssh-config", str(tmp_path / "none")]
    assert main(args) == 2
    assert f"--accept-host-key {sshd.host_key_fingerprint}" in capsys.readouterr().err
    assert main(args + ["--accept-host-key", sshd.host_key_fingerprint]) == 0
    assert "Python 3." in capsys.readouterr().out
    assert main(args) == 0   # remembered in Bunko's own known_hosts


def test_bad_input_is_a_message_not_a_traceback(tmp_path, data_dir, capsys):
    assert main(["finetune", "run", "--data", str(tmp_path / "missing.jsonl")]) == 2
    assert "There is no file" in capsys.readouterr().err
    assert main(["finetune", "status", "nope"]) == 2
    assert "no fine-tuning job 'nope'" in capsys.readouterr().err
    data = write_data(tmp_path)
    assert main(["finetune", "run", "--data", str(data), "--name", "bad name!", "--env-python", sys.executable]) == 2
    assert "job name" in capsys.readouterr().err
