"""Cronofy callback intake: requests/s and latency at 32 connections, next to a bare
aiohttp handler in the same run, on SQLite and on Redis; and end-to-end latency from an
accepted callback to the alert arriving at a fake Slack Web API.

Every callback is a signed, unique `scheduling_request_time_chosen` for a new candidate, so
each accepted request writes a candidate, a timeline entry, a booking and one alert job,
which the serving process's own worker then delivers to the fake Slack during the run.

On each store the durable floor (bench.floor: the bare handler plus the HMAC check, the JSON
parse and one durable write of the body) is measured too: `vs_floor` says how far Slotbot is
from the least any intake that stores a callback before its 200 can cost here.

Each store is measured against a fresh fake Slack, so neither inherits the other's posts.
`cpu_ms_per_req` is the CPU time the measured server process used per request over the load
run (Linux /proc): unlike requests/s it hardly moves when other work shares the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from bench._pushload import CLIENT_SECRET, callback
from bench.common import (
    BareProcess,
    BotProcess,
    FloorProcess,
    LoadResult,
    RedisProcess,
    load,
    percentile,
)
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import AlertRoute, CronofyConfig, Org

CONNECTIONS = 32
WARMUP = 50  # requests per load run before the clock starts (load()'s default)
TOTAL = 40_000  # callbacks signed ahead of a load run (at most this many are sent)
ORG_ID = "slack:T1"  # the fake Slack's default team
ORG_KEY = "benchpushkey0123456789"
CHANNEL = "C0BENCH"
PUSH_PATH = f"/cronofy/push/{ORG_KEY}"
FLOOR = "durable floor"  # bench.floor


def maker(run: str, count: int) -> Callable[[int], tuple[bytes, dict[str, str]]]:
    """Bodies are signed ahead of time so the load generator spends its CPU on requests."""
    cache = [callback(i, run) for i in range(count)]
    return lambda i: cache[i] if i < len(cache) else callback(i, run)


async def seed(store: Store, box: SecretBox) -> None:
    await store.open()
    try:
        await store.put_org(
            Org(
                org_id=ORG_ID,
                platform="slack",
                name="Bench",
                org_key=ORG_KEY,
                cronofy=CronofyConfig(
                    client_id="cid_bench",
                    client_secret_enc=box.encrypt(CLIENT_SECRET),
                    data_center="us",
                    configured_by="UBENCH",
                    configured_at=time.time(),
                ),
                admins=["UBENCH"],
                routes=[AlertRoute(conversation_id=CHANNEL, name="bench")],
            )
        )
    finally:
        await store.close()


async def _posts(session: aiohttp.ClientSession, fake_url: str) -> list[dict[str, Any]]:
    async with session.get(f"{fake_url}/_fake/requests") as response:
        data = await response.json()
    return [r for r in data if r.get("name") == "chat.postMessage" and r.get("status") == 200]


async def end_to_end(bot_url: str, fake_url: str, samples: int) -> list[float]:
    """Sequential callbacks; each one's latency is the fake's arrival time minus send time."""
    latencies: list[float] = []
    make = maker("e2e" + str(int(time.time())), samples)
    async with aiohttp.ClientSession() as session:
        seen = len(await _posts(session, fake_url))
        for i in range(samples):
            body, headers = make(i)
            sent_at = time.time()
            async with session.post(bot_url + PUSH_PATH, data=body, headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(f"callback refused: {response.status}")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                posts = await _posts(session, fake_url)
                if len(posts) > seen:
                    latencies.append(float(posts[seen]["at"]) - sent_at)
                    seen += 1
                    break
                await asyncio.sleep(0.002)
            else:
                raise RuntimeError("the alert did not reach the fake Slack within 10s")
    return latencies


async def _pushed(url: str, run: str, duration: float) -> LoadResult:
    """The intake load: CONNECTIONS connections posting unique signed callbacks to `url`."""
    return await load(
        url + PUSH_PATH,
        maker(run, TOTAL),
        connections=CONNECTIONS,
        duration=duration,
        total=TOTAL,
        warmup=WARMUP,
    )


def _row(
    target: str, store: str, result: LoadResult, cpu: tuple[float | None, float | None]
) -> dict[str, Any]:
    before, after = cpu
    # the load's warm-up requests are inside the CPU window too
    sent = result.requests + result.errors + WARMUP
    return {
        "bench": "intake",
        "target": target,
        "store": store,
        "connections": CONNECTIONS,
        "requests": result.requests,
        "errors": result.errors,
        "rps": round(result.rps, 1),
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "cpu_ms_per_req": (
            round((after - before) * 1000 / sent, 3)
            if before is not None and after is not None
            else None
        ),
    }


async def _measure_store(
    store_name: str,
    store_url: str,
    make_store: Callable[[], Store],
    fake_url: str,
    quick: bool,
    bare_rps: float,
    processes: int = 1,
) -> list[dict[str, Any]]:
    key = generate_key()
    await seed(make_store(), SecretBox([key]))
    env = {
        "BOT_STORE_URL": store_url,
        "BOT_SECRET_KEYS": key,
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_API_URL": fake_url + "/api/",
    }
    rows: list[dict[str, Any]] = []
    async with BotProcess(env, processes=processes) as bot:
        if processes == 1:
            samples = 30 if quick else 100
            e2e = await end_to_end(bot.url, fake_url, samples)
            rows.append(
                {
                    "bench": "intake_e2e",
                    "target": "slotbot",
                    "store": store_name,
                    "requests": len(e2e),
                    "p50_ms": round(percentile(e2e, 50) * 1000, 2),
                    "p99_ms": round(percentile(e2e, 99) * 1000, 2),
                }
            )
        else:
            await asyncio.sleep(1.0)  # every child listening, not only the first
        duration = 3.0 if quick else 10.0
        cpu_before = bot.cpu_seconds()
        result = await _pushed(bot.url, f"{store_name}{int(time.time())}", duration)
        target = "slotbot" if processes == 1 else f"slotbot serve --processes {processes}"
        row = _row(target, store_name, result, (cpu_before, bot.cpu_seconds()))
        row["vs_bare"] = round(result.rps / bare_rps, 2) if bare_rps else None
        rows.append(row)
    return rows


async def run(quick: bool, processes: int = 1) -> list[dict[str, Any]]:
    """`processes` > 1: each store is also measured under `serve --processes N`, on a store
    of its own, right after one process (`vs_1_process`)."""
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    rows: list[dict[str, Any]] = []
    duration = 3.0 if quick else 10.0
    async with BareProcess() as bare:
        cpu_before = bare.cpu_seconds()
        baseline = await _pushed(bare.url, "bare", duration)
        cpu = (cpu_before, bare.cpu_seconds())
    rows.append(_row("bare aiohttp", "-", baseline, cpu))

    # each store gets a fake Slack of its own: one that still held every post of an earlier
    # run answered its request log slowly, and held up the next run's end-to-end figures
    counts = (1,) if processes <= 1 else (1, processes)
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-") as folder:
        rows.append(
            await _floor("sqlite", f"sqlite:///{Path(folder) / 'floor.db'}", baseline, duration)
        )
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="slotbot-bench-") as folder:
            path = Path(folder) / "slotbot.db"
            with _fake_slack() as fake_url:
                rows += await _measure_store(
                    "sqlite",
                    f"sqlite:///{path}",
                    functools.partial(SQLiteStore, str(path)),
                    fake_url,
                    quick,
                    baseline.rps,
                    count,
                )
    if RedisProcess.available():
        async with RedisProcess() as redis:
            rows.append(await _floor("redis", redis.url, baseline, duration))
        for count in counts:
            async with RedisProcess() as redis:
                with _fake_slack() as fake_url:
                    rows += await _measure_store(
                        "redis",
                        redis.url,
                        lambda: RedisStore(redis.url),
                        fake_url,
                        quick,
                        baseline.rps,
                        count,
                    )
    else:
        rows.append({"bench": "intake", "store": "redis", "skipped": "no redis-server"})
    floors = {r["store"]: r["rps"] for r in rows if r.get("target") == FLOOR}
    for row in rows:
        if row.get("bench") == "intake" and row.get("target") == "slotbot":
            floor = floors.get(row["store"])
            row["vs_floor"] = round(row["rps"] / floor, 2) if floor else None
    if processes > 1:
        single = {
            r["store"]: r["rps"]
            for r in rows
            if r.get("bench") == "intake" and r.get("target") == "slotbot"
        }
        for row in rows:
            if row.get("bench") == "intake" and row.get("store") in single:
                one = single[row["store"]]
                row["vs_1_process"] = round(row["rps"] / one, 2) if one else None
    return rows


async def _floor(
    store_name: str, store_url: str, baseline: LoadResult, duration: float
) -> dict[str, Any]:
    """bench.floor on this store, loaded like Slotbot: the least a durable intake costs."""
    async with FloorProcess(store_url) as floor:
        cpu_before = floor.cpu_seconds()
        result = await _pushed(floor.url, f"floor{store_name}{int(time.time())}", duration)
        row = _row(FLOOR, store_name, result, (cpu_before, floor.cpu_seconds()))
    row["vs_bare"] = round(result.rps / baseline.rps, 2) if baseline.rps else None
    return row


@contextlib.contextmanager
def _fake_slack() -> Iterator[str]:
    from tests.fakes.serve import spawn

    fake, fake_url = spawn("slack")
    try:
        yield fake_url
    finally:
        fake.terminate()
        fake.wait(timeout=20)
