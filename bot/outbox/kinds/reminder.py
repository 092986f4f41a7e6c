"""The "reminder" job: a timer that tells one interviewer, in their direct messages, that an
interview starts soon (`bot.lifecycle.reminders` sets it, one per interviewer and booking).

Stored payload: {"target": <DeliveryTarget dict, a DM>, "booking_id": ..., "candidate_id":
<opaque id or null>, "candidate_name": ..., "start": <ISO>, "end": <ISO or null>, "zone":
<the booking's zone, to read start/end>, "meeting_url": <or null>}.

When it fires, the booking is read again: a reminder whose booking was cancelled, moved to
another start, or no longer has this member on its panel is dropped (its replacement, if
any, is the timer of the same key set by the change). So is a reminder for a member who has
turned reminders off since, and one whose interview has already started (late).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import timers
from bot.chat import DeliveryTarget
from bot.lifecycle import panel
from bot.outbox.jobs import (
    BadJob,
    Delivered,
    JobKind,
    dropped_late,
    dropped_stale,
    parse_target,
    target_to_dict,
)
from bot.timeutil import epoch_of, parse_instant
from cards.reminders import ReminderView, reminder

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt

# the states in which a booking still has an interview to remind of
HOLDS_TIME = ("booked", "rescheduled")


@dataclass(frozen=True)
class Reminder:
    target: DeliveryTarget
    booking_id: str
    start: str  # ISO-8601 as the booking holds it
    end: str | None = None
    zone: str | None = None  # the booking's zone: how `start` and `end` are read
    candidate_id: str | None = None
    candidate_name: str = ""
    meeting_url: str | None = None

    @property
    def seq(self) -> int:
        return 0  # reminders change no message: no version to keep in order

    @property
    def start_epoch(self) -> float:
        value = epoch_of(self.start, self.zone)
        if value is None:  # checked when parsed
            raise BadJob("reminder without a readable start")
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": target_to_dict(self.target),
            "booking_id": self.booking_id,
            "candidate_id": self.candidate_id,
            "candidate_name": self.candidate_name,
            "start": self.start,
            "end": self.end,
            "zone": self.zone,
            "meeting_url": self.meeting_url,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reminder:
        target = parse_target(data.get("target"))
        if target.kind != "dm" or not target.user_id:
            raise BadJob("a reminder goes to a member's direct messages")
        booking_id, start = data.get("booking_id"), data.get("start")
        if not isinstance(booking_id, str) or not booking_id:
            raise BadJob("reminder without a booking")
        if not isinstance(start, str) or epoch_of(start) is None:
            raise BadJob("reminder without a readable start")
        texts: dict[str, str | None] = {}
        for field_name in ("end", "zone", "candidate_id", "meeting_url"):
            value = data.get(field_name)
            if not isinstance(value, str | None):
                raise BadJob(f"reminder {field_name} must be text")
            texts[field_name] = value or None
        name = data.get("candidate_name")
        return cls(
            target=target,
            booking_id=booking_id,
            start=start,
            end=texts["end"],
            zone=texts["zone"],
            candidate_id=texts["candidate_id"],
            candidate_name=name if isinstance(name, str) else "",
            meeting_url=texts["meeting_url"],
        )


async def send_reminder(attempt: Attempt, job: Reminder) -> Delivered:
    services = attempt.services
    store = services.store
    target = job.target
    org_id = attempt.job.org_id
    user_id = target.user_id or ""
    start = job.start_epoch
    if timers.Lateness(due=attempt.job.not_before, until=start).too_late(services.clock()):
        return dropped_late(target.platform, "reminder")
    booking = await store.get_booking(org_id, job.booking_id)
    if (
        booking is None
        or booking.state not in HOLDS_TIME
        or epoch_of(booking.start, booking.zone) != start
    ):
        # cancelled, or moved: the change that did it set (or cancelled) this key's timer
        return dropped_stale(target.platform, "reminder", "the booking changed")
    reader = next(
        (m for m in await panel.interviewers(store, booking) if m.user_id == user_id), None
    )
    if reader is None:
        return dropped_stale(target.platform, "reminder", "no longer on the panel")
    if reader.reminder_minutes is None:
        return dropped_stale(target.platform, "reminder", "reminders turned off")
    now = services.clock()
    begins = parse_instant(job.start, job.zone)
    assert begins is not None  # start_epoch read it
    view = ReminderView(
        candidate_name=job.candidate_name,
        start=begins,
        end=parse_instant(job.end, job.zone),
        zone=reader.zone,
        minutes_left=max(1, round((start - now) / 60)),
        meeting_url=booking.meeting_url or job.meeting_url,
        candidate_id=job.candidate_id,
    )
    await attempt.adapter(target.platform).send(target, reminder(view))
    attempt.sent()
    return Delivered(target.platform, f"{target.key}, reminder for {job.booking_id}")


KIND = JobKind(name="reminder", parse=Reminder.from_dict, deliver=send_reminder)
