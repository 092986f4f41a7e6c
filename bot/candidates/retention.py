"""Retention: `/cronofy retention <days>|off` keeps an org's timelines and bookings that long.

The sweep is a durable timer per org (`bot.timers.timer_key("retention", org)`, the job kind
`bot.outbox.kinds.retention`): it erases what is older than the org's setting as it stands
when it fires, then sets the next day's timer; turned off, the timer is cancelled (and a
sweep that fires anyway finds the setting off and sets no next one)."""

from __future__ import annotations

from bot.store.records import Org
from bot.timers import timer_key

DAY = 24 * 3600.0
MIN_DAYS = 1
MAX_DAYS = 3650


def retention_key(org_id: str) -> str:
    return timer_key("retention", org_id)


def cutoff(org: Org, now: float) -> float | None:
    """Records older than this are past retention; None: retention is off."""
    if org.retention_days is None:
        return None
    return now - org.retention_days * DAY


def next_due(due: float, now: float) -> float:
    """The next day's sweep at the same time of day as this one (skipping days missed while
    every process was down)."""
    following = due + DAY
    while following <= now:
        following += DAY
    return following
