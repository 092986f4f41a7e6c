"""Redis is killed (SIGKILL) and started again from its append-only file while callbacks keep
arriving and the worker keeps delivering: callbacks that arrive while it is down get a 503
(Cronofy retries them), and every callback Slotbot answered 200 is delivered.

tests/scenarios/test_alerts_faults.py covers one callback between accept and delivery; here
the restart lands in the middle of a stream, with intake and delivery both in flight.
"""

from __future__ import annotations

import asyncio
import collections
import re
from typing import Any

import pytest

from bot.store.redis import RedisStore
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import WAIT, start_pipeline
from tests.scenarios.test_alerts_faults import redis_store
from tests.support.redis_server import RedisServer

__all__ = ["redis_store"]  # the fixture, shared with the alerts fault tests

pytestmark = pytest.mark.redis

CALLBACKS = 60
RESTART_AFTER = 20  # callbacks accepted before Redis is killed
REFUSED_WHILE_DOWN = 3
CRONOFY_RETRIES = 400  # Cronofy retries a 5xx; this is only an upper bound


def candidate(index: int) -> str:
    return f"Candidate R{index:02d}"


async def test_redis_killed_and_restarted_mid_stream_loses_nothing_accepted(
    aiohttp_client: Any, redis_server: RedisServer, redis_store: RedisStore
) -> None:
    p = await start_pipeline(
        aiohttp_client, redis_store, settings={"OUTBOX_VISIBILITY_TIMEOUT": "2"}
    )
    accepted: list[int] = []
    refused = collections.Counter[int]()
    restarted = asyncio.Event()

    async def deliver_callback(index: int) -> None:
        payload = payloads.time_chosen(
            request_id=f"srq_redis_{index:02d}",
            correlation_id=None,
            email=f"r{index:02d}@example.com",
            name=candidate(index),
        )
        for _ in range(CRONOFY_RETRIES):
            response = await p.post(payload)
            if response.status == 200:
                accepted.append(index)
                return
            refused[response.status] += 1
            await asyncio.sleep(0.05)
        raise AssertionError(f"callback {index} never accepted: {refused}")

    async def restart_redis() -> None:
        while len(accepted) < RESTART_AFTER:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(redis_server.kill)
        while refused[503] < REFUSED_WHILE_DOWN:  # callbacks keep coming while it is down
            await asyncio.sleep(0.01)
        await asyncio.to_thread(redis_server.start)
        restarted.set()

    async def stream() -> None:
        for index in range(CALLBACKS):
            await deliver_callback(index)

    await asyncio.gather(stream(), restart_redis())
    assert restarted.is_set() and len(accepted) == CALLBACKS
    assert set(refused) == {503}, "Redis down is a 503 (Cronofy retries), never a 500"

    async def all_delivered() -> None:
        while {_named(s.card) for s in p.adapter.sent} < {candidate(i) for i in accepted}:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(all_delivered(), WAIT * 2)
    await p.drain()
    delivered = collections.Counter(_named(s.card) for s in p.adapter.sent)
    assert set(delivered) == {candidate(i) for i in range(CALLBACKS)}
    assert await redis_store.list_dead_letters() == []


def _named(card: Any) -> str:
    found = re.search(r"Candidate R\d{2}", repr(card))
    return found.group(0) if found else "(no candidate named)"
