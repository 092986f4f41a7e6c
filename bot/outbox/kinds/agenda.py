"""The "agenda" job: a member's morning direct message listing that day's interviews.

A timer (`bot.timers.agenda_key(org, user)`), one per member with the agenda on. When it
fires it lists the member's interviews of its local day (booked or rescheduled, theirs as
recruiter or on the panel), sends them only when there is at least one, then sets the next
morning's timer under the same key (the job replaces itself). The time of day and zone are
read from the member when it fires, so a change made with `/schedule agenda` since is
followed, and a member who turned it off (or is gone) gets nothing and no next timer.

Fired after local noon of its day (every process was down all morning) it is dropped as
late, and the next one set all the same; an agenda asked for after noon has an hour. A worker that dies after sending finds the sent
marker when the job is claimed again and only sets the next timer (`finish_sent`).

Stored payload: {"target": <DeliveryTarget dict, a DM>, "day": "YYYY-MM-DD", "zone": <IANA>}.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.chat import DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError
from bot.lifecycle import agenda as schedule
from bot.lifecycle.panel import concerns
from bot.outbox.jobs import (
    BadJob,
    Delivered,
    JobKind,
    SentMarker,
    dropped_late,
    parse_target,
    target_to_dict,
)
from bot.store.base import Store
from bot.store.records import Job, Member, Org
from bot.timers import Lateness, agenda_key
from bot.timeutil import parse_instant
from cards import agenda as cards

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt

NAME = "agenda"
# the states of a booking that is still to happen
LIVE_STATES = ("booked", "rescheduled")
# an agenda set for the afternoon is still of use this long after its time
LATE_GRACE = 3600.0


@dataclass(frozen=True)
class Agenda:
    target: DeliveryTarget  # the member's direct messages
    day: date  # the member's local day the agenda covers
    zone: str  # the zone `day` is a day of (IANA name)

    @property
    def seq(self) -> int:
        return 0  # no booking behind it

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": target_to_dict(self.target),
            "day": self.day.isoformat(),
            "zone": self.zone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Agenda:
        target = parse_target(data.get("target"))
        if target.kind != "dm" or not target.user_id:
            raise BadJob("an agenda goes to a member's direct messages")
        day, zone = data.get("day"), data.get("zone")
        if not isinstance(day, str):
            raise BadJob("no day")
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise BadJob(f"day {day[:20]!r} is not a date") from None
        if not isinstance(zone, str) or schedule.valid_zone(zone) is None:
            raise BadJob("no known time zone")
        return cls(target, parsed, zone)


def next_agenda(member: Member, org: Org | None, *, now: float) -> Job | None:
    """The timer of `member`'s next agenda (None: the agenda is off), to enqueue."""
    if member.agenda_at is None or schedule.parse_hhmm(member.agenda_at) is None:
        return None
    zone, _ = schedule.member_zone(member.chat_zone, org.default_zone if org else None)
    due, day = schedule.next_fire(member.agenda_at, zone, now)
    platform = org.platform if org is not None else member.org_id.split(":", 1)[0]
    target = DeliveryTarget(platform, member.org_id, "dm", user_id=member.user_id)
    payload = Agenda(target, day, zone.key)
    return KIND.timer(
        member.org_id, payload, key=agenda_key(member.org_id, member.user_id), due=due, now=now
    )


async def interviews(
    store: Store, member: Member, day: date, zone_name: str
) -> list[cards.AgendaItem]:
    """`member`'s interviews that start on `day` in the zone: booked or rescheduled, theirs as
    recruiter or on the panel."""
    zone = schedule.valid_zone(zone_name)
    assert zone is not None  # checked when the payload was read
    bounds = schedule.day_bounds(day, zone)
    # starts are ISO text in various offsets: a date two days earlier sorts before any of
    # the day's, whatever the offset; the exact day is decided on the instant below
    since = (day - timedelta(days=2)).isoformat()
    items: list[cards.AgendaItem] = []
    for booking in await store.list_bookings(member.org_id, start_after=since):
        if booking.state not in LIVE_STATES or not concerns(member, booking):
            continue
        start = parse_instant(booking.start, booking.zone)
        if start is None or not bounds.start <= start.timestamp() < bounds.end:
            continue
        name = ""
        if booking.candidate_id:
            candidate = await store.get_candidate(member.org_id, booking.candidate_id)
            if candidate is not None:
                name = candidate.name or candidate.email
        items.append(
            cards.AgendaItem(
                start=start,
                end=parse_instant(booking.end, booking.zone),
                candidate_name=name,
                meeting_url=booking.meeting_url,
                rescheduled=booking.state == "rescheduled",
            )
        )
    return items


async def send_agenda(attempt: Attempt, agenda: Agenda) -> Delivered:
    services, target = attempt.services, agenda.target
    store, now = services.store, services.clock()
    assert target.user_id is not None  # checked when the payload was read
    member = await store.get_member(target.org_id, target.user_id)
    org = await store.get_org(target.org_id)
    if member is None or member.agenda_at is None:
        # turned off (or forgotten) since the timer was set: nothing now, nothing next
        return Delivered(target.platform, f"{target.key}: agenda off")
    zone = schedule.valid_zone(agenda.zone)
    assert zone is not None
    if lateness(agenda, zone, due=attempt.job.not_before).too_late(now):
        await _set_next(attempt, member, org, now)
        return dropped_late(target.platform, "agenda")
    items = await interviews(store, member, agenda.day, agenda.zone)
    if items:
        _, defaulted = schedule.member_zone(member.chat_zone, org.default_zone if org else None)
        card = cards.agenda(agenda.day, cards.AgendaZone(agenda.zone, defaulted), items)
        ref = await attempt.adapter(target.platform).send(target, card)
        await attempt.record_sent(ref)
    await _set_next(attempt, member, org, now)
    return Delivered(target.platform, f"{target.key}: {len(items)} interview(s)")


def lateness(agenda: Agenda, zone: ZoneInfo, *, due: float) -> Lateness:
    """Of use until local noon of its day, or for an hour after its time when that is later
    (a member who asked for it at 13:00 still gets it at 13:00)."""
    noon = schedule.day_bounds(agenda.day, zone).useful_until
    return Lateness(due=due, until=max(noon, due + LATE_GRACE))


async def _set_next(attempt: Attempt, member: Member, org: Org | None, now: float) -> None:
    job = next_agenda(member, org, now=now)
    if job is not None:
        await attempt.enqueue([job])


async def next_after_sent(attempt: Attempt, agenda: Agenda, marker: SentMarker) -> Delivered:
    """Sent by a worker that died before its ack: only the next morning's timer is left."""
    target = agenda.target
    assert target.user_id is not None
    store, now = attempt.services.store, attempt.services.clock()
    member = await store.get_member(target.org_id, target.user_id)
    if member is not None:
        await _set_next(attempt, member, await store.get_org(target.org_id), now)
    return Delivered(target.platform, f"{target.key}: sent before, next one set")


async def next_after_undeliverable(attempt: Attempt, agenda: Agenda, error: DeliveryError) -> None:
    """Today's could not be sent: tomorrow's may, unless the member or Slotbot's access is
    gone (then every morning would only add a dead letter; `/schedule agenda on` sets it
    again)."""
    if error.failure in (DeliveryFailure.GONE, DeliveryFailure.AUTH):
        return
    await next_after_sent(attempt, agenda, SentMarker(at=attempt.services.clock()))


KIND = JobKind(
    name=NAME,
    parse=Agenda.from_dict,
    deliver=send_agenda,
    finish_sent=next_after_sent,
    undeliverable=next_after_undeliverable,
)


def first_fire(job: Job) -> datetime:
    """When a timer made by `next_agenda` fires, as an aware datetime (for the answer)."""
    return datetime.fromtimestamp(job.not_before, UTC)
