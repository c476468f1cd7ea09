"""The Models page: chat models, LoRA adapters, loading and answer settings."""

from .page import ModelsPage
from .settings_panel import ModelSettingsPanel

__all__ = ["ModelsPage", "ModelSettingsPanel"]
