"""RedisStore beyond the shared contract: an unreachable server, the key prefix, restarts."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from bot.errors import StoreError, StoreUnavailable
from bot.store.records import Booking, EventWrite, Job, Org
from bot.store.redis import RedisStore
from tests.support.redis_server import RedisServer, free_port

pytestmark = pytest.mark.redis


async def test_unreachable_redis_is_unavailable_quickly() -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    await store.open(migrate=False)  # builds the client only: no connection yet
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="does not answer"):
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.get_org("slack:T1")
        assert time.monotonic() - started < 10
    finally:
        await store.close()


async def test_password_is_not_in_errors() -> None:
    store = RedisStore(f"redis://user:hunter2secret@127.0.0.1:{free_port()}/0")
    await store.open(migrate=False)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await store.ping()
        assert "hunter2secret" not in str(caught.value)
        assert "***" in str(caught.value)
    finally:
        await store.close()


async def test_every_key_is_under_the_prefix(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix)
    await store.open()
    try:
        await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k"))
        await store.put_booking(Booking(org_id="slack:T1", booking_id="b", start="2030-01-01"))
        await store.enqueue([Job(job_id="j", org_id="slack:T1", kind="alert")])
        await store.claim_jobs("w", limit=1, visibility_timeout=60)
        await store.claim_once("k", 60)
    finally:
        await store.close()
    client = redis.Redis.from_url(redis_url)
    try:
        mine = sorted(k.decode() for k in client.scan_iter(match=redis_prefix + "*"))
    finally:
        client.close()
    assert f"{redis_prefix}outbox" in mine
    assert f"{redis_prefix}orgs" in mine
    assert f"{redis_prefix}org_keys" in mine
    assert f"{redis_prefix}booking_starts:slack:T1" in mine


async def test_stores_with_different_prefixes_do_not_see_each_other(
    redis_url: str, redis_prefix: str
) -> None:
    first = RedisStore(redis_url, prefix=redis_prefix + "a:")
    second = RedisStore(redis_url, prefix=redis_prefix + "b:")
    await first.open()
    await second.open()
    try:
        await first.put_org(Org(org_id="slack:T1", platform="slack"))
        await first.enqueue([Job(job_id="j", org_id="slack:T1", kind="alert")])
        assert await second.get_org("slack:T1") is None
        assert await second.outbox_depth() == 0
    finally:
        await first.close()
        await second.close()


async def test_data_survives_a_hard_kill_of_redis(
    redis_server: RedisServer, redis_prefix: str
) -> None:
    if not redis_server.managed:
        pytest.skip("needs a redis-server these tests own")
    store = RedisStore(redis_server.url, prefix=redis_prefix)
    await store.open()
    try:
        await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k"))
        await store.enqueue([Job(job_id="j1", org_id="slack:T1", kind="alert")])
        redis_server.kill()
        with pytest.raises(StoreUnavailable):
            await store.ping()
        redis_server.start()
        # the same client reconnects; the scripts are loaded again on first use
        await store.ping()
        assert (await store.get_org_by_key("k")) is not None
        [job] = await store.claim_jobs("w", limit=1, visibility_timeout=60)
        assert (job.job_id, job.attempts) == ("j1", 1)
    finally:
        redis_server.start()  # leave it running for the next test, whatever happened
        await store.close()


async def test_commands_sent_together_keep_their_own_replies_and_errors(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix)
    await store.open()
    client = redis.Redis.from_url(redis_url)
    try:
        await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k"))
        # a key of the wrong type fails one read of the group, and only that one
        client.set(f"{redis_prefix}bookings:slack:T1", "not a hash")
        results = await asyncio.gather(
            store.get_org_by_key("k"),
            store.get_booking("slack:T1", "b1"),
            store.get_org("slack:T1"),
            store.get_org_by_key("unknown"),
            return_exceptions=True,
        )
        assert isinstance(results[0], Org) and results[0].org_key == "k"
        assert isinstance(results[1], StoreError) and "WRONGTYPE" in str(results[1])
        assert isinstance(results[2], Org) and results[2].org_id == "slack:T1"
        assert results[3] is None
    finally:
        client.close()
        await store.close()


async def test_scripts_flushed_from_redis_are_loaded_again(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix)
    await store.open()
    client = redis.Redis.from_url(redis_url)
    try:
        await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k"))
        client.script_flush()
        write = EventWrite(
            dedupe_key="d1",
            dedupe_ttl=60,
            org_id="slack:T1",
            jobs=[Job(job_id="j1", org_id="slack:T1", kind="alert")],
        )
        found, committed = await asyncio.gather(
            store.get_org_by_key("k"), store.commit_event(write)
        )
        assert found is not None and committed is True
        assert await store.commit_event(write) is False
        assert await store.outbox_depth() == 1
    finally:
        client.close()
        await store.close()
