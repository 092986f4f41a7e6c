"""Extra migration steps for exercising the runners: a step that works and one that fails,
for SQLite and Redis. Also runnable as a process (`python -m tests.bot.store.migration_steps
sqlite <path> <at>` / `redis <url> <prefix> <at>`, opening at epoch second <at>) so tests can
start several at once."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time

import redis.asyncio as aioredis

from bot.store.migrations import StepInfo
from bot.store.redis import RedisStore
from bot.store.redis import schema as redis_steps
from bot.store.redis.schema import RedisStep
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite import schema as sqlite_steps
from bot.store.sqlite.schema import SQLiteStep

NEXT = sqlite_steps.STEPS[-1].info.version + 1
SLOW = 0.5  # seconds the counting steps take, so that starters overlap


def _sqlite_counting(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS migration_runs (pid INTEGER, at REAL)")
    db.execute("INSERT INTO migration_runs VALUES (?, ?)", (_pid(), time.time()))
    time.sleep(SLOW)


def _sqlite_adds_a_table(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE added_by_step (x INTEGER)")
    doc = '{"org_id": "slack:TNEW", "platform": "slack"}'
    db.execute("INSERT INTO orgs (org_id, org_key, doc) VALUES ('slack:TNEW', NULL, ?)", (doc,))


def _sqlite_fails(db: sqlite3.Connection) -> None:
    raise ValueError("step refused the data")


async def _redis_counting(client: aioredis.Redis, prefix: str) -> None:
    await client.incr(prefix + "migration_runs")
    await asyncio.sleep(SLOW)


async def _redis_marks(client: aioredis.Redis, prefix: str) -> None:
    await client.incr(prefix + "marked_by_step")


async def _redis_fails(client: aioredis.Redis, prefix: str) -> None:
    raise ValueError("step refused the data")


def sqlite_plus(*kinds: str) -> tuple[SQLiteStep, ...]:
    """Today's steps followed by the named extra ones, numbered on from today's version."""
    table = {"counting": _sqlite_counting, "adds": _sqlite_adds_a_table, "fails": _sqlite_fails}
    extra = tuple(
        SQLiteStep(StepInfo(NEXT + i, f"test step {kind}"), table[kind])
        for i, kind in enumerate(kinds)
    )
    return sqlite_steps.STEPS + extra


def redis_plus(*kinds: str) -> tuple[RedisStep, ...]:
    table = {"counting": _redis_counting, "marks": _redis_marks, "fails": _redis_fails}
    extra = tuple(
        RedisStep(StepInfo(NEXT + i, f"test step {kind}"), table[kind])
        for i, kind in enumerate(kinds)
    )
    return redis_steps.STEPS + extra


def _pid() -> int:
    import os

    return os.getpid()


async def _start(argv: list[str]) -> None:
    # every starter opens at the same moment, whatever its own start-up took
    await asyncio.sleep(max(0.0, float(argv[-1]) - time.time()))
    if argv[0] == "sqlite":
        store: SQLiteStore | RedisStore = SQLiteStore(argv[1], steps=sqlite_plus("counting"))
    else:
        store = RedisStore(argv[1], prefix=argv[2], steps=redis_plus("counting"))
    await store.open()
    status = await store.schema_status()
    await store.close()
    print(f"version {status.store_version}")


if __name__ == "__main__":
    asyncio.run(_start(sys.argv[1:]))
