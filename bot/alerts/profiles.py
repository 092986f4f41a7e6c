"""Candidate profiles: who a callback is about, and what it does to their booking.

A callback is matched to a candidate by the `correlation_id` Slotbot put on the link it handed
out (→ org, recruiter, candidate), else by the recipient's email (a profile is created for a
new address). Each event appends a timeline entry; a current, recognised one also moves the
booking to its new state.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace

from bot.alerts.parse import Notification, kind_for
from bot.store.base import Store
from bot.store.records import Booking, Candidate, Member, Org, TimelineEntry
from bot.timeutil import epoch_of

# states in which a booking holds a time: a new chosen time for it is a reschedule
_HOLDS_TIME = ("booked", "rescheduled")


@dataclass
class Resolution:
    """The outcome of matching one scheduling notification against what the store knows."""

    kind: str
    candidate: Candidate | None
    candidate_changed: bool
    recruiter_id: str | None
    booking: Booking | None
    timeline: TimelineEntry
    previous_start: str | None = None
    previous_end: str | None = None
    # False when the callback repeats what is already known (same time chosen again) or
    # arrived after a newer event for the same booking
    alert: bool = True
    # the stored booking version `booking` was decided on (EventWrite.booking_version)
    booking_version: int | None = None
    # the booking version the alerts of this event belong to (MessageRef.seq)
    seq: int = 0
    # the booking as it stands after this event (None: no booking known)
    current: Booking | None = None
    # the org's members, read with the booking (None: not read); the panel is chosen from them
    members: list[Member] | None = None


async def _recruiter_by_sub(store: Store, org_id: str, subs: tuple[str, ...]) -> str | None:
    if not subs:
        return None
    for member in await store.list_members(org_id):
        if member.cronofy_sub and member.cronofy_sub in subs:
            return member.user_id
    return None


async def match_candidate(
    store: Store, org: Org, note: Notification, *, now: float
) -> tuple[Candidate | None, bool, str | None]:
    """(candidate, created or changed?, recruiter id) for a notification."""
    if note.correlation_id:
        link = await store.get_tracked_link(note.correlation_id)
        if link is not None and link.org_id == org.org_id:
            candidate = await store.get_candidate(org.org_id, link.candidate_id)
            if candidate is not None:
                return candidate, False, link.member_id
    recruiter = await _recruiter_by_sub(store, org.org_id, note.participant_subs)
    recipient = next((r for r in note.recipients if r.email), None)
    if recipient is None or recipient.email is None:
        return None, False, recruiter
    candidate = await store.find_candidate_by_email(org.org_id, recipient.email)
    if candidate is None:
        candidate = Candidate(
            org_id=org.org_id,
            candidate_id=uuid.uuid4().hex,
            email=recipient.email.lower(),
            name=recipient.name or "",
            recruiter_id=recruiter,
            created_at=now,
        )
        return candidate, True, recruiter
    changed = False
    if recipient.name and not candidate.name:
        candidate = replace(candidate, name=recipient.name)
        changed = True
    return candidate, changed, recruiter or candidate.recruiter_id


async def resolve(store: Store, org: Org, note: Notification, *, now: float) -> Resolution:
    """Match the candidate, decide the kind (reschedule detection) and the booking's new state.

    The booking is changed only by an event that is current: one whose `triggered_at` is not
    older than the newest event already applied to it (a late one goes to the timeline only),
    and never by an unrecognised ("other") one. The write is made conditional on the version
    read here (`Resolution.booking_version`): if another callback changed the booking
    meanwhile, the store refuses it and the caller resolves again on a fresh read.
    """
    # the reads are independent: made together, they cost one hop to the SQLite thread (its
    # calls of one loop turn go as one batch) and one round trip's wait on Redis
    (candidate, changed, recruiter_id), existing, members = await _read(store, org, note, now=now)
    kind = kind_for(note.raw_type, org.type_overrides)
    if recruiter_id is None and existing is not None:
        recruiter_id = existing.recruiter_id
    triggered = epoch_of(note.triggered_at)
    # Cronofy may deliver events out of order (retries, parallel deliveries); an event without
    # triggered_at (Real-Time Scheduling callbacks) is taken in the order it arrives
    late = (
        existing is not None
        and triggered is not None
        and existing.last_triggered_at is not None
        and triggered < existing.last_triggered_at
    )
    previous_start: str | None = None
    previous_end: str | None = None
    alert = not late
    note_text = "arrived after a newer update: not applied" if late else ""
    if not late and existing is not None and existing.state in _HOLDS_TIME and existing.start:
        if kind == "booked" and note.start and note.start != existing.start:
            kind, previous_start, previous_end = "rescheduled", existing.start, existing.end
        elif kind == "booked" and note.start == existing.start:
            alert = False  # the same time chosen again: nothing new to tell anyone
            note_text = "same time chosen again"
        elif kind == "rescheduled" and note.start != existing.start:
            previous_start, previous_end = existing.start, existing.end

    booking: Booking | None = None
    version = existing.version if existing is not None else 0
    if note.booking_id and not late and kind != "other":
        base = existing or Booking(org_id=org.org_id, booking_id=note.booking_id)
        newest = base.last_triggered_at
        if triggered is not None and (newest is None or triggered > newest):
            newest = triggered
        booking = replace(
            base,
            candidate_id=(candidate.candidate_id if candidate else None) or base.candidate_id,
            recruiter_id=recruiter_id or base.recruiter_id,
            state=kind,
            start=note.start or base.start,
            end=note.end or base.end,
            zone=note.zone or base.zone,
            meeting_url=note.meeting_url or base.meeting_url,
            reschedule_url=note.reschedule_url or base.reschedule_url,
            decline_url=note.decline_url or base.decline_url,
            attendees=_attendees(note, candidate) or base.attendees,
            participants=list(note.participant_subs) or base.participants,
            updated_at=now,
            version=version + 1,
            last_triggered_at=newest,
        )
    shown = booking or existing
    timeline = TimelineEntry(
        kind=kind,
        at=now,
        booking_id=note.booking_id,
        start=note.start or (shown.start if shown else None),
        end=note.end or (shown.end if shown else None),
        zone=note.zone or (shown.zone if shown else None),
        previous_start=previous_start,
        recruiter_id=recruiter_id,
        meeting_url=note.meeting_url or (shown.meeting_url if shown else None),
        raw_type=note.raw_type,
        note=note_text,
    )
    if candidate is not None and recruiter_id and candidate.recruiter_id != recruiter_id:
        candidate = replace(candidate, recruiter_id=recruiter_id)
        changed = True
    return Resolution(
        kind=kind,
        candidate=candidate,
        candidate_changed=changed,
        recruiter_id=recruiter_id,
        booking=booking,
        timeline=timeline,
        previous_start=previous_start,
        previous_end=previous_end,
        alert=alert,
        booking_version=version if booking is not None else None,
        seq=booking.version if booking is not None else version,
        current=shown,
        members=members,
    )


async def _booking(store: Store, org_id: str, booking_id: str | None) -> Booking | None:
    return await store.get_booking(org_id, booking_id) if booking_id else None


async def _read(
    store: Store, org: Org, note: Notification, *, now: float
) -> tuple[tuple[Candidate | None, bool, str | None], Booking | None, list[Member]]:
    """The candidate match, the booking and the org's members, read at once; the first error
    is raised once all three have ended (none is left running, or failing unheard)."""
    matched, existing, members = await asyncio.gather(
        match_candidate(store, org, note, now=now),
        _booking(store, org.org_id, note.booking_id),
        store.list_members(org.org_id),
        return_exceptions=True,
    )
    if isinstance(matched, BaseException):
        raise matched
    if isinstance(existing, BaseException):
        raise existing
    if isinstance(members, BaseException):
        raise members
    return matched, existing, members


def _attendees(note: Notification, candidate: Candidate | None) -> list[str]:
    """The emails on the booking but the candidate's, in the order Cronofy gave them."""
    emails: list[str] = []
    for recipient in note.recipients:
        email = recipient.email
        if email and email not in emails and (candidate is None or email != candidate.email):
            emails.append(email)
    return emails
