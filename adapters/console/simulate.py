"""What Cronofy would send when a candidate acts on the link a recruiter gave them.

`simulate booked|rescheduled|cancelled|declined <email>` finds the link handed to that email in
this session (its `correlation_id`, which Cronofy echoes back), builds the callback Cronofy's
Scheduler sends for that event (`notification.type` scheduling_request_…, the candidate as the
slot selector, the event and its metadata) and has the stand-in deliver it, signed with the
org's client secret, to the org's push URL, as if the admin had pasted that URL into Cronofy.
One booking per link, so a reschedule or a cancellation changes the booking the first callback
made, and Slotbot updates the message it posted for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from adapters.console.standin import BOOKING_PATH, MEETING_PATH, ZONE, CronofyStandIn, push
from bot.cronofy.urls import push_url
from bot.runtime import Services
from bot.store.records import Booking, Candidate
from cards import console as say

NOTIFICATION_TYPES = {
    "booked": "scheduling_request_time_chosen",
    "rescheduled": "scheduling_request_rescheduled",
    "cancelled": "scheduling_request_cancelled",
    "declined": "scheduling_request_declined",
}
INTERVIEW_MINUTES = 30
FIRST_SLOT = time(10, 0)


def correlation_id_of(url: str) -> str | None:
    """The `correlation_id` a link handed to a candidate carries, if it carries one."""
    values = parse_qs(urlsplit(url).query).get("correlation_id", [])
    return values[0] if len(values) == 1 and values[0] else None


def booking_id_for(correlation_id: str) -> str:
    """One Cronofy scheduling request per link: the same id for every event of its booking."""
    return "srq_" + hashlib.sha256(correlation_id.encode("utf-8")).hexdigest()[:24]


def next_working_day(after: datetime, zone: ZoneInfo) -> datetime:
    """FIRST_SLOT on the first weekday after `after`, in `zone`."""
    day = after.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, FIRST_SLOT, zone)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parsed(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def event_times(kind: str, booking: Booking | None, now: datetime) -> tuple[str, str] | None:
    """The interview's start and end for this event: a first booking takes the next working
    day, a reschedule moves the booking a working day later, a cancellation keeps its time,
    and a candidate who declined chose none."""
    if kind == "declined":
        return None
    zone = ZoneInfo(ZONE)
    current = _parsed(booking.start) if booking is not None else None
    if kind == "rescheduled":
        start = next_working_day(current or now, zone)
    else:
        start = current or next_working_day(now, zone)
    return _iso(start), _iso(start + timedelta(minutes=INTERVIEW_MINUTES))


def payload(
    kind: str,
    candidate: Candidate,
    correlation_id: str,
    times: tuple[str, str] | None,
    *,
    base_url: str,
    now: datetime,
) -> dict[str, Any]:
    """A Scheduler callback, in the shape Cronofy documents for
    `scheduling_request_time_chosen`, with the event's times when there are any."""
    who = candidate.name or candidate.email
    request_id = booking_id_for(correlation_id)
    page = f"{base_url}{BOOKING_PATH}{request_id}"
    event: dict[str, Any] = {
        "summary": say.simulated_summary(who),
        "metadata": {
            "scheduler": {
                "correlation_id": correlation_id,
                "utm_source": "console",
                "captured_data.phone_number": say.SIMULATED_PHONE,
                "captured_data.notes": say.SIMULATED_NOTES,
            }
        },
    }
    if times is not None:
        event["start"] = {"time": times[0], "tzid": ZONE}
        event["end"] = {"time": times[1], "tzid": ZONE}
        if kind != "cancelled":
            event["conferencing"] = {"join_url": f"{base_url}{MEETING_PATH}{request_id}"}
    return {
        "notification": {"type": NOTIFICATION_TYPES[kind], "triggered_at": _iso(now)},
        "scheduling_request": {
            "scheduling_request_id": request_id,
            "slot_selection": "complete",
            "summary": say.simulated_summary(who),
            "duration": {"minutes": INTERVIEW_MINUTES},
            "recipient_operations": {
                "view_url": page,
                "reschedule_url": f"{page}?reschedule=true",
                "decline_url": f"{page}?decline=true",
            },
            "recipients": [
                {"email": candidate.email, "display_name": candidate.name, "slot_selector": True}
            ],
            "event": event,
        },
    }


@dataclass(frozen=True)
class Outcome:
    """What happened: `problem` when nothing was sent, else Slotbot's answer."""

    problem: str = ""
    who: str = ""
    status: int = 0
    answer: str = ""


async def find_link(
    services: Services, org_id: str, email: str, correlation_ids: list[str]
) -> tuple[Candidate, str] | None:
    """The candidate with this email and the newest link handed to them in this session."""
    store = services.store
    for correlation_id in reversed(correlation_ids):
        link = await store.get_tracked_link(correlation_id)
        if link is None or link.org_id != org_id:
            continue
        candidate = await store.get_candidate(org_id, link.candidate_id)
        if candidate is not None and candidate.email == email:
            return candidate, correlation_id
    return None


async def simulate(
    services: Services,
    standin: CronofyStandIn,
    org_id: str,
    kind: str,
    email: str,
    correlation_ids: list[str],
) -> Outcome:
    store = services.store
    org = await store.get_org(org_id)
    secret = standin.secret_for(org.cronofy.client_id) if org and org.cronofy else None
    if org is None or not org.org_key or secret is None:
        return Outcome(problem=say.SIMULATE_NOT_SET_UP)
    email = email.strip().lower()
    found = await find_link(services, org_id, email, correlation_ids)
    if found is None:
        return Outcome(problem=say.simulate_no_link(email))
    candidate, correlation_id = found
    booking = await store.get_booking(org_id, booking_id_for(correlation_id))
    now = datetime.fromtimestamp(services.clock(), UTC)
    body = payload(
        kind,
        candidate,
        correlation_id,
        event_times(kind, booking, now),
        base_url=standin.url,
        now=now,
    )
    status, answer = await push(push_url(services.settings, org.org_key), secret, body)
    said = answer.get("status", "") if isinstance(answer, dict) else str(answer)[:80]
    return Outcome(who=candidate.name or candidate.email, status=status, answer=str(said))
