"""An org's timeline events and audit log read in order, a page at a time, from where the
reader left off: what the read API (`bot.api`) serves.

A position is the store's own (SQLite: the row's sequence number; Redis: the id in the org's
event index stream, or an audit entry's place counted from the oldest). The API wraps it in
an opaque cursor; a position the store cannot read raises `BadPosition`, never a store error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.store.records import AuditEntry, TimelineEntry

MAX_PAGE = 500

_NUMBER = re.compile(r"(0|[1-9][0-9]{0,17})")


class BadPosition(ValueError):
    """A position this store never gave out."""


@dataclass(frozen=True)
class EventRow:
    candidate_id: str
    entry: TimelineEntry
    position: str


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    position: str


@dataclass(frozen=True)
class EventPage:
    rows: list[EventRow] = field(default_factory=list)
    # where the next page starts: past the last row, and past any reference skipped because
    # its entry is gone (an erased timeline); None when nothing was read
    last: str | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow] = field(default_factory=list)
    last: str | None = None


def number(position: str | None) -> int:
    """A position that is a count or a sequence number (0 for the start)."""
    if position is None:
        return 0
    if not _NUMBER.fullmatch(position):
        raise BadPosition(position)
    return int(position)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit {limit} is not within 1..{MAX_PAGE}")
    return limit
