"""The note after an interview: when is each interviewer asked how it went.

For a booking booked or moved to a known end time, one timer per interviewer (the panel of
`bot.lifecycle.panel`), due `Org.feedback_delay_minutes` after the end, when the org asks
for notes (`Org.feedback`); a booking cancelled or declined drops them. A timer's key names
its booking and interviewer, so a reschedule moves each one rather than adding another; what
the timer finds when it fires (the booking moved or cancelled since, notes turned off) is
checked again then (`bot.outbox.kinds.feedback`).
"""

from __future__ import annotations

from bot.chat import DeliveryTarget
from bot.lifecycle.change import BookingChange, TimerPlan
from bot.outbox.kinds import feedback
from bot.timers import feedback_key
from bot.timeutil import epoch_of

_SETS = ("booked", "rescheduled")
_DROPS = ("cancelled", "declined")


def plan_feedback(change: BookingChange) -> TimerPlan:
    plan = TimerPlan()
    org, booking = change.org, change.booking
    keys = [feedback_key(org.org_id, booking.booking_id, m.user_id) for m in change.interviewers]
    if change.kind in _DROPS:
        plan.cancel += keys
        return plan
    if change.kind not in _SETS:
        return plan
    end = epoch_of(booking.end, booking.zone)
    if end is None or not org.feedback or not booking.candidate_id:
        # no end to count from, notes not asked for, or no candidate to note: none planned,
        # and none left from before (a booking moved to a time nobody can read is not asked
        # about)
        plan.cancel += keys
        return plan
    due = end + 60.0 * max(0, org.feedback_delay_minutes)
    for member, key in zip(change.interviewers, keys, strict=True):
        payload = feedback.FeedbackPrompt(
            target=DeliveryTarget(org.platform, org.org_id, "dm", user_id=member.user_id),
            booking_id=booking.booking_id,
            candidate_id=booking.candidate_id,
            start=booking.start or "",
        )
        plan.jobs.append(feedback.KIND.timer(org.org_id, payload, key=key, due=due, now=change.now))
    return plan
