"""End-to-end alert latency under a paced load: from the moment a signed Cronofy callback is
sent to the serving process to the moment the fake Slack Web API (a process of its own,
stamping each arrival with its own clock) receives the alert's chat.postMessage; p50/p99 at
50, 200 and 500 callbacks/s offered, on SQLite and on Redis.

The load is open loop: callback i leaves at start + i/rate whatever the earlier ones are
doing, so a server that falls behind shows as latency and as a delivered rate below the
offered one (both printed), never as a politely lowered offer. Callbacks are spread round-robin
over ORGS workspaces with a hiring channel each, as a bot serving several teams sees them
(alerts to one conversation go out in order, one at a time; with all of them in one channel
the figures came out the same on a 2-core machine: the serving process's CPU is the ceiling).
Every callback is a new candidate, so each writes a candidate, a timeline entry, a booking and
an alert job, delivered by the serving process's own worker.

Columns: `offered_rps` the paced rate; `requests` callbacks accepted (200); `rps` alerts
delivered per second (first send to last post arrival); `p50_ms`/`p99_ms` send → arrival at
the fake Slack; `ack_p99_ms` the callback's own answer; `cpu_ms_per_alert` the serving
process's CPU (intake and delivery) per delivered alert, which sets its ceiling on one core;
`note` whether it kept up.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench._pushload import (
    BenchOrg,
    PacedResult,
    arrivals,
    bench_orgs,
    bot_env,
    callbacks,
    fake_slack,
    forget_requests,
    paced,
    seed,
)
from bench.common import BotProcess, RedisProcess, percentile
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store

RATES = (50, 200, 500)
ORGS = 10
DRAIN_TIMEOUT = 30.0  # seconds to wait after the last send for alerts still on their way
STALL_TIMEOUT = 8.0  # ... and give up earlier once no new alert has arrived for this long


async def _wait_delivered(fake_url: str, run: str, expected: int) -> dict[int, float]:
    deadline = time.monotonic() + DRAIN_TIMEOUT
    seen, last_progress = -1, time.monotonic()
    async with aiohttp.ClientSession() as session:
        while True:
            got = await arrivals(session, fake_url, run)
            now = time.monotonic()
            if len(got) >= expected or now >= deadline:
                break
            if len(got) > seen:
                seen, last_progress = len(got), now
            elif now - last_progress > STALL_TIMEOUT:
                break
            # each look serializes the whole log in the fake: not too often while the bot drains
            await asyncio.sleep(1.0)
        # the next run's looks then read only its own posts
        await forget_requests(session, fake_url)
    return got


def _row(store: str, sent: PacedResult, got: dict[int, float]) -> dict[str, Any]:
    latencies = [got[i] - at for i, at in sent.sent_at.items() if i in got]
    delivered = len(latencies)
    first_send = min(sent.sent_at.values(), default=0.0)
    last_arrival = max(got.values(), default=0.0)
    span = last_arrival - first_send
    delivered_rps = delivered / span if span > 0 else 0.0
    if sent.late_starts > sent.total // 20:
        verdict = f"load generator late on {sent.late_starts} sends ({sent.sent_rps:.0f}/s)"
    elif delivered < sent.accepted:
        verdict = f"behind: {sent.accepted - delivered} not delivered within {DRAIN_TIMEOUT:.0f}s"
    elif sent.errors:
        verdict = f"{sent.errors} callbacks refused"
    elif delivered_rps < 0.9 * sent.offered_rps:
        verdict = f"behind: {delivered_rps:.0f}/s delivered of {sent.offered_rps:.0f}/s offered"
    else:
        verdict = "keeps up"
    return {
        "bench": "alert_latency",
        "target": "slotbot",
        "store": store,
        "offered_rps": sent.offered_rps,
        "requests": sent.accepted,  # callbacks accepted (200)
        "errors": sent.errors,
        "delivered": delivered,
        "rps": round(delivered_rps, 1),  # alerts delivered per second, first send to last post
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "ack_p99_ms": round(percentile(sent.ack_latencies, 99) * 1000, 2),
        "note": verdict,
    }


async def _measure_store(
    store: str, store_url: str, make_store: Callable[[], Store], quick: bool
) -> list[dict[str, Any]]:
    orgs: list[BenchOrg] = bench_orgs(ORGS)
    key = generate_key()
    await seed(make_store(), SecretBox([key]), orgs)
    seconds = 2.0 if quick else 4.0
    rows: list[dict[str, Any]] = []
    with fake_slack() as fake_url:
        async with BotProcess(bot_env(store_url, key, fake_url)) as bot:
            urls = [bot.url + org.push_path for org in orgs]
            # warm-up: connections, caches, the worker's first claim
            warm = f"w{store[0]}"
            sent = await paced(urls, callbacks(warm), rate=50, seconds=1.0)
            await _wait_delivered(fake_url, warm, sent.accepted)
            for rate in RATES:
                run = f"{store[0]}{rate}"
                cpu_before = bot.cpu_seconds()
                sent = await paced(urls, callbacks(run), rate=rate, seconds=seconds)
                got = await _wait_delivered(fake_url, run, sent.accepted)
                row = _row(store, sent, got)
                cpu_after = bot.cpu_seconds()
                if cpu_before is not None and cpu_after is not None and row["delivered"]:
                    # intake and delivery of each alert: what sets the ceiling on one core
                    row["cpu_ms_per_alert"] = round(
                        (cpu_after - cpu_before) * 1000 / row["delivered"], 3
                    )
                rows.append(row)
    return rows


async def run(quick: bool) -> list[dict[str, Any]]:
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-") as folder:
        path = Path(folder) / "slotbot.db"
        rows += await _measure_store(
            "sqlite", f"sqlite:///{path}", lambda: SQLiteStore(str(path)), quick
        )
    if RedisProcess.available():
        async with RedisProcess() as redis:
            rows += await _measure_store("redis", redis.url, lambda: RedisStore(redis.url), quick)
    else:
        rows.append({"bench": "alert_latency", "store": "redis", "skipped": "no redis-server"})
    return rows
