"""Shared widgets that give every page the same language: a page header, an empty
state, a status badge and a card. They take their look from the stylesheet only."""

from .badge import StatusBadge
from .card import Card
from .empty_state import EmptyState
from .header import PageHeader

__all__ = ["Card", "EmptyState", "PageHeader", "StatusBadge"]
