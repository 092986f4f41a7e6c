"""The org's own `/cronofy` commands (admins only: checked by the dispatcher):

- `status`: the org's Cronofy app and push URL, its last callback, its members, admins and
  alert routes, and the jobs that failed for good;
- `alerts [here|#channel [kinds]|off [#channel]]`: which conversations get which alerts;
- `admins [add|remove @user]`: who the org's admins are.

A user or channel added must be one of the mentions the adapter checked with its platform,
never a made-up id; one already listed may always be removed. Every change is written to the
audit log.
"""

from __future__ import annotations

from bot import org_state
from bot.chat import Reply, privately
from bot.commands import CommandContext, facts
from bot.commands import parser as p
from bot.cronofy import admins
from bot.cronofy.urls import push_url
from bot.errors import CommandError
from bot.store.records import ALERT_KINDS, AlertRoute, AuditEntry, Org
from cards import admin
from cards.help import channel_not_visible, user_not_here
from cards.model import Card


async def status_command(ctx: CommandContext) -> list[Reply]:
    services = ctx.services
    org = await services.store.get_org(ctx.actor.org_id)
    if org is None or org.cronofy is None or not org.org_key:
        return privately(admin.org_status(configured=False))
    members = await services.store.list_members(org.org_id)
    dead = await services.store.list_dead_letters(org.org_id)
    names = {m.user_id: m.display_name or m.name or m.user_id for m in members}
    return privately(
        admin.org_status(
            configured=True,
            installed=org.active,
            client_id=org.cronofy.client_id,
            data_center=org.cronofy.data_center,
            push_url=push_url(services.settings, org.org_key),
            last_callback_at=facts.epoch_time(
                await org_state.last_callback_at(services.store, org)
            ),
            counts=admin.org_counts(
                recruiters=len(members),
                connected=sum(1 for m in members if m.connected),
                links=sum(1 for m in members if m.public_link),
                failed=len(dead),
            ),
            admins=[names.get(a, a) for a in org.admins],
            routes=admin.status_routes([facts.route_view(r) for r in org.routes]),
            dead_letters=facts.dead_letter_views(dead),
            feedback_minutes=org.feedback_delay_minutes if org.feedback else None,
        )
    )


async def alerts_command(ctx: CommandContext, command: p.Command) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    org = await org_state.get_or_new_org(services, actor)
    if isinstance(command, p.AlertsShow):
        return privately(_routes_card(org))
    if isinstance(command, p.AlertsOff):
        target = command.channel_id or ctx.conversation.conversation_id
        if command.channel_id is not None and target not in ctx.mentions.channels:
            if target not in {r.conversation_id for r in org.routes}:
                raise p.UsageError("cronofy alerts", channel_not_visible(target))
        kept = [r for r in org.routes if r.conversation_id != target]
        if len(kept) == len(org.routes):
            return privately(admin.no_alerts_there(_routes(org)))
        gone = [r for r in org.routes if r.conversation_id == target]
        org.routes = kept
        await _save_org(ctx, org, "alerts.off", conversation_id=target)
        return privately(
            admin.alerts_off(admin.route_label(facts.route_view(gone[0])) if gone else "")
        )
    assert isinstance(command, p.AlertsRoute)
    previous = {r.conversation_id: r for r in org.routes}
    if command.channel_id is None:
        if ctx.conversation.kind == "dm":
            raise CommandError(admin.ALERTS_HERE_IN_CHANNEL)
        conversation_id, name = ctx.conversation.conversation_id, ctx.conversation.name
    else:
        conversation_id = command.channel_id
        if conversation_id not in ctx.mentions.channels:
            raise p.UsageError("cronofy alerts", channel_not_visible(conversation_id))
        name = ctx.mentions.channels[conversation_id]
    before = previous.get(conversation_id)
    # a mention without a name (Slack sends `<#C123>` at times) keeps the name already known
    name = name or (before.name if before is not None else "")
    route = AlertRoute(conversation_id=conversation_id, kinds=list(command.kinds), name=name)
    org.routes = [r for r in org.routes if r.conversation_id != conversation_id] + [route]
    await _save_org(
        ctx, org, "alerts.route", conversation_id=conversation_id, kinds=list(command.kinds)
    )
    where = admin.route_place(name, here=command.channel_id is None)
    # the kinds named replace what this channel got before: say what it gets now and what
    # it stopped getting, so choosing "booked,cancelled" never silently drops the rest
    dropped = [k for k in (before.kinds if before is not None else []) if k not in route.kinds]
    return privately(
        admin.alerts_routed(
            where, list(command.kinds), dropped=dropped, all_kinds=list(ALERT_KINDS)
        )
    )


def _routes(org: Org) -> list[admin.RouteView]:
    return [facts.route_view(r) for r in org.routes]


def _routes_card(org: Org) -> Card:
    return admin.alert_routes(_routes(org))


async def _save_org(ctx: CommandContext, org: Org, action: str, **detail: object) -> None:
    now = ctx.services.clock()
    org.updated_at = now
    await ctx.services.store.put_org(org)
    await ctx.services.store.append_audit(
        AuditEntry(
            org_id=org.org_id, actor=ctx.actor.user_id, action=action, detail=dict(detail), at=now
        )
    )


async def admins_command(ctx: CommandContext, command: p.Command) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    if isinstance(command, p.AdminsAdd):
        # only a user the adapter checked with its platform: never a made-up word
        if command.user_id not in ctx.mentions.users:
            raise p.UsageError("cronofy admins", user_not_here(command.user_id))
        who = await _user_name(ctx, command.user_id)
        added = await admins.add_admin(services, actor, command.user_id)
        return privately(admin.admin_added(who, added=added))
    if isinstance(command, p.AdminsRemove):
        # an id already on the list may always be removed (it may be a stale one)
        org = await services.store.get_org(actor.org_id)
        listed = org.admins if org is not None else []
        if command.user_id not in ctx.mentions.users and command.user_id not in listed:
            raise p.UsageError("cronofy admins", user_not_here(command.user_id))
        who = await _user_name(ctx, command.user_id)
        removed = await admins.remove_admin(services, actor, command.user_id)
        return privately(admin.admin_removed(who, removed=removed))
    org = await services.store.get_org(actor.org_id)
    members = await services.store.list_members(actor.org_id)
    names = {m.user_id: m.display_name or m.name or m.user_id for m in members}
    listed = [names.get(a, a) for a in (org.admins if org else [])]
    listed += [
        admin.env_admin(names.get(a, a)) for a in services.settings.admins if a not in listed
    ]
    return privately(admin.admins_list(listed))


async def _user_name(ctx: CommandContext, user_id: str) -> str:
    name = ctx.mentions.users.get(user_id, "")
    if not name:
        member = await ctx.services.store.get_member(ctx.actor.org_id, user_id)
        if member is not None:
            name = member.display_name or member.name or ""
    return name or user_id
