"""Settings → Processor: the CPU budget setting is kept and reaches the engine at once."""

from __future__ import annotations

from engine.api import background_mode, set_background_mode


def test_processor_setting_is_kept_and_applied(qtbot, ctx) -> None:
    from desktop.settings import Settings
    from desktop.settings_page import SettingsPage

    try:
        page = SettingsPage(ctx)
        qtbot.addWidget(page)
        assert page.background.currentData() == "pause" and background_mode() == "pause"
        page.background.setCurrentIndex(page.background.findData("slow"))
        assert background_mode() == "slow"
        again = Settings(ctx.settings.q.fileName())
        assert again.background == "slow"
        again.set("cpu/background_while_answering", "nonsense")
        assert again.background == "pause"  # an unknown value falls back to the default
    finally:
        set_background_mode("pause")
