"""The timers a booking's change sets, moves or cancels, decided with the callback's write.

Each planner (reminders, the note after, …) is a function of the `BookingChange` that returns
a `TimerPlan`; `plan_timers` runs every planner of `PLANNERS` and joins their plans into the
callback's `EventWrite` (`bot.alerts.intake`). A planner reads nothing and writes nothing:
what it needs is in the change, so a callback decided again (StaleBooking) plans again.

Timers are planned only for a change that tells someone something (`Resolution.alert`): the
same time chosen again, or an event that arrived after a newer one, leaves them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.alerts.profiles import Resolution
from bot.lifecycle import panel
from bot.lifecycle.feedback import plan_feedback
from bot.store.base import Store
from bot.store.records import Booking, Candidate, Job, Member, Org


@dataclass(frozen=True)
class BookingChange:
    """One accepted change to a booking, as the planners see it."""

    org: Org
    kind: str  # booked / rescheduled / cancelled / declined
    booking: Booking  # as it stands after the change
    candidate: Candidate | None
    interviewers: list[Member]  # the recruiter first (`bot.lifecycle.panel`)
    now: float


@dataclass
class TimerPlan:
    jobs: list[Job] = field(default_factory=list)  # timers to set (a key replaces its job)
    cancel: list[str] = field(default_factory=list)  # timer keys to remove

    def add(self, other: TimerPlan) -> None:
        self.jobs += other.jobs
        self.cancel += other.cancel


Planner = Callable[[BookingChange], TimerPlan]

# every planner, in the order their timers are written
PLANNERS: tuple[Planner, ...] = (plan_feedback,)


async def plan_timers(
    store: Store,
    org: Org,
    resolution: Resolution,
    *,
    now: float,
    planners: tuple[Planner, ...] = PLANNERS,
) -> TimerPlan:
    plan = TimerPlan()
    booking = resolution.booking
    if not planners or booking is None or not resolution.alert:
        return plan
    change = BookingChange(
        org=org,
        kind=resolution.kind,
        booking=booking,
        candidate=resolution.candidate,
        interviewers=await panel.interviewers(store, booking),
        now=now,
    )
    for planner in planners:
        plan.add(planner(change))
    return plan
