"""Who is on a booking's panel: the connected members it concerns.

The recruiter (the owner of the link), every member whose Cronofy profile hosts the event
(`Booking.participants`), and every member whose email is among its attendees
(`Booking.attendees`) — each once, connected members only, the recruiter first."""

from __future__ import annotations

from bot.store.base import Store
from bot.store.records import Booking, Member


async def interviewers(store: Store, booking: Booking) -> list[Member]:
    members = await store.list_members(booking.org_id)
    subs = set(booking.participants)
    emails = set(booking.attendees)
    chosen: list[Member] = []
    for member in members:
        if not member.connected:
            continue
        if member.user_id == booking.recruiter_id:
            chosen.insert(0, member)
        elif _on_panel(member, subs, emails):
            chosen.append(member)
    return chosen


def concerns(member: Member, booking: Booking) -> bool:
    """The booking is one of `member`'s interviews: theirs as recruiter, or on its panel."""
    if member.user_id == booking.recruiter_id:
        return True
    return _on_panel(member, set(booking.participants), set(booking.attendees))


def _on_panel(member: Member, subs: set[str], emails: set[str]) -> bool:
    return (member.cronofy_sub is not None and member.cronofy_sub in subs) or (
        member.email is not None and member.email.lower() in emails
    )
