"""The Compare page: the comparison lab (base | RAG | fine-tuned | both) on the user's questions."""

from .page import ComparePage

__all__ = ["ComparePage"]
