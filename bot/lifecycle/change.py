"""What a planner is given and what it returns (`bot.lifecycle.plan` runs them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
