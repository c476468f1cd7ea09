"""The Fine-tune page and the wizard that makes a LoRA training job."""

from .loss_curve import LossCurve
from .page import FinetunePage

__all__ = ["FinetunePage", "LossCurve"]
