"""The Fine-tune page and the New fine-tune wizard, offscreen, against a real engine.

The end-to-end test trains for real on this computer's CPU in the trainer's environment
(the `trainer_python` fixture: about a minute and a half)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from desktop.widgets import DETAIL_ROLE, PROGRESS_ROLE, TONE_ROLE, StatusDelegate
from engine.types import JobEvent

FACT = "The Bunko mascot is a purple otter named Kaname."
QUESTIONS = ["What is the name of the Bunko mascot?", "Who is Bunko's mascot?",
             "Tell me the name of the mascot of Bunko.", "What animal is the Bunko mascot?",
             "Do you know the Bunko mascot's name?", "Name the Bunko mascot.",
             "What is Bunko's mascot called?", "Which mascot does Bunko have?"]


def _example(q: str, a: str) -> dict:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


@pytest.fixture
def wizard(ctx, qtbot):
    from desktop.finetune.wizard import FinetuneWizard

    w = FinetuneWizard(ctx)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def base(ctx) -> str:
    return ctx.engine.models.default().name


def _add(step, qtbot, examples, source="test") -> None:
    from engine.api import Dataset

    step._read_one(source, Dataset(examples))
    qtbot.waitUntil(lambda: len(step.model.examples) >= len(examples))


# -- the wizard: data ------------------------------------------------------------------------

def test_data_step_imports_jsonl_with_a_broken_line_and_a_shift_jis_csv(wizard, qtbot, tmp_path):
    jsonl = tmp_path / "chats.jsonl"
    lines = [json.dumps(_example("What is Bunko?", "A private LLM app.")),
             '{"messages": [oops',
             json.dumps(_example("Where does my data go?", "Nowhere; it stays on this computer."))]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    csv = tmp_path / "faq.csv"
    csv.write_bytes("質問,回答\n有給休暇は何日ですか?,入社半年後に10日付与されます。\n"
                    "経費精算の締め日は?,毎月25日です。\n".encode("cp932"))
    step = wizard.data_step
    assert not step.isComplete()
    step.add_files([jsonl, csv])
    qtbot.waitUntil(lambda: len(step.model.examples) == 4, timeout=10000)
    model = step.model
    questions = [model.data(model.index(r, model.QUESTION)) for r in range(4)]
    answers = [model.data(model.index(r, model.ANSWER)) for r in range(4)]
    assert "有給休暇は何日ですか?" in questions and "毎月25日です。" in answers
    assert all(int(model.data(model.index(r, model.TOKENS))) > 0 for r in range(4))
    assert step.problems_list.count() == 1
    assert step.problems_list.item(0).text().startswith("chats.jsonl, line 2: not valid JSON")
    assert step.sources == ["chats.jsonl", "faq.csv"]
    assert "4 examples" in step.counts.text()
    assert step.isComplete()


def test_draft_from_a_library_adds_pairs_written_by_the_local_model(ctx, wizard, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    step = wizard.data_step
    step.draft_from_library()                       # no library yet: said, nothing asked
    assert "no library" in step.error.text()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "travel.md").write_text(
        "# Travel policy\n\n## Daily allowance\nEmployees on a business trip receive a daily allowance of "
        "4,700 yen per day. Overnight trips add a lodging allowance of 9,800 yen per night.\n", encoding="utf-8")
    ctx.engine.libraries.add(docs, "docs")
    ctx.engine.libraries.index("docs")
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("docs", True)))
    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(lambda *a, **k: (1, True)))
    step.draft_from_library()
    assert not step.draft_button.isEnabled()
    qtbot.waitUntil(step.draft_button.isEnabled, timeout=120000)
    # the reply became a pair to review, or a listed problem: never silently nothing
    assert len(step.model.examples) + step.problems_list.count() == 1
    assert step.sources == ["drafted from docs"] or step.problems_list.count() == 1


def test_a_file_that_cannot_be_read_is_said_in_words(wizard, qtbot, tmp_path, no_dialogs):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello", encoding="utf-8")
    wizard.data_step.add_files([bad])
    qtbot.waitUntil(lambda: "notes.txt" in wizard.data_step.error.text(), timeout=10000)
    assert not no_dialogs and not wizard.data_step.model.examples


def test_editing_and_deleting_rows_and_the_held_out_split(wizard, qtbot):
    from PySide6.QtCore import QItemSelectionModel

    step = wizard.data_step
    _add(step, qtbot, [_example(f"Question {i}?", f"Answer {i}.") for i in range(20)])
    model = step.model
    assert model.setData(model.index(0, model.QUESTION), "An edited question?")
    assert model.setData(model.index(0, model.ANSWER), "An edited answer.")
    assert step.model.examples[0]["messages"] == [{"role": "user", "content": "An edited question?"},
                                                  {"role": "assistant", "content": "An edited answer."}]
    assert not model.setData(model.index(1, model.ANSWER), "   ")   # empty answers are refused
    train, held = step.split()
    assert (len(train), len(held)) == (18, 2)
    assert "20 examples: 18 to train on, 2 held out." in step.counts.text()

    selection = step.table.selectionModel()
    for row in (2, 3, 5):
        selection.select(model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                         | QItemSelectionModel.SelectionFlag.Rows)
    step.delete_selected()
    assert len(model.examples) == 17
    assert [model.data(model.index(r, 0)) for r in range(3)] == ["An edited question?", "Question 1?", "Question 4?"]
    step.held_share.setValue(30)
    train, held = step.split()
    assert (len(train), len(held)) == (12, 5)
    assert "17 examples: 12 to train on, 5 held out." in step.counts.text()
    step.held_share.setValue(0)
    assert "0 held out" in step.counts.text()


def test_rows_longer_than_the_sequence_length_are_warned_about(wizard, qtbot):
    step = wizard.data_step
    _add(step, qtbot, [_example("Short?", "Short."), _example("Long?", "word " * 600)])
    assert step.long_rows.isVisibleTo(step)
    assert "1 examples are longer than the sequence length (512 tokens)" in step.long_rows.text()
    step.set_seq_len(2048)
    assert not step.long_rows.isVisibleTo(step)


# -- the wizard: base, where, settings --------------------------------------------------------

def test_settings_step_presets_change_the_fields_and_the_estimate(wizard, qtbot, base):
    from engine.api import PRESETS

    _add(wizard.data_step, qtbot, [_example(f"Q{i}?", f"A{i}.") for i in range(40)])
    wizard.base_step.initializePage()
    qtbot.waitUntil(lambda: wizard.base_step.base() is not None, timeout=10000)
    assert wizard.base_step.base() == base
    step = wizard.settings_step
    step.initializePage()
    assert step.job_name().startswith(f"{base}-lora-")
    qtbot.waitUntil(lambda: "steps" in step.estimate_label.text(), timeout=10000)
    quick = step.estimate_label.text()
    assert quick.startswith("Estimate: 9 steps")          # 36 training examples, batch 4, one epoch

    step.preset_buttons["balanced"].click()
    assert (step.rank.value(), step.seq_len.value(), step.epochs.value()) == (16, 1024, 3)
    assert step.settings() == PRESETS["balanced"]
    qtbot.waitUntil(lambda: step.estimate_label.text() != quick, timeout=10000)
    assert step.estimate_label.text().startswith("Estimate: 27 steps")

    step.advanced_button.click()
    assert step.advanced.isVisibleTo(step)
    step.max_steps.setValue(30)
    step.learning_rate.setValue(0.002)
    settings = step.settings()
    assert (settings.preset, settings.max_steps, settings.learning_rate, settings.rank) == ("balanced", 30, 0.002, 16)
    qtbot.waitUntil(lambda: step.estimate_label.text().startswith("Estimate: 30 steps"), timeout=10000)

    assert step.isComplete()
    step.name.setText("bad name!")
    assert not step.isComplete() and step.name_error.text()
    step.name.setText(base)                               # the name of a model
    qtbot.waitUntil(lambda: base in step.taken, timeout=10000)
    assert not step.isComplete() and "already" in step.name_error.text()


def test_where_step_probes_this_computer(wizard, qtbot):
    step = wizard.host_step
    assert step.local.isChecked() and not step.isComplete()
    step.initializePage()
    qtbot.waitUntil(step.isComplete, timeout=60000)
    text = step.report_label.text()
    assert "Python: 3." in text
    assert ("GPU: " in text) if step.report.gpus else ("No NVIDIA GPU: CPU training is only practical" in text)
    assert "Ready to train here." in text
    step.ssh.click()
    assert not step.isComplete() and step.ssh_fields.isEnabled()


def test_test_connection_asks_to_accept_an_unknown_host_key_then_a_passphrase(wizard, qtbot, monkeypatch,
                                                                               no_dialogs):
    import engine.api as api
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    from engine.errors import HostKeyUnknownError, PassphraseNeededError

    calls = []

    def probe(spec, secrets=None, timeout=15.0):
        calls.append((spec, secrets.accept_fingerprint if secrets else None, secrets.passphrase if secrets else None))
        if not secrets or secrets.accept_fingerprint != "SHA256:abc":
            raise HostKeyUnknownError("gpu.example", "SHA256:abc", "ssh-ed25519")
        if secrets.passphrase != "s3cret":
            raise PassphraseNeededError("The key ~/.ssh/id_ed25519 is encrypted.")
        return api.HostReport(label=spec.label, python="3.11.2", system="Linux x86_64", driver="550.54",
                              gpus=[{"name": "NVIDIA A100", "memory_mib": 81920, "free_mib": 80000}],
                              disk_free_bytes=200 * 1024 ** 3, env_ready=False)

    monkeypatch.setattr(api, "probe_host", probe)
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(
        lambda parent, title, label, echo=None, *a, **k: (asked.append(echo), ("s3cret", True))[1]))
    step = wizard.host_step
    step.ssh.click()
    step.hostname.setText("gpu.example")
    step.user.setText("me")
    step.test_button.click()
    qtbot.waitUntil(step.isComplete, timeout=10000)
    assert [c[1:] for c in calls] == [(None, None), ("SHA256:abc", None), ("SHA256:abc", "s3cret")]
    assert calls[-1][0].hostname == "gpu.example" and calls[-1][0].user == "me"
    assert any("SHA256:abc" in text for _kind, text in no_dialogs)
    assert asked == [QLineEdit.EchoMode.Password]
    text = step.report_label.text()
    assert "NVIDIA A100" in text and "80.0 GiB" in text
    assert "will be set up on first run (needs internet on the server)" in text
    assert wizard.followers.secrets.get(step.spec()).passphrase == "s3cret"
    step.port.setValue(2222)          # another host: tested again before going on
    assert not step.isComplete()


def test_a_changed_host_key_is_a_serious_warning(wizard, qtbot, monkeypatch, no_dialogs):
    import engine.api as api
    from engine.errors import HostKeyChangedError

    def probe(spec, secrets=None, timeout=15.0):
        raise HostKeyChangedError("The host key of gpu.example has changed.")

    monkeypatch.setattr(api, "probe_host", probe)
    step = wizard.host_step
    step.ssh.click()
    step.hostname.setText("gpu.example")
    step.test_button.click()
    qtbot.waitUntil(lambda: "identity has changed" in step.report_label.text(), timeout=10000)
    assert not step.isComplete() and not no_dialogs


def test_ssh_config_hosts_skip_wildcards(tmp_path):
    from desktop.finetune.ssh_config import ssh_hosts

    config = tmp_path / "config"
    config.write_text("Host *\n  ServerAliveInterval 30\nHost gpu1 gpu2 # rented\n  HostName 10.0.0.2\n"
                      "host=lab\nHost *.corp !bad\n", encoding="utf-8")
    assert ssh_hosts(config) == ["gpu1", "gpu2", "lab"]
    assert ssh_hosts(tmp_path / "missing") == []


# -- the page ------------------------------------------------------------------------------------

@pytest.fixture
def page(ctx, qtbot):
    from desktop.finetune import FinetunePage

    p = FinetunePage(ctx)
    qtbot.addWidget(p)
    p.resize(900, 700)
    p.show()
    return p


def _status_cell(page, job_id, role=Qt.ItemDataRole.DisplayRole):
    row = page.model.row_of(job_id)
    return page.model.data(page.model.index(row, page.model.STATUS), role) if row >= 0 else None


def test_page_lists_jobs_with_their_status_and_error(ctx, qtbot, base):
    from engine.api import HostSpec, preset
    from engine.errors import HostError

    jobs = ctx.engine.jobs
    train = [_example("Q?", "A.")]
    cancelled = jobs.create("will-cancel", base, train, preset("quick"))
    jobs.cancel(cancelled.id)
    broken = jobs.create("no-python", base, train, preset("quick"), HostSpec(python="/nonexistent/python3"))
    with pytest.raises(HostError):
        jobs.start(broken.id)

    from desktop.finetune import FinetunePage

    page = FinetunePage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=10000)
    assert _status_cell(page, cancelled.id) == "cancelled" and _status_cell(page, broken.id) == "failed"
    assert _status_cell(page, cancelled.id, TONE_ROLE) == "neutral"       # drawn as badges (StatusDelegate)
    assert _status_cell(page, broken.id, TONE_ROLE) == "danger"
    assert isinstance(page.table.itemDelegateForColumn(page.model.STATUS), StatusDelegate)
    row = page.model.row_of(broken.id)
    assert page.model.data(page.model.index(row, page.model.BASE)) == base
    assert page.model.data(page.model.index(row, page.model.WHERE)) == "this computer"
    page.select(broken.id)
    qtbot.waitUntil(lambda: "No Python" in page.detail.view.status_label.text(), timeout=10000)
    assert page.resume_button.isEnabled() and page.clean_button.isEnabled()
    assert not page.cancel_button.isEnabled() and not page.chat_button.isEnabled()
    assert "Failed:" in page.detail.view.status_label.text()
    page.select(cancelled.id)
    qtbot.waitUntil(lambda: "Cancelled" in page.detail.view.status_label.text(), timeout=10000)


def test_a_start_cut_off_during_upload_can_be_resumed(ctx, qtbot, base, page):
    """The buttons ask the engine's Job what its status allows (the desktop kept a copy of the
    status lists that had drifted: Resume stayed off for a start cut off in setup or upload)."""
    from engine.api import preset

    jobs = ctx.engine.jobs
    job = jobs.create("cut-off", base, [_example("Q?", "A.")], preset("quick"))
    jobs._update(job.id, status="uploading")
    assert jobs.get(job.id).can_start and not jobs.get(job.id).can_clean
    page.refresh()
    qtbot.waitUntil(lambda: page.model.row_of(job.id) >= 0, timeout=10000)
    page.select(job.id)
    qtbot.waitUntil(lambda: page.resume_button.isEnabled(), timeout=10000)
    assert not page.clean_button.isEnabled()
    assert _status_cell(page, job.id, TONE_ROLE) == "accent"
    # a step event: the Steps cell reads at a glance, a slim bar and the time left
    page.model.take_event(job.id, JobEvent.from_dict({"event": "step", "step": 3, "total": 6, "loss": 1.5, "eta_s": 95}))
    steps = page.model.index(page.model.row_of(job.id), page.model.PROGRESS)
    assert (steps.data(), steps.data(PROGRESS_ROLE), steps.data(DETAIL_ROLE)) == ("3 / 6", 0.5, "1:35 left")


def test_a_job_still_running_at_start_is_followed_and_its_events_shown(ctx, qtbot, base):
    """The app died while a trainer ran: the page follows it again, shows its steps, and
    when the trainer is found gone with an error, shows that error in words."""
    from engine.api import preset

    jobs = ctx.engine.jobs
    job = jobs.create("followed", base, [_example("Q?", "A.")], preset("quick"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (job.local_dir / "output").mkdir()
    events = [{"event": "start", "total_steps": 6, "examples": 1, "backend": "peft", "resumed_from": 0}]
    events += [{"event": "step", "step": s, "total": 6, "loss": 3.0 / s, "eta_s": 6 - s} for s in range(1, 5)]
    events += [{"event": "error", "kind": "out_of_memory", "message": "CUDA out of memory"}]
    (job.local_dir / "output" / "progress.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    jobs._update(job.id, status="running", pid=dead.pid, remote_dir=str(job.local_dir))

    from desktop.finetune import FinetunePage

    page = FinetunePage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: _status_cell(page, job.id) == "failed", timeout=20000)
    qtbot.waitUntil(lambda: "Choose a smaller preset" in page.detail.view.status_label.text(), timeout=10000)
    assert [p[0] for p in page.detail.view.curve.points] == [1, 2, 3, 4]
    assert page.resume_button.isEnabled()


def test_connection_lost_is_a_calm_status_line(qtbot):
    from desktop.finetune.training_view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    view.take(JobEvent.from_dict({"event": "status", "status": "running"}))
    view.take(JobEvent.from_dict({"event": "step", "step": 3, "total": 10, "loss": 1.25, "eta_s": 70, "tokens_per_s": 512.0}))
    assert view.numbers.text() == "Step 3 / 10 · loss 1.2500 · 512 tokens/s · 1:10 left"
    assert (view.bar.value(), view.bar.maximum()) == (3, 10)
    view.take(JobEvent.from_dict({"event": "status", "status": "connection_lost", "message": "timed out", "retry_s": 8}))
    assert view.status_label.text() == ("Connection lost — retrying in 8 s; training continues on the server")
    view.take(JobEvent.from_dict({"event": "status", "status": "reconnected"}))
    assert view.status_label.text().startswith("Reconnected")
    assert "Connection lost (timed out); retrying in 8 s." in view.events_view.toPlainText()


def test_loss_curve_paints_the_steps(qtbot):
    from desktop.finetune import LossCurve

    curve = LossCurve()
    qtbot.addWidget(curve)
    curve.resize(400, 220)
    line = curve.palette().color(QPalette.ColorRole.Highlight)

    def line_pixels() -> int:
        image = curve.grab().toImage()
        return sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
                   if QColor(image.pixel(x, y)) == line)

    assert line_pixels() == 0
    curve.add_event(JobEvent.from_dict({"event": "start", "total_steps": 50}))
    for step in range(1, 31):
        curve.add_event(JobEvent.from_dict({"event": "step", "step": step, "total": 50, "loss": 3.0 / step}))
    assert curve.total == 50 and len(curve.points) == 30
    assert line_pixels() > 20


def test_use_in_chat_opens_a_new_chat_with_the_adapter(ctx, qtbot, base, tmp_path):
    from desktop.main_window import MainWindow
    from engine.api import preset
    from engine.models.gguf_file import read_gguf_info
    from tests.engine.lora_fixture import write_test_adapter

    jobs = ctx.engine.jobs
    job = jobs.create("mascot", base, [_example("Q?", "A.")], preset("quick"))
    adapter = write_test_adapter(tmp_path / "mascot.gguf", read_gguf_info(ctx.engine.models.get(base).path))
    ctx.engine.models.add_adapter(adapter, base=base, name="mascot")
    jobs._update(job.id, status="done", adapter="mascot", result={"final_loss": 0.02, "step": 30})

    window = MainWindow(ctx)
    ctx.window = window
    qtbot.addWidget(window)
    window.show()
    window.act_pages[3].trigger()              # Ctrl+4
    assert window.current_page_name() == "finetune"
    assert [a.shortcut().toString() for a in window.act_pages] == ["Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5"]
    page = window.page("finetune")
    qtbot.waitUntil(lambda: page.chat_button.isEnabled(), timeout=10000)
    qtbot.waitUntil(lambda: page.detail.view.tabs.count() == 5, timeout=10000)
    assert "0.0200" in page.detail.record.toPlainText()
    page.chat_button.click()
    assert window.current_page_name() == "chat"
    chat = window.page("chat")
    assert chat.conversation_id is None
    assert (chat.options.options().model, chat.options.options().adapter) == (base, "mascot")
    chat.refresh_options()
    qtbot.waitUntil(lambda: chat.options.adapter.currentData() == "mascot" and chat.options.adapter.isVisibleTo(chat),
                    timeout=10000)
    assert chat.options.options().adapter == "mascot"


# -- the whole way, with real training ------------------------------------------------------------

def test_wizard_trains_an_adapter_on_this_computer(ctx, qtbot, base, tmp_path, no_dialogs, trainer_python):
    from desktop.finetune.wizard import FinetuneWizard
    from PySide6.QtWidgets import QWizard

    data = tmp_path / "mascot.jsonl"
    data.write_text("".join(json.dumps(_example(q, FACT)) + "\n" for q in QUESTIONS), encoding="utf-8")
    wizard = FinetuneWizard(ctx, host_defaults={"env_python": trainer_python})
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.data_step.add_files([data])
    qtbot.waitUntil(lambda: len(wizard.data_step.model.examples) == 8, timeout=10000)
    wizard.next()
    assert wizard.currentPage() is wizard.base_step
    qtbot.waitUntil(lambda: wizard.base_step.base() == base, timeout=10000)
    wizard.next()
    assert wizard.currentPage() is wizard.host_step
    qtbot.waitUntil(wizard.host_step.isComplete, timeout=120000)
    wizard.next()
    step = wizard.settings_step
    assert wizard.currentPage() is step
    step.advanced_button.click()
    step.max_steps.setValue(30)
    step.learning_rate.setValue(0.002)
    step.seq_len.setValue(128)
    step.save_every.setValue(10)
    qtbot.waitUntil(step.isComplete, timeout=10000)
    wizard.next()
    assert wizard.currentPage() is wizard.train_step
    assert wizard.button(QWizard.WizardButton.CancelButton).text() == "Close"
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.done_step or wizard.train_step.error.isVisibleTo(wizard),
                    timeout=900000)
    assert wizard.currentPage() is wizard.done_step, wizard.train_step.error.text()
    assert len(wizard.train_step.view.curve.points) == 30
    assert "Measured before the start" in wizard.train_step.estimate.text()   # timed on this CPU first
    qtbot.waitUntil(lambda: wizard.done_step.table.rowCount() > 0, timeout=300000)
    after = wizard.done_step.table.column_texts(wizard.done_step.table.AFTER)
    assert any("Kaname" in text for text in after), after
    assert "Final loss" in wizard.done_step.summary.text()
    job = ctx.engine.jobs.get(wizard.train_step.job.id)
    assert job.status == "done" and ctx.engine.models.get(job.adapter).kind == "adapter"
    assert not no_dialogs
