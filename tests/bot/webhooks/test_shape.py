"""The events' JSON shapes, and the webhook job's payload read back (or refused)."""

from __future__ import annotations

import json

import pytest

from bot.outbox.jobs import BadJob
from bot.outbox.kinds.webhook import PLATFORM, WebhookDelivery, carries_candidate, delivery_job
from bot.store.records import Booking, Candidate, Org, TimelineEntry, WebhookConfig
from bot.webhooks.events import webhook_jobs
from bot.webhooks.shape import WebhookEvent, booking_event, erased_event, note_event, ping_event

ORG = "slack:T0SHAPE"
NOW = 1_800_000_000.5
CANDIDATE = Candidate(ORG, "cand_1", "ann@example.com", "Ann Example", "UREC")


def _hooks(n: int) -> list[WebhookConfig]:
    return [WebhookConfig(f"wh{i}", f"https://h{i}.example.com/x", "enc") for i in range(n)]


def test_a_booking_event() -> None:
    entry = TimelineEntry(
        kind="rescheduled",
        at=NOW,
        booking_id="srq_1",
        start="2027-01-05T10:00:00Z",
        end="2027-01-05T10:30:00Z",
        zone="Europe/Paris",
        previous_start="2027-01-04T10:00:00Z",
        recruiter_id="UREC",
    )
    booking = Booking(ORG, "srq_1", meeting_url="https://meet.example.com/abc")
    event = booking_event(ORG, CANDIDATE, entry, booking, now=NOW)
    assert event is not None
    assert json.loads(event.body()) == {
        "id": event.event_id,
        "type": "booking.rescheduled",
        "version": 1,
        "created": 1_800_000_000,
        "org": ORG,
        "data": {
            "candidate": {"id": "cand_1", "email": "ann@example.com", "name": "Ann Example"},
            "booking": {
                "id": "srq_1",
                "start": "2027-01-05T10:00:00Z",
                "end": "2027-01-05T10:30:00Z",
                "zone": "Europe/Paris",
                "previous_start": "2027-01-04T10:00:00Z",
                "meeting_url": "https://meet.example.com/abc",
            },
            "recruiter_id": "UREC",
        },
    }


@pytest.mark.parametrize("kind", ["booked", "cancelled", "declined"])
def test_each_booking_kind_has_its_type(kind: str) -> None:
    event = booking_event(ORG, CANDIDATE, TimelineEntry(kind=kind, at=NOW), None, now=NOW)
    assert event is not None and event.type == f"booking.{kind}"


def test_cronofys_other_notices_are_not_events() -> None:
    assert booking_event(ORG, CANDIDATE, TimelineEntry(kind="other", at=NOW), None, now=NOW) is None


def test_note_erased_and_ping() -> None:
    entry = TimelineEntry(kind="note", at=NOW, booking_id="srq_1", recruiter_id="UINT", note="Good")
    note = note_event(ORG, CANDIDATE, entry, now=NOW)
    assert note.type == "candidate.note_added"
    assert note.data["note"] == {"text": "Good", "author_id": "UINT", "booking_id": "srq_1"}
    erased = erased_event(ORG, "cand_1", now=NOW)
    assert (erased.type, erased.data) == ("candidate.erased", {"candidate": {"id": "cand_1"}})
    assert "ann@example.com" not in erased.body().decode()
    ping = ping_event(ORG, "https://h.example.com/x", now=NOW)
    assert (ping.type, ping.data) == ("ping", {"url": "https://h.example.com/x"})
    assert len({note.event_id, erased.event_id, ping.event_id}) == 3


def test_one_job_per_webhook_each_in_its_own_lane_with_the_same_event() -> None:
    org = Org(org_id=ORG, platform="slack", webhooks=_hooks(2))
    event = erased_event(ORG, "cand_1", now=NOW)
    jobs = webhook_jobs(org, event, now=NOW)
    assert [j.kind for j in jobs] == ["webhook", "webhook"]
    payloads = [WebhookDelivery.from_dict(j.payload) for j in jobs]
    assert [d.event for d in payloads] == [event, event]
    assert [(d.target.platform, d.target.key) for d in payloads] == [
        (PLATFORM, "channel:wh0"),
        (PLATFORM, "channel:wh1"),
    ]
    assert webhook_jobs(Org(org_id=ORG, platform="slack"), event, now=NOW) == []
    only = webhook_jobs(org, event, now=NOW, only=org.webhooks[1])
    assert [WebhookDelivery.from_dict(j.payload).webhook_id for j in only] == ["wh1"]


def test_a_payload_reads_back_the_same() -> None:
    event = ping_event(ORG, "https://h.example.com/x", now=NOW)
    job = delivery_job(ORG, _hooks(1)[0], event, now=NOW)
    delivery = WebhookDelivery.from_dict(json.loads(json.dumps(job.payload)))
    assert delivery.to_dict() == job.payload
    assert delivery.event.body() == event.body()  # the same bytes at every try


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"webhook_id": ""}, "webhook_id"),
        ({"event": None}, "event must be an object"),
        ({"event": {"id": "e", "type": "nope", "created": 1, "org": ORG, "data": {}}}, "type"),
        ({"event": {"id": "e", "type": "ping", "created": "1", "org": ORG, "data": {}}}, "unix"),
        ({"event": {"id": "e", "type": "ping", "created": 1, "org": ORG, "data": []}}, "data"),
        ({"target": None}, "target"),
    ],
)
def test_a_bad_payload_is_a_bad_job(change: dict[str, object], problem: str) -> None:
    job = delivery_job(ORG, _hooks(1)[0], ping_event(ORG, "u", now=NOW), now=NOW)
    with pytest.raises(BadJob, match=problem):
        WebhookDelivery.from_dict({**job.payload, **change})


def test_the_event_parses_from_its_dict() -> None:
    event = ping_event(ORG, "u", now=NOW)
    assert WebhookEvent.from_dict(event.to_dict()) == event


def test_an_erasure_can_find_the_jobs_that_carry_the_candidates_data() -> None:
    hook = _hooks(1)[0]
    entry = TimelineEntry(kind="booked", at=NOW)
    booked = booking_event(ORG, CANDIDATE, entry, None, now=NOW)
    assert booked is not None
    about = delivery_job(ORG, hook, booked, now=NOW)
    other = delivery_job(
        ORG,
        hook,
        note_event(ORG, Candidate(ORG, "cand_2", "b@example.com"), entry, now=NOW),
        now=NOW,
    )
    erased = delivery_job(ORG, hook, erased_event(ORG, "cand_1", now=NOW), now=NOW)
    assert carries_candidate(about, "cand_1")
    assert not carries_candidate(other, "cand_1")
    assert not carries_candidate(erased, "cand_1")  # the erasure's own event: the id only
