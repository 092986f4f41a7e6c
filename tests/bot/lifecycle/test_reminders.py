"""The reminder planner: which timers a booking change sets, moves or cancels, and when."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.lifecycle.change import BookingChange
from bot.lifecycle.plan import PLANNERS
from bot.lifecycle.reminders import plan_reminders
from bot.outbox.kinds.reminder import Reminder
from bot.store.records import Booking, Candidate, Member, Org
from bot.timers import reminder_key

ORG = Org(org_id="slack:T1", platform="slack")
START = datetime(2027, 1, 5, 10, 0, tzinfo=UTC).timestamp()
START_ISO = "2027-01-05T10:00:00Z"
CANDIDATE = Candidate(org_id=ORG.org_id, candidate_id="cand1", email="eb@example.com", name="Emmet")


def member(user_id: str, minutes: int | None = 15) -> Member:
    return Member(org_id=ORG.org_id, user_id=user_id, connected=True, reminder_minutes=minutes)


def change(
    kind: str = "booked",
    *,
    now: float = START - 3600,
    start: str | None = START_ISO,
    panel: list[Member] | None = None,
) -> BookingChange:
    booking = Booking(
        org_id=ORG.org_id,
        booking_id="b1",
        candidate_id="cand1",
        recruiter_id="U1",
        state=kind,
        start=start,
        end="2027-01-05T10:30:00Z" if start else None,
        zone="Europe/London",
        meeting_url="https://meet.example.com/abc",
    )
    return BookingChange(
        org=ORG,
        kind=kind,
        booking=booking,
        candidate=CANDIDATE,
        interviewers=panel if panel is not None else [member("U1"), member("U2", 30)],
        now=now,
    )


def test_reminders_are_a_planner_of_every_booking_change() -> None:
    assert plan_reminders in PLANNERS


def test_booked_sets_one_timer_per_interviewer_at_their_own_minutes() -> None:
    plan = plan_reminders(change())
    assert plan.cancel == []
    by_key = {job.timer_key: job for job in plan.jobs}
    assert set(by_key) == {
        reminder_key(ORG.org_id, "b1", "U1"),
        reminder_key(ORG.org_id, "b1", "U2"),
    }
    assert by_key[reminder_key(ORG.org_id, "b1", "U1")].not_before == START - 15 * 60
    assert by_key[reminder_key(ORG.org_id, "b1", "U2")].not_before == START - 30 * 60
    job = by_key[reminder_key(ORG.org_id, "b1", "U2")]
    assert job.kind == "reminder"
    payload = Reminder.from_dict(job.payload)
    assert payload.target.kind == "dm" and payload.target.user_id == "U2"
    assert payload.candidate_name == "Emmet" and payload.candidate_id == "cand1"
    assert payload.start == START_ISO and payload.meeting_url == "https://meet.example.com/abc"


def test_inside_the_window_reminds_at_once_and_after_the_start_not_at_all() -> None:
    now = START - 5 * 60  # five minutes to go: inside both members' windows
    plan = plan_reminders(change(now=now))
    assert [job.not_before for job in plan.jobs] == [now, now]
    begun = plan_reminders(change(now=START + 1))
    assert begun.jobs == [] and len(begun.cancel) == 2
    assert plan_reminders(change(now=START)).jobs == []


def test_a_reschedule_sets_the_same_keys_at_the_new_time() -> None:
    booked = plan_reminders(change())
    moved = plan_reminders(change("rescheduled", start="2027-01-06T09:00:00Z"))
    assert [j.timer_key for j in moved.jobs] == [j.timer_key for j in booked.jobs]
    new_start = datetime(2027, 1, 6, 9, 0, tzinfo=UTC).timestamp()
    assert moved.jobs[0].not_before == new_start - 15 * 60
    assert Reminder.from_dict(moved.jobs[0].payload).start == "2027-01-06T09:00:00Z"


def test_cancelled_and_declined_cancel_every_interviewers_key_reminders_off_too() -> None:
    panel = [member("U1"), member("U2", None)]
    for kind in ("cancelled", "declined"):
        plan = plan_reminders(change(kind, panel=panel))
        assert plan.jobs == []
        assert plan.cancel == [
            reminder_key(ORG.org_id, "b1", "U1"),
            reminder_key(ORG.org_id, "b1", "U2"),
        ]


def test_a_member_with_reminders_off_gets_none_and_an_earlier_one_is_removed() -> None:
    plan = plan_reminders(change(panel=[member("U1", None), member("U2")]))
    assert [Reminder.from_dict(j.payload).target.user_id for j in plan.jobs] == ["U2"]
    assert plan.cancel == [reminder_key(ORG.org_id, "b1", "U1")]


def test_other_events_and_bookings_without_a_time_set_nothing() -> None:
    assert plan_reminders(change("other")).jobs == []
    assert plan_reminders(change("other")).cancel == []
    assert plan_reminders(change(start=None)).jobs == []
    assert plan_reminders(change(panel=[])).jobs == []
