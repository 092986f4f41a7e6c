"""An org's chat app being installed or not, and when Cronofy last called it.

The time of the last callback is kept out of the `Org` record, in the kv document
`org_activity/<org id>`: admins edit the record (setup, admins, alerts, reset), and a callback
that rewrote it whole could bring back keys an admin had just removed, or undo their edit.

While the chat app is uninstalled from an org its Cronofy keys still work, so callbacks are
still recorded; what cannot be done is deliver. Their alert jobs are *held*: dead-lettered with
the reason `APP_UNINSTALLED`, so `/cronofy status` lists them, and released again when the app
is reinstalled. A recruiter who reinstalls Slotbot expects to hear about the interviews booked
in the meantime; alerts held longer than `RELEASE_MAX_AGE` are left among the failed deliveries
(replayable by hand) rather than arriving as a flood of stale news.
"""

from __future__ import annotations

import logging

from bot.chat import Actor
from bot.runtime import Services
from bot.store import orgcache
from bot.store.base import Store
from bot.store.records import AuditEntry, Org

log = logging.getLogger(__name__)

ACTIVITY = "org_activity"
APP_UNINSTALLED = "app_uninstalled"
RELEASE_MAX_AGE = 7 * 24 * 3600.0
_RELEASE_SCAN = 1000


async def record_callback(store: Store, org_id: str, now: float) -> None:
    await store.kv_put(ACTIVITY, org_id, {"last_callback_at": now})


async def last_callback_at(store: Store, org: Org) -> float | None:
    """When Cronofy last called this org's push URL (None: never)."""
    doc = await store.kv_get(ACTIVITY, org.org_id)
    value = doc.get("last_callback_at") if doc is not None else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return org.last_callback_at  # written into the record by earlier versions


async def hold_jobs(store: Store, org_id: str) -> int:
    """Keep the org's pending jobs from being delivered while the app is uninstalled."""
    return await store.dead_letter_org_jobs(org_id, APP_UNINSTALLED)


async def deactivate_org(services: Services, org_id: str) -> int:
    """The app left the org: mark it inactive and hold its pending jobs (how many)."""
    store = services.store
    org = await store.get_org(org_id)
    if org is not None and org.active:
        org.active = False
        org.updated_at = services.clock()
        await store.put_org(org)
    return await hold_jobs(store, org_id)


async def uninstalled(services: Services, org_id: str) -> bool:
    """Whether the chat app was uninstalled from the org (stored inactive). An org read active
    a moment ago is not read again (`Services.active_orgs`): the outbox worker asks before
    every message it sends. Raises StoreError."""
    if services.active_orgs.seen(org_id):
        return False
    seen = orgcache.generation()
    org = await services.store.get_org(org_id)
    if org is None:
        return False
    if org.active:
        services.active_orgs.saw(org_id, seen)
        return False
    return True


async def reactivate_org(services: Services, org_id: str) -> int | None:
    """The app is installed in the org again: mark it active and release the jobs held while
    it was not. None when the org was not inactive; else how many jobs were released."""
    store = services.store
    if services.active_orgs.seen(org_id):
        return None  # read active a moment ago, and no org written here since
    seen = orgcache.generation()
    org = await store.get_org(org_id)
    if org is None or org.active:
        if org is not None:
            services.active_orgs.saw(org_id, seen)
        return None
    now = services.clock()
    org.active = True
    org.updated_at = now
    await store.put_org(org)
    held = [
        job.job_id
        for job in await store.list_dead_letters(org_id, limit=_RELEASE_SCAN)
        if job.dead_reason == APP_UNINSTALLED and now - job.created_at <= RELEASE_MAX_AGE
    ]
    return await store.requeue_dead_letters(held) if held else 0


async def get_or_new_org(services: Services, actor: Actor) -> Org:
    """The actor's org as stored, or a new one (not stored yet)."""
    org = await services.store.get_org(actor.org_id)
    if org is not None:
        return org
    now = services.clock()
    return Org(org_id=actor.org_id, platform=actor.platform, created_at=now, updated_at=now)


async def audit(services: Services, org_id: str, actor: str, action: str, **detail: object) -> None:
    """Write who did what to the org's audit log (never a secret in `detail`)."""
    await services.store.append_audit(
        AuditEntry(
            org_id=org_id, actor=actor, action=action, detail=dict(detail), at=services.clock()
        )
    )
