"""The timers a booking's change sets, moves or cancels, decided with the callback's write.

Each planner (reminders, the note after, …) is a function of the `BookingChange` that returns
a `TimerPlan`; `plan_timers` runs every planner of `PLANNERS` and joins their plans into the
callback's `EventWrite` (`bot.alerts.intake`). A planner reads nothing and writes nothing:
what it needs is in the change, so a callback decided again (StaleBooking) plans again.

Timers are planned only for a change that tells someone something (`Resolution.alert`): the
same time chosen again, or an event that arrived after a newer one, leaves them as they are.
"""

from __future__ import annotations

from bot.alerts.profiles import Resolution
from bot.lifecycle import panel, reminders
from bot.lifecycle.change import BookingChange, Planner, TimerPlan
from bot.lifecycle.feedback import plan_feedback
from bot.store.base import Store
from bot.store.records import Member, Org

__all__ = ["PLANNERS", "BookingChange", "Planner", "TimerPlan", "plan_timers"]


# every planner, in the order their timers are written
PLANNERS: tuple[Planner, ...] = (reminders.plan_reminders, plan_feedback)


async def plan_timers(
    store: Store,
    org: Org,
    resolution: Resolution,
    *,
    now: float,
    planners: tuple[Planner, ...] = PLANNERS,
    interviewers: list[Member] | None = None,
) -> TimerPlan:
    """The timers of `resolution`'s change; `interviewers` is its booking's panel when the
    caller has read it already (`panel.interviewers`)."""
    plan = TimerPlan()
    booking = resolution.booking
    if not planners or booking is None or not resolution.alert:
        return plan
    change = BookingChange(
        org=org,
        kind=resolution.kind,
        booking=booking,
        candidate=resolution.candidate,
        interviewers=(
            interviewers if interviewers is not None else await panel.interviewers(store, booking)
        ),
        now=now,
    )
    for planner in planners:
        plan.add(planner(change))
    return plan
