"""Reading the ISO-8601 times Cronofy sends, the same way everywhere Slotbot shows one."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_instant(text: str | None, zone: str | None = None) -> datetime | None:
    """An aware datetime for `text`, or None when there is no readable time.

    A time with an offset (or "Z") is taken as written. A time without one is local time in
    `zone` (an IANA name such as Cronofy's `tzid`) when that zone is known, else UTC: Cronofy
    sends event times in UTC, so that is what a bare time most likely means.
    """
    if not text or not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.utcoffset() is not None:
        return value
    return value.replace(tzinfo=_zone(zone))


def epoch_of(text: str | None, zone: str | None = None) -> float | None:
    """`parse_instant` as epoch seconds."""
    value = parse_instant(text, zone)
    return None if value is None else value.timestamp()


def _zone(name: str | None) -> tzinfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC
