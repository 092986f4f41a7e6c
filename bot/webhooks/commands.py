"""`/cronofy webhook add|list|remove|test` (admins only: checked by the dispatcher).

Each change is audited with the URL and the webhook's id, never its secret. The secret is
made here, shown once in the private answer to `add`, and stored encrypted on the org.
"""

from __future__ import annotations

import secrets as random_secrets

from bot.commands import CommandContext
from bot.commands import parser as p
from bot.org_state import get_or_new_org
from bot.outbox.kinds.webhook import STATUS_NAMESPACE, status_key
from bot.store.records import AuditEntry, WebhookConfig
from bot.webhooks.addresses import AddressRefused, checked_addresses, parse_url
from bot.webhooks.events import ping_event, webhook_jobs
from bot.webhooks.settings import WebhookSettings
from cards import webhooks as cards
from cards.model import Card

# more would mostly multiply the work of every callback
MAX_WEBHOOKS = 10
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + random_secrets.token_urlsafe(32)


async def run(
    ctx: CommandContext, command: p.WebhookList | p.WebhookAdd | p.WebhookRemove | p.WebhookTest
) -> Card:
    match command:
        case p.WebhookAdd(url=url):
            return await add(ctx, url)
        case p.WebhookRemove(url=url):
            return await remove(ctx, url)
        case p.WebhookTest(url=url):
            return await test(ctx, url)
        case _:
            return await show(ctx)


async def add(ctx: CommandContext, url: str) -> Card:
    services, actor = ctx.services, ctx.actor
    settings = WebhookSettings.of(services.settings)
    try:
        destination = parse_url(url)
        await checked_addresses(
            services.resolve_host, destination, allow_loopback=settings.allow_loopback
        )
    except AddressRefused as exc:
        return cards.refused(exc.code, url, exc.address)
    org = await get_or_new_org(services, actor)
    if any(hook.url == url for hook in org.webhooks):
        return cards.already_added(url)
    if len(org.webhooks) >= MAX_WEBHOOKS:
        return cards.too_many(MAX_WEBHOOKS)
    now = services.clock()
    secret = new_secret()
    hook = WebhookConfig(
        webhook_id=random_secrets.token_hex(8),
        url=url,
        secret_enc=services.secrets.encrypt(secret),
        added_by=actor.user_id,
        added_at=now,
    )
    org.webhooks = [*org.webhooks, hook]
    org.updated_at = now
    await services.store.put_org(org)
    await _audit(ctx, "webhook.add", hook, now)
    return cards.added(url, secret)


async def remove(ctx: CommandContext, url: str) -> Card:
    services = ctx.services
    org = await get_or_new_org(services, ctx.actor)
    hook = next((h for h in org.webhooks if h.url == url), None)
    if hook is None:
        return cards.not_found(url)
    now = services.clock()
    org.webhooks = [h for h in org.webhooks if h.webhook_id != hook.webhook_id]
    org.updated_at = now
    await services.store.put_org(org)
    await services.store.kv_delete(STATUS_NAMESPACE, status_key(org.org_id, hook.webhook_id))
    await _audit(ctx, "webhook.remove", hook, now)
    return cards.removed(url)


async def test(ctx: CommandContext, url: str) -> Card:
    """A ping event to one webhook, through the outbox like any other event."""
    services = ctx.services
    org = await get_or_new_org(services, ctx.actor)
    hook = next((h for h in org.webhooks if h.url == url), None)
    if hook is None:
        return cards.not_found(url)
    now = services.clock()
    event = ping_event(org.org_id, url, now=now)
    await services.store.enqueue(webhook_jobs(org, event, now=now, only=hook))
    await _audit(ctx, "webhook.test", hook, now)
    return cards.test_queued(url)


async def show(ctx: CommandContext) -> Card:
    services = ctx.services
    org = await get_or_new_org(services, ctx.actor)
    views: list[cards.WebhookView] = []
    for hook in org.webhooks:
        status = await services.store.kv_get(
            STATUS_NAMESPACE, status_key(org.org_id, hook.webhook_id)
        )
        result = status.get("result") if status else None
        at = status.get("at") if status else None
        views.append(
            cards.WebhookView(
                url=hook.url,
                added_at=hook.added_at,
                added_by=hook.added_by,
                last_result=result if isinstance(result, str) else None,
                last_at=float(at) if isinstance(at, int | float) else None,
            )
        )
    return cards.webhook_list(views)


async def _audit(ctx: CommandContext, action: str, hook: WebhookConfig, now: float) -> None:
    await ctx.services.store.append_audit(
        AuditEntry(
            org_id=ctx.actor.org_id,
            actor=ctx.actor.user_id,
            action=action,
            detail={"webhook_id": hook.webhook_id, "url": hook.url},
            at=now,
        )
    )
