"""What the feature modules of `cards` share: how long a name may be, and how a missing
name or time reads."""

from __future__ import annotations

from datetime import datetime

from cards._text import one_line, truncate
from cards.model import Inline, TimeValue

# names are shortened here so headers and sentences stay readable; renderers enforce the
# platforms' hard limits on top of this
MAX_NAME = 80
MAX_REASON = 500


def name(value: str | None, fallback: str) -> str:
    """A person's (or a channel's, a kind's) name on one line, shortened; `fallback` when empty."""
    text = one_line(value or "")
    return truncate(text, MAX_NAME) if text else fallback


def when(start: datetime | None, end: datetime | None, zone: str | None) -> Inline:
    if start is None:
        return "time not given"
    return TimeValue(at=start, end=end, zone=zone)
