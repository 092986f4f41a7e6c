"""A member's own `/schedule` commands: their link, their calendar, what they have coming
and how they are told of it.

- `link`, `link share|set|for`: the member's scheduling link, shared in the conversation, set
  by hand, or made for one candidate and tracked (`bot.cronofy.links`);
- `connect`, `disconnect`: their calendar, through Cronofy (`bot.cronofy.connect`);
- `status`, `upcoming`: what Slotbot knows of them, and their next interviews;
- `alerts on|off`, `reminders`: whether alerts come to them directly, and how long before an
  interview they are reminded of it.

Anyone in the org may run these, for themselves only. The agenda is `bot.commands.agenda`,
a candidate's profile `bot.commands.profile`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.chat import Reply, privately
from bot.commands import CommandContext, facts
from bot.commands import parser as p
from bot.cronofy import connect, links
from bot.lifecycle import reminders
from bot.store.records import Member
from cards import candidates, errors, scheduling
from cards import reminders as reminder_cards

MemberCommand = (
    p.Link
    | p.LinkShare
    | p.LinkSet
    | p.LinkFor
    | p.Connect
    | p.Disconnect
    | p.Status
    | p.Upcoming
    | p.DmAlerts
    | p.RemindersShow
    | p.RemindersSet
)


async def run(ctx: CommandContext, command: MemberCommand) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    match command:
        case p.Link():
            url = await links.own_link(services, actor)
            return privately(scheduling.your_link(url, share_value=links.SHARE_OWN_LINK))
        case p.LinkShare():
            url = await links.own_link(services, actor)
            return await _share(ctx, url)
        case p.LinkSet(url=url):
            saved = await links.set_public_link(services, actor, url)
            return privately(scheduling.link_set(saved))
        case p.LinkFor(email=email, name=name):
            made = await links.link_for_candidate(services, actor, email, name)
            return privately(
                scheduling.your_link(
                    made.url,
                    candidate_name=made.candidate.name or None,
                    candidate_email=made.candidate.email,
                    share_value=links.share_value_for(made.correlation_id),
                )
            )
        case p.Connect():
            url = await connect.authorize_url_for(services, actor.org_id, actor.user_id)
            return privately(scheduling.connect_prompt(url))
        case p.Disconnect():
            if await connect.disconnect(services, actor.org_id, actor.user_id):
                return privately(scheduling.disconnected())
            return privately(scheduling.not_connected())
        case p.Status():
            return await _member_status(ctx)
        case p.Upcoming():
            return await _upcoming(ctx)
        case p.DmAlerts(on=on):
            member = await _member(ctx)
            member.dm_alerts = on
            member.updated_at = services.clock()
            await services.store.put_member(member)
            return privately(scheduling.dm_alerts_set(on))
        case p.RemindersShow():
            member = await _member(ctx)
            return privately(
                reminder_cards.reminders_setting(member.reminder_minutes, changed=False)
            )
        case p.RemindersSet(minutes=minutes):
            member = await _member(ctx)
            member.reminder_minutes = minutes
            member.updated_at = services.clock()
            await services.store.put_member(member)
            org = await services.store.get_org(actor.org_id)
            upcoming = (
                await reminders.replan_member(services.store, org, member, now=services.clock())
                if org is not None
                else 0
            )
            return privately(
                reminder_cards.reminders_setting(minutes, changed=True, upcoming=upcoming)
            )


async def share_pressed(ctx: CommandContext, value: str) -> list[Reply]:
    """The Share link button."""
    # the button's value comes back from the client: it only names which of the actor's
    # own links to post, and the link posted is the one Slotbot rebuilds, never the value
    url = await links.shareable_link(ctx.services, ctx.actor, value)
    return await _share(ctx, url)


async def _share(ctx: CommandContext, url: str) -> list[Reply]:
    """The link, posted for everyone, under the recruiter's name (not their chat handle)."""
    member = await ctx.services.store.get_member(ctx.actor.org_id, ctx.actor.user_id)
    name = ""
    if member is not None:
        name = member.name or member.display_name or ""
    card = scheduling.link_shared(url, name or ctx.actor.display_name)
    return [Reply(card=card, visibility="public")]


async def _member(ctx: CommandContext) -> Member:
    member = await ctx.services.store.get_member(ctx.actor.org_id, ctx.actor.user_id)
    if member is None:
        member = Member(
            org_id=ctx.actor.org_id, user_id=ctx.actor.user_id, display_name=ctx.actor.display_name
        )
    return member


async def _member_status(ctx: CommandContext) -> list[Reply]:
    org = await ctx.services.store.get_org(ctx.actor.org_id)
    if org is None or org.cronofy is None:
        return privately(errors.error_setup_required())
    member = await ctx.services.store.get_member(ctx.actor.org_id, ctx.actor.user_id)
    if member is None:
        return privately(scheduling.status_for_member(connected=False))
    return privately(
        scheduling.status_for_member(
            connected=member.connected,
            email=member.email,
            name=member.name,
            link=member.public_link,
            dm_alerts=member.dm_alerts,
            zone=member.zone,
            reminder_minutes=member.reminder_minutes,
        )
    )


async def _upcoming(ctx: CommandContext) -> list[Reply]:
    store = ctx.services.store
    now = datetime.fromtimestamp(ctx.services.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bookings = await store.list_bookings(
        ctx.actor.org_id, recruiter_id=ctx.actor.user_id, start_after=now
    )
    bookings = [b for b in bookings if b.state not in ("cancelled", "declined")]
    names: dict[str, str] = {}
    for booking in bookings[:25]:
        if booking.candidate_id and booking.candidate_id not in names:
            candidate = await store.get_candidate(ctx.actor.org_id, booking.candidate_id)
            if candidate is not None:
                names[booking.candidate_id] = candidate.name or candidate.email
    return privately(candidates.upcoming(facts.upcoming_views(bookings, names)))
