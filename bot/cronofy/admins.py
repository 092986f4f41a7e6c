"""Who may run `/cronofy`: the org's admins (and the platform's, and BOT_ADMINS), and
`/cronofy admins add|remove`. Every change is written to the audit log."""

from __future__ import annotations

from bot.chat import Actor
from bot.errors import CommandError, PermissionDenied
from bot.org_state import audit, get_or_new_org
from bot.runtime import Services
from bot.store.records import Org
from cards import admin as admin_cards


def is_admin(services: Services, org: Org | None, actor: Actor) -> bool:
    if actor.is_platform_admin or actor.user_id in services.settings.admins:
        return True
    return org is not None and actor.user_id in org.admins


async def add_admin(services: Services, actor: Actor, user_id: str) -> bool:
    """True when added, False when already an admin."""
    org = await services.store.get_org(actor.org_id)
    if not is_admin(services, org, actor):
        raise PermissionDenied()
    org = org or await get_or_new_org(services, actor)
    if user_id in org.admins:
        return False
    org.admins.append(user_id)
    org.updated_at = services.clock()
    await services.store.put_org(org)
    await audit(services, org.org_id, actor.user_id, "admins.add", user_id=user_id)
    return True


async def remove_admin(services: Services, actor: Actor, user_id: str) -> bool:
    """True when removed, False when they were not on the org's list."""
    org = await services.store.get_org(actor.org_id)
    if not is_admin(services, org, actor):
        raise PermissionDenied()
    if org is None or user_id not in org.admins:
        return False
    if org.admins == [user_id] and not (
        actor.is_platform_admin or actor.user_id in services.settings.admins
    ):
        raise CommandError(admin_cards.LAST_ADMIN)
    org.admins.remove(user_id)
    org.updated_at = services.clock()
    await services.store.put_org(org)
    await audit(services, org.org_id, actor.user_id, "admins.remove", user_id=user_id)
    return True
