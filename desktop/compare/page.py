"""The Compare page: RAG, fine-tuning or both, measured on the user's own questions.

Choose a question set (a file, a fine-tune job's held-out questions, or drafted from a
library and edited in the table), a base model, libraries and an adapter; run the arms
with progress and time left; read the table and each question side by side; export.
Plain standard widgets only: the app's theme styles them.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSpinBox, QSplitter,
                               QStackedWidget, QTableWidget, QTableWidgetItem, QTabWidget, QTextBrowser, QVBoxLayout,
                               QWidget)

from engine.api import make_question

from ..common import while_alive
from ..i18n import Retranslating
from ..widgets import BADGE_ROLE, DETAIL_ROLE, PROGRESS_ROLE, TONE_ROLE, EmptyState, StatusDelegate
from .freshness import FreshnessBox
from .wording import pct, recommendation, verdict

log = logging.getLogger(__name__)

NO_ADAPTER = ""


def _cost(key: str, value) -> str:
    """A preparation figure as people read it: sizes in MiB as in the run's exports (it was MB
    here, MiB there: two numbers for one size), measured numbers rounded."""
    if "bytes" in key and isinstance(value, (int, float)):
        return f"{value / 2 ** 20:,.1f} MiB"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def _num(x, fmt="{:.2f}") -> str:
    return "–" if x is None else fmt.format(x)


class ComparePage(Retranslating, QWidget):
    Q_TEXT, Q_REFS, Q_SOURCE = range(3)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task = None
        self.run_id: int | None = None
        self.questions_source = ""
        self.summary: dict | None = None
        self.answers: dict = {}           # (key, arm) -> answer row

        # -- choices ---------------------------------------------------------------
        self.source = QComboBox()
        self.file_button = QPushButton()
        self.file_button.clicked.connect(self.choose_file)
        self.job_box = QComboBox()
        self.job_button = QPushButton()
        self.job_button.clicked.connect(self.load_job_questions)
        self.draft_library = QComboBox()
        self.draft_button = QPushButton()
        self.draft_button.clicked.connect(self.draft_questions)
        self.base_box = QComboBox()
        self.adapter_box = QComboBox()
        self.libraries_list = QListWidget()
        self.libraries_list.setMaximumHeight(90)
        # more arms: any registered model, local, at an endpoint or on a GPU server
        self.models_list = QListWidget()
        self.models_list.setMaximumHeight(70)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(8, 1024)
        self.max_tokens.setValue(64)
        row_file = QHBoxLayout()
        row_file.addWidget(self.file_button)
        row_file.addWidget(self.job_box, 1)
        row_file.addWidget(self.job_button)
        row_file.addWidget(self.draft_library, 1)
        row_file.addWidget(self.draft_button)
        self.form = QFormLayout()
        self.form_labels = [QLabel() for _ in range(6)]
        for label, field in zip(self.form_labels, (row_file, self.base_box, self.libraries_list, self.adapter_box,
                                                    self.models_list, self.max_tokens)):
            self.form.addRow(label, field)

        self.questions = QTableWidget(0, 3)
        self.questions.setWordWrap(True)
        self.questions.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.problems = QLabel()
        self.problems.setWordWrap(True)

        self.run_button = QPushButton()
        self.run_button.clicked.connect(self.start_run)
        self.stop_button = QPushButton()
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.export_button = QPushButton()
        self.export_button.clicked.connect(self.export)
        self.progress = QProgressBar()
        self.progress_label = QLabel()
        buttons = QHBoxLayout()
        for w in (self.run_button, self.stop_button, self.export_button):
            buttons.addWidget(w)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.progress_label)

        setup = QWidget()
        setup_layout = QVBoxLayout(setup)
        setup_layout.addLayout(self.form)
        setup_layout.addWidget(self.questions, 1)
        setup_layout.addWidget(self.problems)

        # -- results ---------------------------------------------------------------
        self.runs = QListWidget()
        self.runs.currentItemChanged.connect(self._run_chosen)
        self.runs.setItemDelegate(StatusDelegate(self.runs))   # the badges of the other pages' tables
        self.runs.setResizeMode(QListWidget.ResizeMode.Adjust)  # rows follow the list's width (names elide)
        self.table = QTableWidget(0, 10)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.recommendation = QLabel()
        self.recommendation.setWordWrap(True)
        self.details = QTextBrowser()
        self.per_question = QTableWidget(0, 1)
        self.per_question.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.per_question.setWordWrap(True)
        self.per_question.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.per_question.currentCellChanged.connect(lambda r, *_: self.show_question(r))
        self.side_by_side = QTextBrowser()
        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.addWidget(self.recommendation)
        results_layout.addWidget(self.table)
        # The tests and costs, the questions, and one question's answers (or the freshness check)
        # share the height the person chooses: with six arms each part needs room to be read.
        self.freshness = FreshnessBox(self)
        self.lower = QTabWidget()
        self.lower.addTab(self.side_by_side, "")
        self.lower.addTab(self.freshness, "")
        split = QSplitter(Qt.Orientation.Vertical)
        for w, stretch in ((self.details, 1), (self.per_question, 2), (self.lower, 2)):
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        results_layout.addWidget(split, 1)
        # Until a run is chosen the results pane says what to do instead of showing empty boxes.
        self.no_run = EmptyState("compare")
        self.no_run.action.connect(lambda: self.tabs.setCurrentIndex(0))
        self.results_stack = QStackedWidget()
        self.results_stack.addWidget(self.no_run)
        self.results_stack.addWidget(results)
        right = QSplitter(Qt.Orientation.Horizontal)
        right.addWidget(self.runs)
        right.addWidget(self.results_stack)
        right.setStretchFactor(1, 3)
        right.setSizes([300, 900])   # room for run names beside their badge and progress

        self.tabs = QTabWidget()
        self.tabs.addTab(setup, "")
        self.tabs.addTab(right, "")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.retranslate()
        self.refresh()

    # -- language -------------------------------------------------------------------
    def retranslate(self) -> None:
        labels = [self.tr("Questions"), self.tr("Base model"), self.tr("Libraries (RAG)"),
                  self.tr("Adapter (fine-tuned)"), self.tr("More arms (other models)"),
                  self.tr("Answer length (tokens)")]
        for label, text in zip(self.form_labels, labels):
            label.setText(text)
        self.file_button.setText(self.tr("From a file…"))
        self.job_button.setText(self.tr("Held out of this job"))
        self.draft_button.setText(self.tr("Draft from this library"))
        self.questions.setHorizontalHeaderLabels([self.tr("Question"), self.tr("Reference answers (| between)"),
                                                  self.tr("Source document")])
        self.run_button.setText(self.tr("Run comparison"))
        self.no_run.set_texts(self.tr("Choose a run"),
                              self.tr("Pick a run on the left to see its table, each question's answers side by "
                                      "side, and how RAG and the adapter follow a changed fact."),
                              self.tr("Prepare a comparison"))
        self.stop_button.setText(self.tr("Stop"))
        self.export_button.setText(self.tr("Export…"))
        self.tabs.setTabText(0, self.tr("Set up"))
        self.tabs.setTabText(1, self.tr("Results"))
        self.lower.setTabText(0, self.tr("Answers side by side"))
        self.lower.setTabText(1, self.tr("Freshness"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Arm"), self.tr("Answered"), self.tr("Accuracy [95% CI]"), self.tr("Base right"),
            self.tr("Base wrong"), self.tr("F1"), self.tr("Similarity"), self.tr("Grounded"),
            self.tr("Time to first token (s)"), self.tr("Tokens/s")])
        # named by the base model's answers (as in the exports): "known/new" read as trained/not trained
        self.table.horizontalHeaderItem(3).setToolTip(self.tr(
            "Accuracy on the questions the base model already answered right: what it knew before."))
        self.table.horizontalHeaderItem(4).setToolTip(self.tr(
            "Accuracy on the questions the base model answered wrong: facts new to it."))
        if self.adapter_box.count():
            self.adapter_box.setItemText(0, self.tr("— none —"))
        self.per_question.setHorizontalHeaderLabels([self.tr("Question")] + [
            self.per_question.horizontalHeaderItem(c).text() for c in range(1, self.per_question.columnCount())
            if self.per_question.horizontalHeaderItem(c)])

    # -- choices --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Models, adapters, libraries, jobs and runs, read again from the engine."""
        self.ctx.runner.run(self._read_choices, key="compare:choices", on_done=while_alive(self, "_fill_choices"))

    def _read_choices(self) -> dict:
        engine = self.ctx.engine
        models = engine.models.list()
        return {"models": [m.name for m in models if m.kind == "model"] or [engine.models.default().name],
                "where": {m.name: m.location for m in models if m.kind == "model"},
                "adapters": [(m.name, m.base_model) for m in models if m.kind == "adapter"],
                "libraries": [lib.name for lib in engine.libraries.list()],
                "jobs": [j.name for j in engine.jobs.list() if j.adapter],
                "runs": engine.lab.list()}

    def _fill_choices(self, found: dict) -> None:
        for box, items in ((self.base_box, found["models"]), (self.job_box, found["jobs"]),
                           (self.draft_library, found["libraries"])):
            current = box.currentText()
            box.clear()
            box.addItems(items)
            if current in items:
                box.setCurrentText(current)
        self.adapter_box.clear()
        self.adapter_box.addItem(self.tr("— none —"), NO_ADAPTER)
        for name, base in found["adapters"]:
            self.adapter_box.addItem(f"{name} ({base})", name)
        self.libraries_list.clear()
        for name in found["libraries"]:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.libraries_list.addItem(item)
        self.models_list.clear()
        for name in found["models"]:
            where = found.get("where", {}).get(name, "local")
            item = QListWidgetItem(name if where == "local" else f"{name} ({where})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.models_list.addItem(item)
        self._fill_runs(found["runs"])

    def _fill_runs(self, runs) -> None:
        self.runs.blockSignals(True)
        self.runs.clear()
        words = {"created": (self.tr("not started"), "neutral"), "running": (self.tr("running"), "accent"),
                 "done": (self.tr("done"), "success"), "cancelled": (self.tr("stopped"), "warning"),
                 "failed": (self.tr("failed"), "danger"),
                 "interrupted": (self.tr("interrupted"), "warning")}
        for r in runs:   # name, a status badge, and a slim bar of the answers while it is not complete
            total = r.questions * len(r.arms)
            item = QListWidgetItem(f"{r.id}  {r.name}")
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            word, tone = words.get(r.status, (r.status, "neutral"))
            item.setData(BADGE_ROLE, word)
            item.setData(TONE_ROLE, tone)
            if total and r.answers < total:
                if r.status == "running" or r.answers:
                    item.setData(PROGRESS_ROLE, r.answers / total)
                item.setData(DETAIL_ROLE, f"{r.answers}/{total}")
            item.setToolTip(f"{r.name}: {word}, {r.answers}/{total}")
            self.runs.addItem(item)
        self.runs.blockSignals(False)

    def chosen_libraries(self) -> list[str]:
        return [self.libraries_list.item(i).text() for i in range(self.libraries_list.count())
                if self.libraries_list.item(i).checkState() == Qt.CheckState.Checked]

    def chosen_models(self) -> list[str]:
        """The other models checked as extra arms (the base model itself is its base arm)."""
        base = self.base_box.currentText()
        return [self.models_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.models_list.count())
                if self.models_list.item(i).checkState() == Qt.CheckState.Checked
                and self.models_list.item(i).data(Qt.ItemDataRole.UserRole) != base]

    # -- question sets ---------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a question file"), "",
                                              self.tr("Questions (*.jsonl *.csv *.tsv);;All files (*)"))
        if path:
            self.load_questions_file(path)

    def load_questions_file(self, path: str) -> None:
        self.ctx.runner.run(self.ctx.engine.lab.questions, path, key="compare:questions",
                            on_done=while_alive(self, "set_questions"))

    def load_job_questions(self) -> None:
        if self.job_box.currentText():
            self.ctx.runner.run(self.ctx.engine.lab.questions, None, self.job_box.currentText(),
                                key="compare:questions", on_done=while_alive(self, "set_questions"))

    def draft_questions(self) -> None:
        library = self.draft_library.currentText()
        if library:
            self.progress_label.setText(self.tr("Drafting questions…"))
            self.ctx.runner.run(self.ctx.engine.lab.questions, library=library, count=10,
                                key="compare:questions", on_done=while_alive(self, "set_questions"),
                                on_progress=while_alive(self, "_show_progress"))

    def set_questions(self, qs) -> None:
        """Show a question set in the table to review and edit; bad rows below it."""
        self.questions_source = qs.source
        self.questions.setRowCount(len(qs.questions))
        for r, q in enumerate(qs.questions):
            for c, text in enumerate((q.text, " | ".join(q.references), q.source or "")):
                self.questions.setItem(r, c, QTableWidgetItem(text))
        self.problems.setText("\n".join(self.tr("line {line}: {reason}").format(line=p.line, reason=p.reason)
                                        for p in qs.problems[:20]))
        self.progress_label.setText(self.tr("{n} questions").format(n=len(qs.questions)))

    def edited_questions(self) -> list:
        """The table as questions; rows without a question or a reference are left out."""
        found = []
        for r in range(self.questions.rowCount()):
            cells = [(self.questions.item(r, c).text() if self.questions.item(r, c) else "") for c in range(3)]
            refs = [x.strip() for x in cells[1].split("|") if x.strip()]
            if cells[0].strip() and refs:
                found.append(make_question(cells[0], refs, cells[2].strip() or None))
        return found

    # -- running -----------------------------------------------------------------------------
    def start_run(self) -> None:
        questions = self.edited_questions()
        if not questions:
            self.progress_label.setText(self.tr("Load or type some questions first."))
            return
        adapter = self.adapter_box.currentData() or None
        choices = dict(base_model=self.base_box.currentText() or None, libraries=self.chosen_libraries(),
                       adapter=adapter, other_models=self.chosen_models(), max_tokens=self.max_tokens.value(),
                       question_source=self.questions_source)
        try:
            run = self.ctx.engine.lab.create(questions, **choices)
        except Exception as exc:  # refused before the run: say why
            self.ctx.show_error(exc, self)
            return
        self.resume(run.id)

    def resume(self, run_id: int) -> None:
        self.run_id = run_id
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.task = self.ctx.runner.run(self.ctx.engine.lab.run, run_id, key="compare:run",
                                        on_progress=while_alive(self, "_show_progress"),
                                        on_done=while_alive(self, "_finished"),
                                        on_error=while_alive(self, "_failed"))

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel(drop=False)

    def shutdown(self) -> None:
        self.stop()

    def _show_progress(self, p) -> None:
        if p.total:
            self.progress.setRange(0, int(p.total))
            self.progress.setValue(int(p.done))
        left = "" if p.eta_s is None else self.tr(", {s} s left").format(s=int(p.eta_s))
        self.progress_label.setText(self.tr("{arm}: {done}/{total}{left}").format(
            arm=p.phase, done=int(p.done), total=int(p.total or 0), left=left))

    def _finished(self, run) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.task = None
        self.progress_label.setText(self.tr("Finished.") if run.status == "done" else
                                    self.tr("Stopped: finished answers are kept; run it again to continue."))
        self.refresh()
        self.show_run(run.id)
        self.tabs.setCurrentIndex(1)

    def _failed(self, exc) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.task = None
        self.ctx.show_error(exc, self)

    # -- results -------------------------------------------------------------------------------
    def _run_chosen(self, item, _previous=None) -> None:
        if item is not None:
            self.show_run(item.data(Qt.ItemDataRole.UserRole))

    def show_run(self, run_id: int) -> None:
        self.run_id = run_id
        engine = self.ctx.engine
        self.ctx.runner.run(lambda: (engine.lab.summary(run_id), engine.lab.answers(run_id)),
                            key="compare:show", on_done=while_alive(self, "_show_results"))

    def _show_results(self, found) -> None:
        summary, (questions, answers) = found
        self.results_stack.setCurrentIndex(1)
        self.summary = summary
        self.recommendation.setText(recommendation(summary))
        self.table.setRowCount(len(summary["arms"]))
        for r, a in enumerate(summary["arms"]):
            cells = (a["arm"], str(a["answered"]), f"{pct(a['accuracy'])} [{pct(a['ci'][0])}–{pct(a['ci'][1])}]",
                     pct(a["known"]["accuracy"]) if a.get("known") else "–",
                     pct(a["new"]["accuracy"]) if a.get("new") else "–", _num(a["f1"]), _num(a["similarity"]),
                     pct(a["grounded"]), _num(a["ttft_s"]), _num(a["tokens_per_s"], "{:.1f}"))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self._fit_table_height()
        lines = [html.escape(f"{p['b']} − {p['a']}: {p['diff']:+.0%} [{p['ci'][0]:+.0%}, {p['ci'][1]:+.0%}], "
                             f"p = {p['p']:.3g}: {verdict(p)}") for p in summary["pairs"]]
        for what, cost in (summary.get("prep") or {}).items():
            lines.append(html.escape(self.tr("Preparation, {what}: {cost}").format(
                what=what, cost=", ".join(f"{k} {_cost(k, v)}" for k, v in cost.items() if v is not None))))
        for f in summary["freshness"]:
            lines.append(html.escape(self.freshness.line(f)))
        self.details.setHtml("<br>".join(lines))
        self.freshness.show_summary(summary)
        arms = [a["arm"] for a in summary["arms"]]
        self.answers = {(a.key, a.arm): a for a in answers}
        self.shown_questions = questions
        self.per_question.setColumnCount(1 + len(arms))
        self.per_question.setHorizontalHeaderLabels([self.tr("Question")] + arms)
        self.per_question.setRowCount(len(questions))
        for r, q in enumerate(questions):
            self.per_question.setItem(r, 0, QTableWidgetItem(q.text))
            for c, arm in enumerate(arms, 1):
                a = self.answers.get((q.key, arm))
                mark = "" if a is None else ("✔ " if a.scores.get("match") else "✘ ")
                self.per_question.setItem(r, c, QTableWidgetItem(mark + (a.text if a else "")))

    def _fit_table_height(self) -> None:
        """Every arm's row in view (six with two adapters), without a scroll bar to find the last."""
        t = self.table
        rows = sum(t.rowHeight(r) for r in range(t.rowCount()))
        bar = t.horizontalScrollBar().sizeHint().height() if t.horizontalScrollBar().isVisible() else 0
        t.setFixedHeight(t.horizontalHeader().height() + rows + bar + 2 * t.frameWidth())

    def show_question(self, row: int) -> None:
        """Every arm's answer to one question, side by side, with scores and sources."""
        if row < 0 or row >= len(getattr(self, "shown_questions", [])) or self.summary is None:
            return
        q = self.shown_questions[row]
        self.freshness.set_question(q)  # the question a freshness check asks again
        # (lupdate finds no tr() inside an f-string: the words are fetched first)
        reference, right, wrong = self.tr("Reference"), self.tr("right"), self.tr("wrong")
        similarity, sources = self.tr("similarity"), self.tr("sources")
        parts = [f"<h3>{html.escape(q.text)}</h3><p>{html.escape(reference)}: "
                 f"{html.escape(' | '.join(q.references))}</p><table border='1' cellpadding='4'><tr>"]
        for a in self.summary["arms"]:
            parts.append(f"<th>{html.escape(a['arm'])}</th>")
        parts.append("</tr><tr>")
        for arm in (a["arm"] for a in self.summary["arms"]):
            a = self.answers.get((q.key, arm))
            if a is None:
                parts.append("<td>–</td>")
                continue
            s = a.scores
            cited = ", ".join(html.escape(x["path"]) for x in a.sources if x.get("cited"))
            parts.append(f"<td valign='top'>{html.escape(a.text)}<br><small>"
                         f"{right if s.get('match') else wrong}, F1 {s.get('f1', 0):.2f}"
                         + (f", {similarity} {s['similarity']:.2f}" if "similarity" in s else "")
                         + (f"<br>{sources}: {cited}" if cited else "") + "</small></td>")
        parts.append("</tr></table>")
        self.side_by_side.setHtml("".join(parts))

    def export(self) -> None:
        if self.run_id is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export the comparison"), "comparison.html",
                                              self.tr("HTML report (*.html);;CSV table (*.csv)"))
        if path:
            self.ctx.runner.run(self.ctx.engine.lab.export, self.run_id, path, key="compare:export",
                                on_done=lambda p: self.progress_label.setText(self.tr("Saved {path}").format(path=p)))
