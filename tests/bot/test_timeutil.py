from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.timeutil import epoch_of, parse_instant


def test_a_time_with_an_offset_is_taken_as_written() -> None:
    assert parse_instant("2030-01-01T10:00:00Z") == datetime(2030, 1, 1, 10, tzinfo=UTC)
    value = parse_instant("2030-01-01T10:00:00+02:00", "America/New_York")
    assert value is not None and value.utcoffset() == timedelta(hours=2)


def test_a_bare_time_is_local_to_the_zone_given_else_utc() -> None:
    london_summer = parse_instant("2030-07-01T10:00:00", "Europe/London")
    assert london_summer == datetime(2030, 7, 1, 9, tzinfo=UTC)
    assert parse_instant("2030-07-01T10:00:00") == datetime(2030, 7, 1, 10, tzinfo=UTC)
    assert parse_instant("2030-07-01T10:00:00", "Not/AZone") == datetime(2030, 7, 1, 10, tzinfo=UTC)


def test_unreadable_times_are_none() -> None:
    for text in (None, "", "soon", "2030-13-01T10:00:00Z"):
        assert parse_instant(text) is None
        assert epoch_of(text) is None
    assert epoch_of("1970-01-01T00:01:00Z") == 60.0
