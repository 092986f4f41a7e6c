"""Reminders before an interview: one timer per interviewer and booking.

Booked or rescheduled: each interviewer with reminders on (`Member.reminder_minutes`) gets
a timer at start minus their minutes, under `reminder_key(org, booking, member)`, so a
reschedule sets the same key again and moves it. A booking made (or moved) inside someone's
window reminds them at once; one that has already started reminds nobody. Cancelled or
declined: every interviewer's key is cancelled, those with reminders off too (they may
have turned them off after the timer was set).

What the timer does when it fires, and how it guards against a change that raced it, is
`bot.outbox.kinds.reminder`.

A member who changes their setting (`/schedule reminders`) has their upcoming interviews'
reminders planned again the same way (`replan_member`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.chat import DeliveryTarget
from bot.lifecycle.change import BookingChange, TimerPlan
from bot.lifecycle.panel import on_panel
from bot.outbox.kinds import reminder
from bot.store.base import Store
from bot.store.records import Member, Org
from bot.timers import reminder_key
from bot.timeutil import epoch_of

_SETS = ("booked", "rescheduled")
_CANCELS = ("cancelled", "declined")


def plan_reminders(change: BookingChange) -> TimerPlan:
    org = change.org
    booking = change.booking
    keys = {
        m.user_id: reminder_key(org.org_id, booking.booking_id, m.user_id)
        for m in change.interviewers
    }
    if change.kind in _CANCELS:
        return TimerPlan(cancel=list(keys.values()))
    if change.kind not in _SETS:
        return TimerPlan()
    start = epoch_of(booking.start, booking.zone)
    if start is None or booking.start is None or start <= change.now:
        # no time to remind of, or the interview has begun: drop any reminder still pending
        return TimerPlan(cancel=list(keys.values()))
    candidate = change.candidate
    plan = TimerPlan()
    for member in change.interviewers:
        key = keys[member.user_id]
        if member.reminder_minutes is None:
            plan.cancel.append(key)
            continue
        payload = reminder.Reminder(
            target=DeliveryTarget(org.platform, org.org_id, "dm", user_id=member.user_id),
            booking_id=booking.booking_id,
            start=booking.start,
            end=booking.end,
            zone=booking.zone,
            candidate_id=candidate.candidate_id if candidate else booking.candidate_id,
            candidate_name=(candidate.name or candidate.email) if candidate else "",
            meeting_url=booking.meeting_url,
        )
        due = max(start - member.reminder_minutes * 60.0, change.now)
        plan.jobs.append(reminder.KIND.timer(org.org_id, payload, key=key, due=due, now=change.now))
    return plan


# bookings listed for a member's new setting start after this long ago (ISO text sorts by
# time only in one format; the planner itself drops what has begun)
_LOOK_BACK = 24 * 3600.0


async def replan_member(store: Store, org: Org, member: Member, *, now: float) -> int:
    """Plan the reminders of `member`'s upcoming interviews again, after they changed their
    setting: moved to the new minutes, set if they had none, removed when turned off.
    Returns how many reminders are now set.

    A callback that changes one of these bookings in the meantime sets its own timer; if
    this write lands after it with the old time, the reminder finds the booking moved when
    it fires and drops itself (so that interview is not reminded of)."""
    since = datetime.fromtimestamp(now - _LOOK_BACK, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    plan = TimerPlan()
    for booking in await store.list_bookings(org.org_id, start_after=since):
        if booking.state not in _SETS or not on_panel(member, booking):
            continue
        candidate = (
            await store.get_candidate(org.org_id, booking.candidate_id)
            if booking.candidate_id
            else None
        )
        change = BookingChange(
            org=org,
            kind=booking.state,
            booking=booking,
            candidate=candidate,
            interviewers=[member],
            now=now,
        )
        plan.add(plan_reminders(change))
    if plan.cancel:
        await store.cancel_timers(plan.cancel)
    if plan.jobs:
        await store.enqueue(plan.jobs)
    return len(plan.jobs)
