"""From a verified, parsed callback to the one write that records it (`EventWrite`)."""

from __future__ import annotations

import hashlib

from bot.alerts.parse import Notification
from bot.alerts.profiles import resolve
from bot.alerts.routing import route_alert
from bot.chat import DeliveryTarget
from bot.errors import StaleBooking
from bot.lifecycle.panel import choose, interviewers
from bot.lifecycle.plan import plan_timers
from bot.outbox.kinds.notice import notice_job
from bot.outbox.kinds.profile_disconnected import profile_disconnected_job
from bot.store.base import Store
from bot.store.records import AuditEntry, EventWrite, Job, Org
from bot.webhooks.events import booking_event, webhook_jobs
from cards import privacy
from cards.model import Card

# Cronofy retries a failed delivery for up to a day; remember digests well beyond that
DEDUPE_TTL = 3 * 24 * 3600.0
# tries to record one callback while other callbacks for its booking keep changing it; past
# this the store error is the answer (503) and Cronofy delivers it again later
RECORD_TRIES = 8


def dedupe_key(org_id: str, body: bytes) -> str:
    """Cronofy sends no delivery id and no timestamp: the same bytes are the same delivery."""
    digest = hashlib.sha256(org_id.encode("utf-8") + b"\n" + body).hexdigest()
    return f"cronofy_callback:{digest}"


def _audit(org: Org, note: Notification, action: str, now: float) -> AuditEntry:
    detail: dict[str, object] = {"type": note.raw_type}
    if note.channel_id:
        detail["channel_id"] = note.channel_id
    if note.booking_id:
        detail["booking_id"] = note.booking_id
    return AuditEntry(org_id=org.org_id, actor="cronofy", action=action, detail=detail, at=now)


def admin_notices(org: Org, card: Card, *, now: float) -> list[Job]:
    return [
        notice_job(
            org.org_id, DeliveryTarget(org.platform, org.org_id, "dm", user_id=admin), card, now=now
        )
        for admin in org.admins
    ]


async def data_request_card(store: Store, org: Org, note: Notification) -> Card:
    """Erase with one button when the request names (by email) a candidate of the org;
    otherwise the card says to run /cronofy candidate erase. The card names nobody: it
    stays in the admins' chats after the erasure."""
    email = note.extra.get("email")
    candidate = await store.find_candidate_by_email(org.org_id, email) if email else None
    if candidate is None:
        return privacy.data_request()
    return privacy.data_request_for_candidate(candidate.candidate_id)


async def build_write(
    store: Store, org: Org, note: Notification, body: bytes, *, now: float
) -> EventWrite:
    """Everything this callback changes: profile, timeline, booking, jobs, audit."""
    write = EventWrite(
        dedupe_key=dedupe_key(org.org_id, body), dedupe_ttl=DEDUPE_TTL, org_id=org.org_id
    )
    if note.is_scheduling:
        resolution = await resolve(store, org, note, now=now)
        write.booking = resolution.booking
        write.booking_version = resolution.booking_version
        if resolution.candidate is not None:
            write.candidate = resolution.candidate
            write.timeline = resolution.timeline
        else:
            # nobody to file it under: keep a trace of it all the same
            write.audit = _audit(org, note, "cronofy.unmatched_callback", now)
        # the booking's panel, read once for both: who is told, and who is reminded
        booking = resolution.booking
        if booking is None or not resolution.alert:
            panel = []
        elif resolution.members is not None:
            panel = choose(resolution.members, booking)
        else:
            panel = await interviewers(store, booking)
        write.jobs = await route_alert(
            store, org, note, resolution, now=now, interviewers=panel, members=resolution.members
        )
        timers = await plan_timers(store, org, resolution, now=now, interviewers=panel)
        write.jobs += timers.jobs
        write.cancel_timers = timers.cancel
        if org.webhooks and write.candidate is not None and write.timeline is not None:
            # told in the callback's own write: an event is sent if and only if it is recorded
            event = booking_event(
                org.org_id, write.candidate, write.timeline, resolution.current, now=now
            )
            if event is not None:
                write.jobs += webhook_jobs(org, event, now=now)
        return write
    if note.raw_type == "profile_disconnected":
        write.audit = _audit(org, note, "cronofy.profile_disconnected", now)
        write.jobs = [
            profile_disconnected_job(
                org.org_id, note.subject or note.channel_id or "", note.raw_type, now=now
            )
        ]
    elif note.raw_type == "gdpr_requested":
        write.audit = _audit(org, note, "cronofy.gdpr_requested", now)
        write.jobs = admin_notices(org, await data_request_card(store, org, note), now=now)
    elif note.raw_type != "change":
        # verification, initial sync, unknown types: recorded and acknowledged
        write.audit = _audit(org, note, f"cronofy.{note.family}_notification", now)
    return write


async def record_event(
    store: Store, org: Org, note: Notification, body: bytes, *, now: float
) -> tuple[bool, EventWrite]:
    """Decide what the callback changes and write it in one step: (written?, the write).

    False means a replay (nothing written). The decision rests on the booking as read; when
    another callback for the same booking is written in between, the store refuses this write
    (StaleBooking) and it is decided again on a fresh read, so two concurrent callbacks are
    applied one after the other, never one over the other.
    """
    for attempt in range(RECORD_TRIES):
        write = await build_write(store, org, note, body, now=now)
        try:
            return await store.commit_event(write), write
        except StaleBooking:
            if attempt == RECORD_TRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
