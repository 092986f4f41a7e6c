"""What storing an accepted callback costs the store: `commit_event` of the write a signed
`scheduling_request_time_chosen` for a new candidate decides (its dedupe claim, candidate,
timeline entry, booking and alert job), one at a time and 16 at once (as a busy intake hands
them to the store), in this process: CPU and wall time per write.

The bare baseline, in the same run and process: one durable write of the callback's body
under its digest, as bench.floor makes it (SQLite: one INSERT through Slotbot's store thread
and group commit; Redis: one SET NX to a server that fsyncs before answering). Between the two
is what recording a callback's consequences costs over merely keeping it.

    python -m bench store_write [--quick]
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bench._pushload import callback
from bench.common import RedisProcess
from bench.floor import Closer, Keeper, redis_keeper, sqlite_keeper
from bench.intake import ORG_ID, seed
from bot import jsonio
from bot.alerts.intake import build_write
from bot.alerts.parse import parse_notification
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import EventWrite

GROUPS = (1, 16)


async def _decided(store: Store, run: str, count: int) -> tuple[list[EventWrite], list[bytes]]:
    org = await store.get_org(ORG_ID)
    assert org is not None
    writes: list[EventWrite] = []
    bodies: list[bytes] = []
    for i in range(count):
        body, _ = callback(i, run)
        note = parse_notification(jsonio.loads(body))
        writes.append(await build_write(store, org, note, body, now=time.time()))
        bodies.append(body)
    return writes, bodies


async def _timed(calls: Sequence[Callable[[], Awaitable[Any]]], group: int) -> tuple[float, float]:
    """CPU and wall milliseconds per call, `group` calls in flight at once."""
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(calls), group):
        await asyncio.gather(*(call() for call in calls[start : start + group]))
    count = len(calls)
    return (
        (time.process_time() - cpu) * 1000 / count,
        (time.perf_counter() - wall) * 1000 / count,
    )


def _row(store: str, target: str, group: int, cpu: float, wall: float) -> dict[str, Any]:
    return {
        "bench": "store_write",
        "store": store,
        "target": target,
        "group": group,
        "cpu_ms_per_write": round(cpu, 3),
        "wall_ms_per_write": round(wall, 3),
    }


async def _measure(
    name: str,
    make_store: Callable[[], Store],
    keeper: Callable[[], tuple[Keeper, Closer]],
    count: int,
) -> list[dict[str, Any]]:
    await seed(make_store(), SecretBox([generate_key()]))
    store = make_store()
    await store.open()
    keep, close = keeper()
    rows: list[dict[str, Any]] = []
    try:
        for group in GROUPS:
            writes, bodies = await _decided(store, f"{name}{group}x{int(time.time())}", count)
            bare = [(lambda b=body: keep(hashlib.sha256(b).hexdigest(), b)) for body in bodies]
            cpu, wall = await _timed(bare, group)
            rows.append(_row(name, "bare: the body kept", group, cpu, wall))
            bare_cpu = cpu
            ours = [(lambda w=write: store.commit_event(w)) for write in writes]
            cpu, wall = await _timed(ours, group)
            row = _row(name, "slotbot: commit_event", group, cpu, wall)
            row["vs_bare_cpu"] = round(cpu / bare_cpu, 2) if bare_cpu else None
            rows.append(row)
    finally:
        await close()
        await store.close()
    return rows


async def run(quick: bool) -> list[dict[str, Any]]:
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    count = 800 if quick else 4000
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-write-") as folder:
        path = Path(folder) / "slotbot.db"
        floor = Path(folder) / "floor.db"
        rows += await _measure(
            "sqlite", lambda: SQLiteStore(str(path)), lambda: sqlite_keeper(str(floor)), count
        )
    if RedisProcess.available():
        async with RedisProcess() as redis:
            rows += await _measure(
                "redis", lambda: RedisStore(redis.url), lambda: redis_keeper(redis.url), count
            )
    else:
        rows.append({"bench": "store_write", "store": "redis", "skipped": "no redis-server"})
    return rows
