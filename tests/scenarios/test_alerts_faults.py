"""Faults around the alerts pipeline: Redis restarted or down between accept and delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.store.redis import RedisStore
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CANDIDATE_ID, ORG_ID, start_pipeline
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_store(redis_server: RedisServer, redis_prefix: str) -> AsyncIterator[RedisStore]:
    if not redis_server.managed:
        pytest.skip("needs a redis-server these tests own (REDIS_URL is set)")
    store = RedisStore(redis_server.url, prefix=redis_prefix)
    await store.open()
    try:
        yield store
    finally:
        redis_server.start()  # leave it running for the next test whatever happened
        await store.close()


async def test_redis_restart_between_accept_and_delivery_loses_nothing(
    aiohttp_client: Any, redis_server: RedisServer, redis_store: RedisStore
) -> None:
    p = await start_pipeline(aiohttp_client, redis_store, run_worker=False)
    assert (await p.post(payloads.time_chosen())).status == 200
    redis_server.restart()  # SIGKILL, then start from the append-only file

    worker = p.worker()
    task = asyncio.create_task(worker.run())
    try:
        await p.wait_sent(2)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)
    assert sorted(s.target.key for s in p.adapter.sent) == ["channel:C0HIRING", "dm:UREC0001"]
    assert [e.kind for e in await redis_store.list_timeline(ORG_ID, CANDIDATE_ID)] == ["booked"]
    await p.drain()


async def test_redis_down_at_intake_is_503_then_accepted(
    aiohttp_client: Any, redis_server: RedisServer, redis_store: RedisStore
) -> None:
    p = await start_pipeline(aiohttp_client, redis_store, run_worker=False)
    redis_server.kill()
    response = await p.post(payloads.time_chosen())
    assert response.status == 503  # Cronofy retries; nothing was acknowledged
    redis_server.start()
    response = await p.post(payloads.time_chosen())
    assert response.status == 200
    assert (await response.json())["status"] == "accepted"
