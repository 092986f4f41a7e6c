"""The org caches: an org written in this process is seen by the next callback or chat
request (setup with a new client secret, a reset, an uninstall); one written by another
process is seen once the entry is older than ORG_CACHE_TTL."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.alerts.http import ALERTS
from bot.org_state import deactivate_org, reactivate_org
from bot.runtime import Services
from bot.store import orgcache
from bot.store.base import Store
from bot.store.orgcache import OrgKeyCache, RecentlyActive
from bot.store.records import CronofyConfig, Org
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import ORG_ID, ORG_KEY, Clock, encode, sign, start_pipeline

NEW_SECRET = "CRN_test_client_secret_alerts_0002"


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _org(store: Store) -> Org:
    org = await store.get_org(ORG_ID)
    assert org is not None and org.cronofy is not None
    return org


async def test_reads_the_store_once_while_nothing_changes(store: Store) -> None:
    await store.put_org(Org(org_id=ORG_ID, platform="slack", org_key=ORG_KEY))
    reads = 0
    get = store.get_org_by_key

    async def counting(key: str) -> Org | None:
        nonlocal reads
        reads += 1
        return await get(key)

    store.get_org_by_key = counting  # type: ignore[method-assign]
    ticks = Ticks()
    cache = OrgKeyCache(ttl=2.0, clock=ticks)
    for _ in range(5):
        assert (await cache.get(store, ORG_KEY)) is not None
        assert (await cache.get(store, "nosuchkey")) is None
    assert reads == 2
    ticks.now = 2.5  # older than the TTL: read again
    assert (await cache.get(store, ORG_KEY)) is not None
    assert reads == 3


async def test_an_org_written_here_is_seen_at_once(store: Store) -> None:
    await store.put_org(Org(org_id=ORG_ID, platform="slack", org_key=ORG_KEY, name="before"))
    cache = OrgKeyCache(ttl=3600.0)
    first = await cache.get(store, ORG_KEY)
    assert first is not None and first.name == "before"
    await store.put_org(dataclasses.replace(first, name="after"))
    again = await cache.get(store, ORG_KEY)
    assert again is not None and again.name == "after"
    # a new push key: the old one is unknown from the next read on
    await store.put_org(dataclasses.replace(again, org_key="anotherkey"))
    assert await cache.get(store, ORG_KEY) is None


async def test_an_org_written_during_the_read_is_not_kept(store: Store) -> None:
    await store.put_org(Org(org_id=ORG_ID, platform="slack", org_key=ORG_KEY, name="before"))
    cache = OrgKeyCache(ttl=3600.0)
    get = store.get_org_by_key

    async def read_then_write(key: str) -> Org | None:
        org = await get(key)  # the old record is read ...
        assert org is not None
        await store.put_org(dataclasses.replace(org, name="after"))  # ... then replaced
        return org

    store.get_org_by_key = read_then_write  # type: ignore[method-assign]
    stale = await cache.get(store, ORG_KEY)
    assert stale is not None and stale.name == "before"
    store.get_org_by_key = get  # type: ignore[method-assign]
    fresh = await cache.get(store, ORG_KEY)
    assert fresh is not None and fresh.name == "after"


async def test_a_restore_or_clear_drops_the_entries(store: Store) -> None:
    await store.put_org(Org(org_id=ORG_ID, platform="slack", org_key=ORG_KEY))
    cache = OrgKeyCache(ttl=3600.0)
    assert await cache.get(store, ORG_KEY) is not None
    await store.clear()
    assert await cache.get(store, ORG_KEY) is None


async def test_a_new_client_secret_is_checked_by_the_next_callback(
    aiohttp_client: Any, store: Store
) -> None:
    """`/cronofy setup` with a new client secret: the next callback signed with it is taken,
    one signed with the old secret refused, without waiting for the cache to expire."""
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=Clock())
    p.client.app[ALERTS].orgs = OrgKeyCache(ttl=3600.0)  # only an invalidation can help
    assert (await p.post(payloads.time_chosen())).status == 200

    org = await _org(store)
    assert org.cronofy is not None
    cronofy = dataclasses.replace(
        org.cronofy, client_secret_enc=p.services.secrets.encrypt(NEW_SECRET)
    )
    await store.put_org(dataclasses.replace(org, cronofy=cronofy))

    body = encode(payloads.time_chosen(request_id="srq_after_setup"))
    old = await p.client.post(f"/cronofy/push/{ORG_KEY}", data=body, headers=sign(body))
    assert old.status == 401
    new = await p.client.post(f"/cronofy/push/{ORG_KEY}", data=body, headers=sign(body, NEW_SECRET))
    assert new.status == 200, await new.text()


async def test_a_reset_is_seen_by_the_next_callback(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=Clock())
    p.client.app[ALERTS].orgs = OrgKeyCache(ttl=3600.0)
    assert (await p.post(payloads.time_chosen())).status == 200
    await store.put_org(dataclasses.replace(await _org(store), cronofy=None))
    assert (await p.post(payloads.time_chosen(request_id="srq_after_reset"))).status == 404


async def test_another_process_change_is_seen_after_the_ttl(
    aiohttp_client: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=Clock())
    ticks = Ticks()
    p.client.app[ALERTS].orgs = OrgKeyCache(ttl=2.0, clock=ticks)
    assert (await p.post(payloads.time_chosen())).status == 200

    # written by another process: this one is not told
    monkeypatch.setattr(orgcache, "orgs_changed", lambda: None)
    org = await _org(store)
    assert org.cronofy is not None
    new = dataclasses.replace(org.cronofy, client_secret_enc=p.services.secrets.encrypt(NEW_SECRET))
    assert isinstance(new, CronofyConfig)
    await store.put_org(dataclasses.replace(org, cronofy=new))
    body = encode(payloads.time_chosen(request_id="srq_other_process"))
    url = f"/cronofy/push/{ORG_KEY}"
    assert (await p.client.post(url, data=body, headers=sign(body, NEW_SECRET))).status == 401
    ticks.now = 2.5
    assert (await p.client.post(url, data=body, headers=sign(body, NEW_SECRET))).status == 200


def _services(store: Store, ticks: Ticks) -> Services:
    from bot.config import Settings
    from bot.secrets import SecretBox, generate_key

    services = Services(Settings(), store, SecretBox([generate_key()]))
    services.active_orgs = RecentlyActive(ttl=2.0, clock=ticks)
    return services


async def test_a_chat_request_reads_an_active_org_once_a_moment(store: Store) -> None:
    await store.put_org(Org(org_id=ORG_ID, platform="slack", org_key=ORG_KEY))
    ticks = Ticks()
    services = _services(store, ticks)
    reads = 0
    get = store.get_org

    async def counting(org_id: str) -> Org | None:
        nonlocal reads
        reads += 1
        return await get(org_id)

    store.get_org = counting  # type: ignore[method-assign]
    for _ in range(3):
        assert await reactivate_org(services, ORG_ID) is None
    assert reads == 1
    ticks.now = 2.5
    assert await reactivate_org(services, ORG_ID) is None
    assert reads == 2


async def test_an_uninstall_here_is_undone_by_the_next_request(store: Store) -> None:
    await store.put_org(Org(org_id=ORG_ID, platform="slack", org_key=ORG_KEY))
    services = _services(store, Ticks())
    assert await reactivate_org(services, ORG_ID) is None  # active: remembered
    await deactivate_org(services, ORG_ID)
    assert await reactivate_org(services, ORG_ID) == 0, "reactivated at once"
    org = await store.get_org(ORG_ID)
    assert org is not None and org.active


async def test_an_uninstall_elsewhere_is_undone_once_the_ttl_has_passed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.put_org(Org(org_id=ORG_ID, platform="slack", org_key=ORG_KEY))
    ticks = Ticks()
    services = _services(store, ticks)
    assert await reactivate_org(services, ORG_ID) is None
    monkeypatch.setattr(orgcache, "orgs_changed", lambda: None)  # another process writes
    org = await store.get_org(ORG_ID)
    assert org is not None
    await store.put_org(dataclasses.replace(org, active=False))
    assert await reactivate_org(services, ORG_ID) is None  # not known here yet
    ticks.now = 2.5
    assert await reactivate_org(services, ORG_ID) == 0
    org = await store.get_org(ORG_ID)
    assert org is not None and org.active
