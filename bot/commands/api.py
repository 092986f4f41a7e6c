"""The read API's commands: `/cronofy api token create|list|revoke` and `/cronofy audit [n]`
(admins only: checked by the dispatcher). Every answer is private; the new token is in the
creating admin's answer only and nowhere else (not in the audit log, not in a log line)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.api import tokens
from bot.commands import CommandContext
from bot.commands import parser as p
from cards import api as cards
from cards.model import Card

API_PATH = "/api/v1/"
# who an audit entry names when it is not a member
_ACTORS = {"cronofy": "Cronofy", "system": "Slotbot"}


def _moment(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


async def _names(ctx: CommandContext) -> dict[str, str]:
    members = await ctx.services.store.list_members(ctx.actor.org_id)
    return {m.user_id: m.display_name or m.name or m.user_id for m in members}


async def token_command(
    ctx: CommandContext, command: p.ApiTokenCreate | p.ApiTokenList | p.ApiTokenRevoke
) -> Card:
    services, actor = ctx.services, ctx.actor
    store, now = services.store, services.clock()
    match command:
        case p.ApiTokenCreate(name=name):
            try:
                token = await tokens.create(store, actor.org_id, name, actor=actor.user_id, now=now)
            except tokens.TokenError:
                return cards.token_name_taken(name)
            api_url = services.settings.public_url.rstrip("/") + API_PATH
            return cards.token_created(name, token, api_url)
        case p.ApiTokenRevoke(name=name):
            try:
                await tokens.revoke(store, actor.org_id, name, actor=actor.user_id, now=now)
            except tokens.TokenError as exc:
                if exc.problem == "revoked":
                    return cards.token_already_revoked(name)
                return cards.token_unknown(name)
            return cards.token_revoked(name)
        case p.ApiTokenList():
            names = await _names(ctx)
            views = [
                cards.TokenView(
                    name=t.name,
                    created_at=datetime.fromtimestamp(t.created_at, UTC),
                    created_by=names.get(t.created_by, t.created_by),
                    last_used_at=_moment(t.last_used_at),
                    revoked_at=_moment(t.revoked_at),
                )
                for t in await tokens.list_tokens(store, actor.org_id)
            ]
            return cards.token_list(views, ctx.zone)


async def audit_command(ctx: CommandContext, command: p.AuditShow) -> Card:
    store = ctx.services.store
    entries = await store.list_audit(ctx.actor.org_id, limit=command.count)
    names = {**_ACTORS, **await _names(ctx)}
    views = [
        cards.AuditView(
            at=datetime.fromtimestamp(entry.at, UTC),
            actor=names.get(entry.actor, entry.actor),
            action=entry.action,
            detail={str(k): str(v) for k, v in entry.detail.items()},
        )
        for entry in entries
    ]
    return cards.audit_log(views, ctx.zone)
