"""When the day's agenda fires: local time of day in the member's zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.lifecycle.agenda import day_bounds, next_fire, parse_hhmm, valid_zone

LONDON = valid_zone("Europe/London")
BERLIN = valid_zone("Europe/Berlin")
NEW_YORK = valid_zone("America/New_York")
assert LONDON and BERLIN and NEW_YORK


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:30", "08:30"), ("8:30", "08:30"), ("00:00", "00:00"), ("23:59", "23:59")],
)
def test_times_of_day_are_read_on_a_24_hour_clock(text: str, expected: str) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["24:00", "8", "08:60", "8.30", "8:30am", "", "-1:00", "0830"])
def test_anything_else_is_not_a_time(text: str) -> None:
    assert parse_hhmm(text) is None


def test_zones_are_checked_by_zoneinfo() -> None:
    assert valid_zone("Asia/Tokyo") is not None
    for bad in ("Mars/Olympus", "", None, "../../etc/passwd", "Europe/" + "x" * 80):
        assert valid_zone(bad) is None


def test_before_the_time_it_fires_today_after_it_tomorrow() -> None:
    due, day = next_fire("08:30", LONDON, utc("2026-06-10T06:00:00"))  # 07:00 BST
    assert at(due) == "2026-06-10 07:30:00" and day == date(2026, 6, 10)
    due, day = next_fire("08:30", LONDON, utc("2026-06-10T07:30:00"))  # exactly then: not again
    assert at(due) == "2026-06-11 07:30:00" and day == date(2026, 6, 11)


def test_europe_spring_forward_keeps_the_local_time() -> None:
    # Berlin: 2026-03-29 02:00 CET becomes 03:00 CEST
    due, _ = next_fire("08:30", BERLIN, utc("2026-03-28T08:00:00"))  # after Saturday's
    assert at(due) == "2026-03-29 06:30:00"  # 08:30 CEST
    saturday, _ = next_fire("08:30", BERLIN, utc("2026-03-27T08:00:00"))
    assert at(saturday) == "2026-03-28 07:30:00"  # 08:30 CET
    assert due - saturday == 23 * 3600  # the day is 23 hours long


def test_a_time_skipped_by_spring_forward_fires_when_the_clocks_jump() -> None:
    due, day = next_fire("02:30", BERLIN, utc("2026-03-28T12:00:00"))
    assert at(due) == "2026-03-29 01:00:00" and day == date(2026, 3, 29)  # 03:00 CEST
    due, _ = next_fire("01:30", LONDON, utc("2026-03-28T12:00:00"))  # London jumps at 01:00
    assert at(due) == "2026-03-29 01:00:00"  # 02:00 BST


def test_a_time_repeated_by_fall_back_fires_once_at_the_first() -> None:
    # London: 2026-10-25 02:00 BST becomes 01:00 GMT, 01:30 happens twice
    due, day = next_fire("01:30", LONDON, utc("2026-10-24T12:00:00"))
    assert at(due) == "2026-10-25 00:30:00" and day == date(2026, 10, 25)  # 01:30 BST
    # fired at the first; "now" inside the repeated hour must not fire it again that day
    again, day = next_fire("01:30", LONDON, due)
    assert at(again) == "2026-10-26 01:30:00" and day == date(2026, 10, 26)
    again, _ = next_fire("01:30", LONDON, utc("2026-10-25T01:15:00"))  # 01:15 GMT, second pass
    assert at(again) == "2026-10-26 01:30:00"


def test_us_changes_keep_the_local_time() -> None:
    # New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST
    due, _ = next_fire("08:30", NEW_YORK, utc("2026-03-07T14:00:00"))
    assert at(due) == "2026-03-08 12:30:00"  # 08:30 EDT
    due, _ = next_fire("02:15", NEW_YORK, utc("2026-03-07T14:00:00"))
    assert at(due) == "2026-03-08 07:00:00"  # skipped: 03:00 EDT
    due, _ = next_fire("08:30", NEW_YORK, utc("2026-10-31T14:00:00"))
    assert at(due) == "2026-11-01 13:30:00"  # 08:30 EST
    due, _ = next_fire("01:30", NEW_YORK, utc("2026-10-31T14:00:00"))
    assert at(due) == "2026-11-01 05:30:00"  # the first 01:30 (EDT)


def test_a_week_of_mornings_across_a_change_each_at_the_same_local_time() -> None:
    now = utc("2026-10-21T12:00:00")
    seen = []
    for _ in range(7):
        now, day = next_fire("08:30", NEW_YORK, now)
        local = datetime.fromtimestamp(now, NEW_YORK)
        assert (local.hour, local.minute) == (8, 30) and local.date() == day
        seen.append(day)
    assert len(set(seen)) == 7


def test_day_bounds_follow_the_change() -> None:
    spring = day_bounds(date(2026, 3, 29), LONDON)
    assert spring.end - spring.start == 23 * 3600
    assert at(spring.useful_until) == "2026-03-29 11:00:00"  # noon BST
    autumn = day_bounds(date(2026, 10, 25), LONDON)
    assert autumn.end - autumn.start == 25 * 3600
