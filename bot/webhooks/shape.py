"""What a webhook receives: one event, as versioned JSON.

    {
      "id": "evt_<32 hex>",          stable across retries: deduplicate on it
      "type": "booking.booked",      see TYPES
      "version": 1,                  the shape of "data"; a change that breaks it is version 2
      "created": 1800000000,         when Slotbot recorded the event (unix seconds)
      "org": "<org id>",
      "data": {...}
    }

"data" by type:
- booking.booked|rescheduled|cancelled|declined: {"candidate": {"id", "email", "name"},
  "booking": {"id", "start", "end", "zone", "previous_start", "meeting_url"},
  "recruiter_id"} (times as Cronofy sent them, ISO-8601; absent values are null);
- candidate.note_added: {"candidate": {...}, "note": {"text", "author_id", "booking_id"}};
- candidate.erased: {"candidate": {"id"}} — the id only: the rest is gone;
- ping: {"url"} — sent by `/cronofy webhook test`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.outbox.jobs import BadJob
from bot.store.records import Booking, Candidate, TimelineEntry

VERSION = 1
BOOKING_TYPES = {
    "booked": "booking.booked",
    "rescheduled": "booking.rescheduled",
    "cancelled": "booking.cancelled",
    "declined": "booking.declined",
}
NOTE_ADDED = "candidate.note_added"
ERASED = "candidate.erased"
PING = "ping"
TYPES = frozenset({*BOOKING_TYPES.values(), NOTE_ADDED, ERASED, PING})


@dataclass(frozen=True)
class WebhookEvent:
    """One event, as sent. `data` is JSON written by the builders below and only ever sent
    on, never read: its shape is documented above, per type."""

    event_id: str
    type: str
    created: int
    org_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "type": self.type,
            "version": VERSION,
            "created": self.created,
            "org": self.org_id,
            "data": self.data,
        }

    def body(self) -> bytes:
        """The request body: the same bytes at every try (the id included)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_dict(cls, value: Any) -> WebhookEvent:
        if not isinstance(value, dict):
            raise BadJob("event must be an object")
        event_id, kind, created = value.get("id"), value.get("type"), value.get("created")
        org_id, data = value.get("org"), value.get("data")
        if not isinstance(event_id, str) or not event_id:
            raise BadJob("event without an id")
        if kind not in TYPES:
            raise BadJob(f"unknown event type {kind!r}")
        if not isinstance(created, int) or isinstance(created, bool):
            raise BadJob("event created must be unix seconds")
        if not isinstance(org_id, str) or not isinstance(data, dict):
            raise BadJob("event without org or data")
        return cls(event_id, str(kind), created, org_id, data)


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def _candidate(candidate: Candidate) -> dict[str, Any]:
    return {"id": candidate.candidate_id, "email": candidate.email, "name": candidate.name}


def booking_event(
    org_id: str,
    candidate: Candidate,
    entry: TimelineEntry,
    booking: Booking | None,
    *,
    now: float,
) -> WebhookEvent | None:
    """The event of a booking's timeline entry; None for entries no webhook is told of
    ("other": Cronofy's reminders and notices)."""
    kind = BOOKING_TYPES.get(entry.kind)
    if kind is None:
        return None
    data = {
        "candidate": _candidate(candidate),
        "booking": {
            "id": entry.booking_id,
            "start": entry.start,
            "end": entry.end,
            "zone": entry.zone,
            "previous_start": entry.previous_start,
            "meeting_url": entry.meeting_url or (booking.meeting_url if booking else None),
        },
        "recruiter_id": entry.recruiter_id,
    }
    return WebhookEvent(new_event_id(), kind, int(now), org_id, data)


def note_event(
    org_id: str, candidate: Candidate, entry: TimelineEntry, *, now: float
) -> WebhookEvent:
    data = {
        "candidate": _candidate(candidate),
        "note": {
            "text": entry.note,
            "author_id": entry.recruiter_id,
            "booking_id": entry.booking_id,
        },
    }
    return WebhookEvent(new_event_id(), NOTE_ADDED, int(now), org_id, data)


def erased_event(org_id: str, candidate_id: str, *, now: float) -> WebhookEvent:
    """A candidate erased: their id, which the receiver knows them by, and nothing else."""
    return WebhookEvent(
        new_event_id(), ERASED, int(now), org_id, {"candidate": {"id": candidate_id}}
    )


def ping_event(org_id: str, url: str, *, now: float) -> WebhookEvent:
    return WebhookEvent(new_event_id(), PING, int(now), org_id, {"url": url})
