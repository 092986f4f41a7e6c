"""Who is on a booking's panel, on every store."""

from __future__ import annotations

from bot.lifecycle.panel import interviewers
from bot.store.base import Store
from bot.store.records import Booking, Member

ORG = "slack:T1"


def member(user_id: str, **fields: object) -> Member:
    values: dict[str, object] = {"connected": True, **fields}
    return Member(org_id=ORG, user_id=user_id, **values)  # type: ignore[arg-type]


async def test_the_recruiter_first_then_members_by_hosting_profile_or_email(store: Store) -> None:
    for m in (
        member("U-panel-email", email="Pat@Example.com"),
        member("U-recruiter", email="rita@example.com"),
        member("U-panel-sub", cronofy_sub="acc_2"),
        member("U-elsewhere", email="nobody@example.com"),
        member("U-gone", email="gone@example.com", connected=False),
    ):
        await store.put_member(m)
    booking = Booking(
        org_id=ORG,
        booking_id="b1",
        recruiter_id="U-recruiter",
        attendees=["pat@example.com", "gone@example.com", "outsider@example.org"],
        participants=["acc_2"],
    )
    found = [m.user_id for m in await interviewers(store, booking)]
    assert found[0] == "U-recruiter"
    assert sorted(found[1:]) == ["U-panel-email", "U-panel-sub"]


async def test_a_booking_with_nobody_connected_has_no_panel(store: Store) -> None:
    await store.put_member(member("U1", email="a@example.com", connected=False))
    booking = Booking(org_id=ORG, booking_id="b1", attendees=["a@example.com"])
    assert await interviewers(store, booking) == []
