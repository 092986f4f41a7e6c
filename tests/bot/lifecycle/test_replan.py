"""A member's new reminder setting applies to their upcoming interviews, on both stores:
reminders moved to the new minutes, set where there were none, removed when turned off;
bookings they are not on, cancelled ones and ones already begun are left alone."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.lifecycle.reminders import replan_member
from bot.outbox.kinds.reminder import Reminder
from bot.store.base import Store
from bot.store.records import Booking, Candidate, Member, Org
from bot.timers import reminder_key

ORG = Org(org_id="slack:T1", platform="slack")
NOW = datetime(2027, 1, 5, 8, 0, tzinfo=UTC).timestamp()


def at(hour: int) -> str:
    return f"2027-01-05T{hour:02d}:00:00Z"


def epoch(hour: int) -> float:
    return datetime(2027, 1, 5, hour, 0, tzinfo=UTC).timestamp()


async def test_a_new_setting_replans_the_members_upcoming_interviews(store: Store) -> None:
    await store.put_org(ORG)
    member = Member(ORG.org_id, "U2", email="panel@example.com", connected=True)
    await store.put_member(member)
    await store.put_candidate(Candidate(ORG.org_id, "cand1", "eb@example.com", "Emmet"))
    bookings = [
        Booking(ORG.org_id, "own", "cand1", recruiter_id="U2", start=at(10)),
        Booking(
            ORG.org_id,
            "panel",
            "cand1",
            "U1",
            "rescheduled",
            at(12),
            attendees=["panel@example.com"],
        ),
        Booking(ORG.org_id, "elsewhere", "cand1", "U1", start=at(11)),
        Booking(
            ORG.org_id, "gone", "cand1", "U1", "cancelled", at(13), attendees=["panel@example.com"]
        ),
        Booking(ORG.org_id, "begun", "cand1", recruiter_id="U2", start=at(7)),
    ]
    for booking in bookings:
        await store.put_booking(booking)

    member.reminder_minutes = 30
    assert await replan_member(store, ORG, member, now=NOW) == 2
    own = await store.get_timer(reminder_key(ORG.org_id, "own", "U2"))
    panel = await store.get_timer(reminder_key(ORG.org_id, "panel", "U2"))
    assert own is not None and own.not_before == epoch(10) - 30 * 60
    assert panel is not None and panel.not_before == epoch(12) - 30 * 60
    assert Reminder.from_dict(panel.payload).candidate_name == "Emmet"
    for other in ("elsewhere", "gone", "begun"):
        assert await store.get_timer(reminder_key(ORG.org_id, other, "U2")) is None

    member.reminder_minutes = 5
    assert await replan_member(store, ORG, member, now=NOW) == 2
    own = await store.get_timer(reminder_key(ORG.org_id, "own", "U2"))
    assert own is not None and own.not_before == epoch(10) - 5 * 60
    assert await store.outbox_depth() == 2, "moved, not added"

    member.reminder_minutes = None
    assert await replan_member(store, ORG, member, now=NOW) == 0
    assert await store.outbox_depth() == 0
