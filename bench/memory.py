"""Memory of the serving process: resident set size (VmRSS) and its peak (VmHWM, from
/proc/<pid>/status) when idle, and after EVENTS candidate events were stored, on SQLite and
on Redis; for Redis, the server's own memory (INFO memory, used_memory) beside it.

The events go in through the real push endpoint (signed callbacks, 32 connections), each a
new candidate, so the serving process did every bit of work an accepted callback costs. The
orgs have no alert route: what is measured is the intake and what it keeps, not a delivery
backlog. The load stops after LOAD_LIMIT seconds; the row says how many events were stored.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._pushload import bench_orgs, bot_env, callbacks, fake_slack, seed
from bench.common import BotProcess, RedisProcess, load, proc_memory_mb, redis_used_mb
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store

EVENTS = 100_000
QUICK_EVENTS = 10_000
LOAD_LIMIT = 60.0  # seconds
CONNECTIONS = 32


def _row(store: str, state: str, pid: int, **extra: Any) -> dict[str, Any]:
    memory = proc_memory_mb(pid)
    return {
        "bench": "memory",
        "target": f"slotbot {state}",
        "store": store,
        "rss_mb": round(memory.get("VmRSS", float("nan")), 1),
        "peak_rss_mb": round(memory.get("VmHWM", float("nan")), 1),
        **extra,
    }


async def _measure_store(
    store: str,
    store_url: str,
    make_store: Callable[[], Store],
    quick: bool,
    redis_url: str | None,
    db_path: Path | None,
) -> list[dict[str, Any]]:
    orgs = bench_orgs(1, routed=False)
    key = generate_key()
    await seed(make_store(), SecretBox([key]), orgs)
    events = QUICK_EVENTS if quick else EVENTS
    rows: list[dict[str, Any]] = []
    with fake_slack() as fake_url:
        async with BotProcess(bot_env(store_url, key, fake_url)) as bot:
            assert bot.process is not None
            pid = bot.process.pid
            await asyncio.sleep(1.0)  # let start-up settle: the first worker poll, the store
            extra: dict[str, Any] = {}
            if redis_url:
                extra["redis_used_mb"] = await redis_used_mb(redis_url)
            rows.append(_row(store, "idle", pid, requests=0, **extra))
            run = f"m{store[0]}{int(time.time())}"
            result = await load(
                bot.url + orgs[0].push_path,
                callbacks(run),
                connections=CONNECTIONS,
                duration=LOAD_LIMIT,
                total=events,
                warmup=0,
            )
            extra = {
                "connections": CONNECTIONS,
                "errors": result.errors,
                "rps": round(result.rps, 1),
                "note": "loaded through the push endpoint",
            }
            if redis_url:
                extra["redis_used_mb"] = await redis_used_mb(redis_url)
            if db_path is not None:
                extra["db_file_mb"] = round(
                    sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 2**20,
                    1,
                )
            if result.requests < events:
                extra["note"] += f"; stopped at {LOAD_LIMIT:.0f}s, short of {events:,}"
            state = f"after {result.requests:,} events"
            rows.append(_row(store, state, pid, requests=result.requests, **extra))
    return rows


async def run(quick: bool) -> list[dict[str, Any]]:
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-") as folder:
        path = Path(folder) / "slotbot.db"
        rows += await _measure_store(
            "sqlite", f"sqlite:///{path}", lambda: SQLiteStore(str(path)), quick, None, path
        )
    if RedisProcess.available():
        async with RedisProcess() as redis:
            rows += await _measure_store(
                "redis", redis.url, lambda: RedisStore(redis.url), quick, redis.url, None
            )
    else:
        rows.append({"bench": "memory", "store": "redis", "skipped": "no redis-server"})
    return rows
