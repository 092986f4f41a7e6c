"""The day's agenda: when a member's morning message fires, and which day it covers.

Pure functions of (local time of day, IANA zone, now): no store, no clock of their own, so
they are tested across daylight-saving changes with any `now`.

Wall-clock rules, the same in every zone:
- a time that does not exist that day (clocks spring forward over it) fires at the first
  instant after the gap, i.e. the moment the clocks jump to (02:30 on a day 02:00 jumps to
  03:00 fires at 03:00);
- a time that happens twice (clocks fall back over it) fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME = "08:30"
DEFAULT_ZONE = "UTC"
# the agenda is of use until local noon of its day; a timer fired later (every process was
# down all morning) is dropped and the next day's set
USEFUL_UNTIL = time(12, 0)

_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_hhmm(text: str) -> str | None:
    """A time of day ("8:30" or "08:30") as "08:30"; None when it is not a time of day (24-hour clock)."""
    match = _HHMM.fullmatch(text.strip())
    if match is None:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def valid_zone(name: str | None) -> ZoneInfo | None:
    """The zone of an IANA name, or None for a name zoneinfo does not know (or no name)."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a name that is a bad path
        return None


def _time_of(hhmm: str) -> time:
    parsed = parse_hhmm(hhmm)
    if parsed is None:
        raise ValueError(f"not a time of day: {hhmm!r}")
    hours, minutes = parsed.split(":")
    return time(int(hours), int(minutes))


def fire_on(day: date, hhmm: str, zone: ZoneInfo) -> float:
    """The instant (epoch) `hhmm` local time happens on `day` in `zone` (see the module's
    rules for the days it happens never or twice)."""
    wall = datetime.combine(day, _time_of(hhmm))
    first = wall.replace(tzinfo=zone, fold=0)
    # a wall time that does not exist reads back as another wall time after a round trip
    # through UTC; the gap's end is then the instant the clocks jump to
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return _gap_end(wall, zone)
    # fold=0 is the earlier of two occurrences of an ambiguous time: it fires once, there
    return first.timestamp()


def _gap_end(wall: datetime, zone: ZoneInfo) -> float:
    """The instant the clocks jump over the non-existent `wall` time.

    Read with the offset before the jump (fold=0) `wall` lands after it, read with the offset
    after (fold=1) before it; between the two, search (to the second) for the first instant
    whose local time is past `wall`."""
    readings = (wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1))
    low = min(r.timestamp() for r in readings)
    high = max(r.timestamp() for r in readings)
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return float(high)


def local_day(at: float, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(at, zone).date()


def next_fire(hhmm: str, zone: ZoneInfo, now: float) -> tuple[float, date]:
    """The first instant strictly after `now` when `hhmm` happens in `zone`, and the local
    day it belongs to."""
    day = local_day(now, zone)
    for offset in range(3):  # today, or tomorrow; a third day covers a skipped calendar day
        candidate = day + timedelta(days=offset)
        due = fire_on(candidate, hhmm, zone)
        if due > now:
            return due, candidate
    raise AssertionError("a time of day happens within three days")  # pragma: no cover


@dataclass(frozen=True)
class DayBounds:
    """A local day as epochs: [start, end), and until when its agenda is of use."""

    start: float
    end: float
    useful_until: float


def day_bounds(day: date, zone: ZoneInfo) -> DayBounds:
    """Midnight to midnight in `zone` (23 or 25 hours long on a change day)."""

    # through fire_on: in a few zones midnight itself is skipped on the change day
    return DayBounds(
        start=fire_on(day, "00:00", zone),
        end=fire_on(day + timedelta(days=1), "00:00", zone),
        useful_until=fire_on(day, USEFUL_UNTIL.strftime("%H:%M"), zone),
    )


def member_zone(member_zone_name: str | None, org_default: str | None) -> tuple[ZoneInfo, bool]:
    """The zone a member's agenda keeps: their chat zone, else the org's default, else UTC;
    and whether it was a default (the message then says so)."""
    own = valid_zone(member_zone_name)
    if own is not None:
        return own, False
    return valid_zone(org_default) or ZoneInfo(DEFAULT_ZONE), True
