"""Shared widgets that give every page the same language: a page header, an empty
state, a status badge (the same badge in table cells: StatusDelegate, tidy_table) and a
card. They take their look from the stylesheet only."""

from .badge import StatusBadge
from .card import Card
from .empty_state import EmptyState
from .header import PageHeader
from .tables import tidy_table
from .status_cell import BADGE_ROLE, DETAIL_ROLE, PROGRESS_ROLE, TONE_ROLE, StatusDelegate

__all__ = ["BADGE_ROLE", "DETAIL_ROLE", "PROGRESS_ROLE", "TONE_ROLE", "Card", "EmptyState", "PageHeader", "StatusBadge",
           "StatusDelegate", "tidy_table"]
