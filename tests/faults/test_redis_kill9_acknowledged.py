"""Nothing Slotbot acknowledged is lost when Redis is killed (SIGKILL) and started again.

100 cycles of: signed callbacks posted to the push endpoint of a served app on the Redis
store, as Cronofy sends them (a 5xx is tried again, a 200 is final: Cronofy never sends that
callback again) → `kill -9` of redis-server right after the last 200 → redis-server started
again from its append-only file → every callback answered 200 so far must be on its
candidate's timeline, and the org must still be there. Then the outbox worker runs and every
one of them must be alerted: its channel alert delivered to the chat platform (a recording
adapter standing in for Slack). Delivered is the honest test of "alerted": the alert job is
written in the same script as the timeline entry, and a job is only known to be whole once a
worker has read it back and delivered it.

Redis runs as the README says (`appendfsync always`), on a slow disk during the cycles: each
fsync made 50 ms longer with strace's fault injection, as on a busy machine (the disk of this
one fsyncs in a fraction of a millisecond, where a crash would rarely find a write in flight).
Without strace the cycles run on the disk as it is. The worker delivers afterwards, with the
disk back to its own speed: kills in the middle of deliveries are tests/faults/
test_redis_restart.py's subject.

SLOTBOT_FAULT_APPENDFSYNC=everysec runs the same cycles on Redis's default instead (the store
opened with BOT_REDIS_DURABILITY=relaxed, which it would refuse otherwise): redis-server then
answers OK while a background fsync holds the write back, `kill -9` drops it, and the failure
message counts what was lost. SLOTBOT_FAULT_SLOW_FSYNC_MS sets the disk's slowness (0: none).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.store.redis import RedisStore
from bot.store.redis.durability import RELAXED, STRICT
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import ORG_ID, Pipeline, seed, start_pipeline
from tests.support.redis_server import RedisServer, can_slow_the_disk, private_redis

pytestmark = [pytest.mark.redis, pytest.mark.slow]

CYCLES = 100
CALLBACKS_PER_CYCLE = 2
CRONOFY_RETRIES = 200  # an upper bound: Cronofy retries a 5xx for a day
DELIVERY_WAIT = 60.0  # upper bound for the worker to deliver everything, never a timing
APPENDFSYNC = os.environ.get("SLOTBOT_FAULT_APPENDFSYNC", "always")
SLOW_FSYNC_MS = int(os.environ.get("SLOTBOT_FAULT_SLOW_FSYNC_MS", "50"))


def candidate(cycle: int, index: int) -> str:
    return f"Candidate Q{cycle:03d}{index}"


def email(cycle: int, index: int) -> str:
    return f"q{cycle:03d}{index}@example.com"


@dataclass
class Losses:
    accepted: list[tuple[int, int]] = field(default_factory=list)
    not_on_timeline: list[str] = field(default_factory=list)
    not_alerted: list[str] = field(default_factory=list)
    org_lost: list[int] = field(default_factory=list)  # cycles whose kill lost the org

    def cycles(self) -> set[int]:
        named = self.not_on_timeline + self.not_alerted
        return {int(name[len("Candidate Q") :][:3]) for name in named} | set(self.org_lost)

    def report(self, slow_fsync_ms: int) -> str:
        return (
            f"appendfsync {APPENDFSYNC}, each fsync {slow_fsync_ms} ms slower: "
            f"{len(self.cycles())} of {CYCLES} kills lost something; of "
            f"{len(self.accepted)} callbacks answered 200, {len(self.not_on_timeline)} were "
            f"not on their candidate's timeline and {len(self.not_alerted)} were never "
            f"alerted; the org was lost {len(self.org_lost)} time(s). Not on the timeline: "
            f"{self.not_on_timeline[:8]}; never alerted: {self.not_alerted[:8]}"
        )


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[tuple[RedisServer, RedisStore]]:
    conf = {"appendfsync": APPENDFSYNC}
    slow = SLOW_FSYNC_MS if can_slow_the_disk() else 0
    with private_redis(tmp_path / "redis", conf, slow_fsync_ms=slow) as server:
        store = RedisStore(server.url, durability=STRICT if APPENDFSYNC == "always" else RELAXED)
        await store.open()
        try:
            yield server, store
        finally:
            server.start()  # running again for the store's close, whatever happened
            await store.close()


async def _accept(p: Pipeline, cycle: int, index: int) -> None:
    """Post one callback until Slotbot answers 200, as Cronofy retries a 5xx."""
    payload = payloads.time_chosen(
        request_id=f"srq_q{cycle:03d}{index}",
        correlation_id=None,  # no tracked link: a profile by email and a channel alert
        email=email(cycle, index),
        name=candidate(cycle, index),
        start=f"2027-04-{1 + cycle % 28:02d}T{9 + index:02d}:00:00Z",
        end=f"2027-04-{1 + cycle % 28:02d}T{9 + index:02d}:30:00Z",
    )
    for _ in range(CRONOFY_RETRIES):
        response = await p.post(payload)
        if response.status == 200:
            return
        assert response.status >= 500, f"callback {cycle}/{index}: {response.status}"
        await asyncio.sleep(0.02)
    raise AssertionError(f"callback {cycle}/{index} was never accepted")


async def _on_timeline(store: RedisStore, cycle: int, index: int) -> bool:
    found = await store.find_candidate_by_email(ORG_ID, email(cycle, index))
    if found is None:
        return False
    entries = await store.list_timeline(ORG_ID, found.candidate_id)
    return any(e.raw_type == "scheduling_request_time_chosen" for e in entries)


def _alerted(p: Pipeline) -> set[str]:
    named = (re.search(r"Candidate Q\d{4}", repr(s.card)) for s in p.adapter.sent)
    return {found.group(0) for found in named if found}


async def test_every_callback_answered_200_survives_kill_9_of_redis(
    aiohttp_client: Any, redis: tuple[RedisServer, RedisStore]
) -> None:
    server, store = redis
    slow_fsync_ms = server.slow_fsync_ms
    p = await start_pipeline(aiohttp_client, store, run_worker=False, dm_alerts=False)
    losses = Losses()
    started = time.monotonic()
    for cycle in range(CYCLES):
        for index in range(CALLBACKS_PER_CYCLE):  # one after another: separate writes
            await _accept(p, cycle, index)
            losses.accepted.append((cycle, index))
        await asyncio.to_thread(server.kill)  # right after the last 200
        await asyncio.to_thread(server.start)
        if await store.get_org(ORG_ID) is None:
            losses.org_lost.append(cycle)
            await seed(store, p.services.secrets)  # so that the next cycles can go on
    for c, index in losses.accepted:
        if not await _on_timeline(store, c, index):
            losses.not_on_timeline.append(candidate(c, index))
    cycles_took = time.monotonic() - started

    server.stop()  # the disk back to its own speed for the deliveries
    server.slow_fsync_ms = 0
    server.start()
    expected = {candidate(c, i) for c, i in losses.accepted}
    worker = p.worker(poll_interval=0.01, base_delay=0.05)
    task = asyncio.create_task(worker.run())
    try:
        deadline = time.monotonic() + DELIVERY_WAIT
        while time.monotonic() < deadline:
            if expected <= _alerted(p) or await store.outbox_depth() == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 15)
    losses.not_alerted = sorted(expected - _alerted(p))
    report = losses.report(slow_fsync_ms)
    print(f"\n{report} ({CYCLES} cycles in {cycles_took:.1f}s)")
    assert not losses.cycles(), report
    assert await store.list_dead_letters() == []
