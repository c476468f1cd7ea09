"""The New fine-tune wizard: data, base model, where, settings, training, result.

The job is created and started when the settings step is committed; from then on the
shared followers carry it, so closing the wizard (or Bunko) leaves the training running
and the Fine-tune page goes on showing it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from .data_step import DataStep
from .follow import Followers
from .host_step import HostStep
from .settings_step import BaseStep, SettingsStep
from .train_step import DoneStep, TrainStep
from ..i18n import Retranslating


class FinetuneWizard(Retranslating, QWizard):
    job_created = Signal(int)   # job id

    def __init__(self, ctx, followers: Followers | None = None, host_defaults: dict | None = None,
                 parent: QWidget | None = None) -> None:
        """`host_defaults`: HostSpec fields every host gets unless the form sets them (tests pass
        env_python, a trainer environment that is ready, so nothing is installed)."""
        super().__init__(parent)
        self.ctx = ctx
        self.followers = followers or Followers(ctx, self)
        self.data_step = DataStep(ctx)
        self.base_step = BaseStep(ctx)
        self.host_step = HostStep(ctx, self.followers.secrets, host_defaults)
        self.settings_step = SettingsStep(ctx)
        self.train_step = TrainStep(ctx, self.followers)
        self.done_step = DoneStep(ctx)
        for page in (self.data_step, self.base_step, self.host_step, self.settings_step, self.train_step,
                     self.done_step):
            self.addPage(page)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.resize(860, 640)
        self.currentIdChanged.connect(self._page_changed)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("New fine-tune"))
        self._page_changed()

    def _page_changed(self, *_args) -> None:
        # Once training has started, closing the wizard leaves the job running: say "Close".
        running = self.currentPage() in (self.train_step, self.done_step)
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("Close") if running else self.tr("Cancel"))
