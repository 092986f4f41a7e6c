"""A candidate's profile and timeline, and who may see them.

Asked for by email (`/schedule candidate <email>`) or by the Candidate profile button of an
alert or a reminder, whose value is the candidate's id. The id comes back from the client, so
it is looked up in the presser's own org only, and the same check decides either way: admins,
and whoever the candidate is assigned to, sent a link, booked with or put on a panel.
"""

from __future__ import annotations

from bot.chat import Reply, privately
from bot.commands import CommandContext, facts
from bot.cronofy import admins
from bot.lifecycle import panel
from bot.store.records import Candidate
from cards import candidates


async def by_email(ctx: CommandContext, email: str) -> list[Reply]:
    """`/schedule candidate <email>`."""
    candidate = await ctx.services.store.find_candidate_by_email(ctx.actor.org_id, email)
    return await _profile(ctx, candidate, asked_for=email)


async def by_id(ctx: CommandContext, candidate_id: str) -> list[Reply]:
    """The Candidate profile button: its value is the candidate's id."""
    store = ctx.services.store
    candidate = await store.get_candidate(ctx.actor.org_id, candidate_id) if candidate_id else None
    return await _profile(ctx, candidate, asked_for="")


async def _may_see_candidate(ctx: CommandContext, candidate: Candidate) -> bool:
    """Admins, and the candidate's recruiters: whoever they are assigned to, whoever sent
    them a tracked link, whoever a booking of theirs is with, whoever is on its panel."""
    services, actor = ctx.services, ctx.actor
    if candidate.recruiter_id == actor.user_id:
        return True
    org = await services.store.get_org(actor.org_id)
    if admins.is_admin(services, org, actor):
        return True
    timeline = await services.store.list_timeline(
        actor.org_id, candidate.candidate_id, limit=10_000
    )
    if any(entry.recruiter_id == actor.user_id for entry in timeline):
        return True
    bookings = await services.store.list_bookings(actor.org_id, recruiter_id=actor.user_id)
    if any(b.candidate_id == candidate.candidate_id for b in bookings):
        return True
    return await _on_a_panel(ctx, candidate)


async def _on_a_panel(ctx: CommandContext, candidate: Candidate) -> bool:
    """The actor interviews the candidate: a connected member on one of their bookings'
    panels (`bot.lifecycle.panel`), who is sent its alerts and reminders with this button."""
    store, actor = ctx.services.store, ctx.actor
    member = await store.get_member(actor.org_id, actor.user_id)
    if member is None or not member.connected:
        return False
    return any(
        booking.candidate_id == candidate.candidate_id and panel.on_panel(member, booking)
        for booking in await store.list_bookings(actor.org_id)
    )


async def _profile(
    ctx: CommandContext, candidate: Candidate | None, *, asked_for: str
) -> list[Reply]:
    """The profile, privately, to those allowed; everyone else hears the same "not yours"
    whether or not the candidate exists."""
    services, actor = ctx.services, ctx.actor
    if candidate is None or not await _may_see_candidate(ctx, candidate):
        org = await services.store.get_org(actor.org_id)
        if candidate is None and asked_for and admins.is_admin(services, org, actor):
            return privately(candidates.no_such_candidate(asked_for))
        return privately(candidates.not_your_candidate())
    timeline = await services.store.list_timeline(actor.org_id, candidate.candidate_id)
    names = await _member_names(ctx)
    return privately(
        candidates.candidate_profile(
            facts.candidate_view(candidate, names), facts.timeline_views(timeline, names)
        )
    )


async def _member_names(ctx: CommandContext) -> dict[str, str]:
    members = await ctx.services.store.list_members(ctx.actor.org_id)
    return {m.user_id: m.display_name or m.name or "" for m in members}
