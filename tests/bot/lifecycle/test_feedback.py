"""The planner of the note after an interview: one timer per interviewer, due the org's delay
after the end, moved by a reschedule, dropped by a cancellation or decline."""

from __future__ import annotations

import dataclasses

from bot.lifecycle.feedback import plan_feedback
from bot.lifecycle.plan import PLANNERS, BookingChange
from bot.outbox.kinds.feedback import FeedbackPrompt
from bot.store.records import Booking, Candidate, Member, Org
from bot.timers import feedback_key
from bot.timeutil import epoch_of

ORG = Org(org_id="slack:T1", platform="slack")
END = "2027-01-05T10:45:00Z"
BOOKING = Booking(
    "slack:T1",
    "srq_1",
    candidate_id="cand_1",
    recruiter_id="U_REC",
    start="2027-01-05T10:00:00Z",
    end=END,
)
PANEL = [Member("slack:T1", "U_REC", connected=True), Member("slack:T1", "U_IVAN", connected=True)]
KEYS = [feedback_key("slack:T1", "srq_1", "U_REC"), feedback_key("slack:T1", "srq_1", "U_IVAN")]


def change(kind: str, org: Org = ORG, booking: Booking = BOOKING) -> BookingChange:
    return BookingChange(
        org=org,
        kind=kind,
        booking=booking,
        candidate=Candidate("slack:T1", "cand_1", "jane@example.com"),
        interviewers=PANEL,
        now=1_000.0,
    )


def test_the_planner_is_listed() -> None:
    assert plan_feedback in PLANNERS


def test_booked_sets_one_timer_per_interviewer_due_fifteen_minutes_after_the_end() -> None:
    for kind in ("booked", "rescheduled"):
        plan = plan_feedback(change(kind))
        assert plan.cancel == []
        assert [job.timer_key for job in plan.jobs] == KEYS
        end = epoch_of(END)
        assert end is not None
        assert {job.not_before for job in plan.jobs} == {end + 15 * 60}
        prompts = [FeedbackPrompt.from_dict(job.payload) for job in plan.jobs]
        assert [(p.target.kind, p.target.user_id) for p in prompts] == [
            ("dm", "U_REC"),
            ("dm", "U_IVAN"),
        ]
        assert {(p.booking_id, p.candidate_id, p.start) for p in prompts} == {
            ("srq_1", "cand_1", "2027-01-05T10:00:00Z")
        }
        assert {job.kind for job in plan.jobs} == {"feedback"}


def test_the_org_delay_is_used() -> None:
    plan = plan_feedback(change("booked", dataclasses.replace(ORG, feedback_delay_minutes=60)))
    end = epoch_of(END)
    assert end is not None and {job.not_before for job in plan.jobs} == {end + 3600}


def test_cancelled_and_declined_drop_the_timers() -> None:
    for kind in ("cancelled", "declined"):
        plan = plan_feedback(change(kind))
        assert plan.jobs == [] and plan.cancel == KEYS


def test_nothing_is_planned_when_notes_are_off_or_there_is_no_end_or_candidate() -> None:
    off = dataclasses.replace(ORG, feedback=False)
    no_end = dataclasses.replace(BOOKING, end=None)
    no_candidate = dataclasses.replace(BOOKING, candidate_id=None)
    for plan in (
        plan_feedback(change("booked", org=off)),
        plan_feedback(change("rescheduled", booking=no_end)),
        plan_feedback(change("booked", booking=no_candidate)),
    ):
        assert plan.jobs == [] and plan.cancel == KEYS


def test_other_events_leave_the_timers_alone() -> None:
    plan = plan_feedback(change("other"))
    assert plan.jobs == [] and plan.cancel == []
