"""Who is on a booking's panel: the connected members it concerns.

The recruiter (the owner of the link), every member whose Cronofy profile hosts the event
(`Booking.participants`), and every member whose email is among its attendees
(`Booking.attendees`) — each once, connected members only, the recruiter first."""

from __future__ import annotations

from bot.store.base import Store
from bot.store.records import Booking, Member


def concerns(member: Member, booking: Booking) -> bool:
    """The booking is one of `member`'s interviews: theirs as recruiter, or on its panel."""
    return (
        member.user_id == booking.recruiter_id
        or (member.cronofy_sub is not None and member.cronofy_sub in booking.participants)
        or (member.email is not None and member.email.lower() in booking.attendees)
    )


def on_panel(member: Member, booking: Booking) -> bool:
    """Whether `member` is one of `booking`'s interviewers (as `interviewers` decides)."""
    return member.connected and member.org_id == booking.org_id and concerns(member, booking)


async def interviewers(store: Store, booking: Booking) -> list[Member]:
    return choose(await store.list_members(booking.org_id), booking)


def choose(members: list[Member], booking: Booking) -> list[Member]:
    """`interviewers` from the org's members as already read."""
    chosen: list[Member] = []
    for member in members:
        if not on_panel(member, booking):
            continue
        if member.user_id == booking.recruiter_id:
            chosen.insert(0, member)
        else:
            chosen.append(member)
    return chosen
