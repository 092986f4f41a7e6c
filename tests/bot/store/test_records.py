"""Records survive the JSON round trip the stores put them through."""

from __future__ import annotations

import json

import pytest

from bot.store.records import (
    AlertRoute,
    Booking,
    Candidate,
    CronofyConfig,
    EventWrite,
    Job,
    Org,
    TimelineEntry,
    from_dict,
    from_json,
    to_json,
)


def test_org_with_nested_records_round_trips() -> None:
    org = Org(
        org_id="slack:T1",
        platform="slack",
        cronofy=CronofyConfig("cid", "enc", "de", "U1", 1.5),
        routes=[AlertRoute("C1", ["booked"], "#hiring"), AlertRoute("C2")],
    )
    back = from_json(Org, to_json(org))
    assert back == org
    assert isinstance(back.cronofy, CronofyConfig)
    assert all(isinstance(r, AlertRoute) for r in back.routes)


def test_org_without_cronofy_or_routes() -> None:
    org = Org(org_id="teams:t", platform="teams")
    assert from_json(Org, to_json(org)) == org
    assert from_dict(Org, {"org_id": "teams:t", "platform": "teams", "routes": None}).routes == []


def test_event_write_round_trips() -> None:
    write = EventWrite(
        dedupe_key="k",
        dedupe_ttl=60.0,
        org_id="slack:T1",
        candidate=Candidate("slack:T1", "c1", "a@example.com"),
        timeline=TimelineEntry(kind="booked", at=1.0),
        booking=Booking(org_id="slack:T1", booking_id="b1"),
        jobs=[Job(job_id="j", org_id="slack:T1", kind="alert", payload={"x": [1, 2]})],
    )
    assert from_json(EventWrite, to_json(write)) == write


def test_unknown_keys_are_ignored() -> None:
    data = json.loads(to_json(Job(job_id="j", org_id="o", kind="dm")))
    data["added_in_a_later_version"] = True
    assert from_dict(Job, data) == Job(job_id="j", org_id="o", kind="dm")


def test_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(TypeError, match="Org"):
        from_json(Org, "[1, 2]")
