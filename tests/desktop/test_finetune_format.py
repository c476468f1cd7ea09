"""The wizard's training-format choice (plain, RAG-style, both) against a real engine with an
indexed library: the preview shows real examples built in the chat's prompt, and the job is
created with them while the held-out split stays plain. A screenshot of the choice is saved
($BUNKO_SCREENSHOTS, else the test's tmp folder) in English and Japanese."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

CITIES = [("Aomori", "Hirosaki"), ("Baltic", "Riga"), ("Cascade", "Bend"), ("Danube", "Linz"),
          ("Everest", "Pokhara"), ("Fjord", "Bergen"), ("Gobi", "Dalanzadgad"), ("Hokuriku", "Kanazawa"),
          ("Iberia", "Zaragoza"), ("Jura", "Besancon"), ("Kyushu", "Kumamoto"), ("Lapland", "Rovaniemi")]


@pytest.mark.slow   # indexes a library and builds examples with the real embedder
def test_raft_choice_previews_real_examples_and_trains_on_them(ctx, qtbot, tmp_path, styled, monkeypatch):
    from desktop.finetune.wizard import FinetuneWizard
    from desktop.i18n import apply_language
    from engine import errors as api_errors
    from engine.api import Dataset

    docs = tmp_path / "docs"
    docs.mkdir()
    for place, city in CITIES:
        (docs / f"{place.lower()}.md").write_text(
            f"# {place}\n\nThe {place} office of Kestrel Tools is in the city of {city}. It has twelve desks.\n",
            encoding="utf-8")
    ctx.engine.libraries.add(docs, "offices")
    ctx.engine.libraries.index("offices")
    wizard = FinetuneWizard(ctx)
    qtbot.addWidget(wizard)
    wizard.resize(900, 760)
    wizard.show()
    step = wizard.data_step
    step.initializePage()
    pairs = [{"messages": [{"role": "user", "content": f"In which city is the {p} office of Kestrel Tools?"},
                           {"role": "assistant", "content": c}]} for p, c in CITIES]
    step._read_one("offices.csv", Dataset(pairs))
    box = step.format_box
    assert box.choice() == "plain" and not box.preview_button.isEnabled()
    box.format.setCurrentIndex(box.format.findData("raft"))
    assert box.library.currentText() == "offices" and box.preview_button.isEnabled() and step.isComplete()
    box.gold.setValue(50)
    step.held_share.setValue(20)
    train, held = step.split()
    assert len(held) == 2
    box.preview()
    qtbot.waitUntil(lambda: box.view.isVisible(), timeout=60000)
    text = box.view.toPlainText()
    assert "Sources:" in text and "Question: In which city" in text and "] " in text
    assert "10 training examples, 10 RAG-style (5 with the passage" in box.status.text()

    folder = Path(os.environ.get("BUNKO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "ja"):
        apply_language(lang)
        qtbot.wait(50)
        shot = folder / f"finetune-format-{lang}.png"
        assert wizard.grab().save(str(shot))
        print(f"\nscreenshot: {shot}")
    assert box.format.currentData() == "raft" and box.title() == "学習データの形式"
    apply_language("en")

    # the job is made from the examples the preview built; the held-out pairs stay plain
    calls = []
    monkeypatch.setattr(box, "build", lambda t, h, r, **kw: calls.append(r) or box.built[1])
    made = []
    real_create = ctx.engine.jobs.create

    def create(name, base, examples, settings, host, held_out=None, data_info=None):
        made.append((examples, held_out, data_info))
        return real_create(name, base, examples, settings, host, held_out=held_out, data_info=data_info)

    monkeypatch.setattr(ctx.engine.jobs, "create", create)
    monkeypatch.setattr(ctx.engine.jobs, "start", lambda *a, **k: None)   # training is tested elsewhere
    monkeypatch.setattr(wizard.followers, "start", lambda job: None)

    def measure(job_id, **_kw):   # the real timing is tested in tests/engine/test_trainer_cpu.py
        raise api_errors.FinetuneError("Timing the first steps failed: test")

    monkeypatch.setattr(ctx.engine.jobs, "measure", measure)
    wizard.base_step.initializePage()
    qtbot.waitUntil(lambda: wizard.base_step.base() is not None, timeout=10000)
    wizard.settings_step.name.setText("raft-job")
    wizard.train_step.start()
    qtbot.waitUntil(lambda: wizard.train_step.job is not None, timeout=30000)
    examples, held_out, info = made[0]
    assert calls and calls[0][0] == "raft" and len(examples) == 10
    assert all(e["messages"][0]["role"] == "system" for e in examples)
    assert held_out == held and info["format"] == "raft" and info["library"] == "offices"
    job = ctx.engine.jobs.get("raft-job")
    rows = [json.loads(line) for line in (job.local_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 10 and "Sources:" in rows[0]["messages"][1]["content"]
    qtbot.waitUntil(lambda: "No measured estimate" in wizard.train_step.estimate.text(), timeout=10000)
