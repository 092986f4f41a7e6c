"""Alert delivery throughput: chat messages per second one `python -m bot serve` process
delivers to the local fake Slack, and its CPU per message, on SQLite and on Redis.

COUNT alert jobs (a new booking each, told to the hiring channel of one of ORGS workspaces,
as a callback's routing writes them) are written straight into the store as a backlog due
LEAD seconds later, while the serving process runs; its own outbox worker then delivers them
as fast as it goes, through the whole path: the conversation's lane, the sent marker, the
booking's message reference, chat.postMessage with its job label, the ack. The fake Slack
(a process of its own) stamps each post's arrival: `rps` is messages delivered per second
from the due time to the last arrival; `cpu_ms_per_msg` the serving process's CPU over that
window per message (on Redis `redis_cpu_ms_per_msg` is redis-server's). No intake runs:
this is the delivery side alone (bench/latency.py measures both together).

`python -m bench delivery [--quick] [--store sqlite|redis|both] [--count N]`.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench._pushload import arrivals, bench_orgs, bot_env, forget_requests, seed
from bench.common import BotProcess, RedisProcess, cpu_seconds, drain
from bot.alerts.render import AlertFacts
from bot.chat import DeliveryTarget
from bot.outbox.kinds.alert import KIND, Alert
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import Job

COUNT = 3_000
QUICK_COUNT = 1_000
ORGS = 10
LEAD = 2.0  # seconds from writing the backlog to its due time
WRITE_BATCH = 500
TOKEN = re.compile(r"Dlv([0-9a-z]+)x(\d+)z")
Rows = list[dict[str, Any]]


def alert(org_id: str, channel: str, run: str, i: int) -> Alert:
    facts = AlertFacts(
        kind="booked",
        booking_id=f"bk_{run}_{i}",
        candidate_id=f"cand_{run}_{i}",
        candidate_name=f"Dlv{run}x{i}z",
        recruiter_name="Bench Recruiter",
        summary="Interview",
        start="2026-12-01T10:00:00+00:00",
        end="2026-12-01T10:30:00+00:00",
        zone="Europe/London",
    )
    target = DeliveryTarget("slack", org_id, "channel", conversation_id=channel)
    return Alert(target=target, facts=facts, seq=1, target_name="bench")


def _cpu_ms(before: float | None, after: float | None, count: int) -> float | None:
    if before is None or after is None or count == 0:
        return None
    return round((after - before) * 1000 / count, 3)


async def _measure(
    name: str,
    url: str,
    make_store: Callable[[], Store],
    count: int,
    redis_pid: int | None = None,
) -> Rows:
    orgs = bench_orgs(ORGS)
    key = generate_key()
    await seed(make_store(), SecretBox([key]), orgs)
    rows: Rows = []
    from tests.fakes.serve import spawn

    fake, fake_url = spawn("slack")
    try:
        async with BotProcess(bot_env(url, key, fake_url)) as bot:
            store = make_store()
            await store.open()
            try:
                async with aiohttp.ClientSession() as session:
                    for run, jobs in ((f"w{name[0]}", 50), (f"d{name[0]}", count)):
                        now = time.time()
                        release = now + LEAD
                        batch: list[Job] = []
                        for i in range(jobs):
                            org = orgs[i % ORGS]
                            job = KIND.job(
                                org.org_id, alert(org.org_id, org.channel, run, i), now=now
                            )
                            job.not_before = release
                            batch.append(job)
                            if len(batch) >= WRITE_BATCH:
                                await store.enqueue(batch)
                                batch = []
                        if batch:
                            await store.enqueue(batch)
                        await asyncio.sleep(max(0.0, release - time.time()))
                        cpu_before = bot.cpu_seconds()
                        fake_before = cpu_seconds(fake.pid)
                        redis_before = cpu_seconds(redis_pid) if redis_pid else None
                        drained = await drain(store, poll=0.1)
                        cpu_after = bot.cpu_seconds()
                        fake_after = cpu_seconds(fake.pid)
                        redis_after = cpu_seconds(redis_pid) if redis_pid else None
                        got = await arrivals(session, fake_url, run, TOKEN)
                        await forget_requests(session, fake_url)
                        if run.startswith("w"):
                            continue  # the warm-up: connections, the first claim
                        span = max(got.values(), default=release) - release
                        row: dict[str, Any] = {
                            "bench": "delivery",
                            "target": f"{jobs:,} alerts due at once, {ORGS} channels",
                            "store": name,
                            "requests": jobs,
                            "delivered": len(got),
                            "rps": round(len(got) / span, 1) if span > 0 else None,
                            "cpu_ms_per_msg": _cpu_ms(cpu_before, cpu_after, len(got)),
                            # the fake Slack shares the cores: its CPU bounds the rate too
                            "fake_slack_cpu_ms_per_msg": _cpu_ms(fake_before, fake_after, len(got)),
                            "note": "as fast as one process goes"
                            + ("" if drained else "; did not drain"),
                        }
                        if redis_pid:
                            row["redis_cpu_ms_per_msg"] = _cpu_ms(
                                redis_before, redis_after, len(got)
                            )
                        rows.append(row)
            finally:
                await store.close()
    finally:
        fake.terminate()
        fake.wait(timeout=20)
    return rows


async def run(quick: bool, store: str = "both", count: int | None = None) -> Rows:
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    total = count if count is not None else (QUICK_COUNT if quick else COUNT)
    rows: Rows = []
    if store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="slotbot-bench-") as folder:
            path = Path(folder) / "slotbot.db"
            rows += await _measure(
                "sqlite", f"sqlite:///{path}", lambda: SQLiteStore(str(path)), total
            )
    if store in ("redis", "both"):
        if not RedisProcess.available():
            return [*rows, {"bench": "delivery", "store": "redis", "skipped": "no redis-server"}]
        async with RedisProcess() as redis:
            pid = redis.process.pid if redis.process is not None else None
            rows += await _measure("redis", redis.url, lambda: RedisStore(redis.url), total, pid)
    return rows
