"""The migration runners of both stores: versions, a step that fails half-way, dry runs,
stores from a newer Slotbot, and several processes starting on one old store at once."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from bot.errors import MigrationFailed, StoreError, StoreTooNew
from bot.store.migrations import SCHEMA_VERSION
from bot.store.records import Org
from bot.store.redis import RedisStore
from bot.store.redis import schema as redis_steps
from bot.store.sqlite import SQLiteStore
from tests.bot.store.migration_steps import NEXT, redis_plus, sqlite_plus

ROOT = Path(__file__).resolve().parents[3]
STARTERS = 3


def test_both_stores_know_the_same_versions() -> None:
    from bot.store.sqlite import schema as sqlite_steps

    sqlite = [step.info.version for step in sqlite_steps.STEPS]
    redis_ = [step.info.version for step in redis_steps.STEPS]
    assert sqlite == redis_ == list(range(1, SCHEMA_VERSION + 1))


async def start_together(args: list[list[str]]) -> list[str]:
    """Run the starters of migration_steps as processes that open the store at one moment."""
    at = time.time() + 3.0  # every interpreter has started by then
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bot.store.migration_steps",
            *argv,
            f"{at}",
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for argv in args
    ]
    outputs = []
    for proc in procs:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        outputs.append(out.decode().strip())
    return outputs


# SQLite ------------------------------------------------------------------------------------


async def v1_store(path: Path) -> None:
    store = SQLiteStore(str(path))
    await store.open()
    await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k1"))
    await store.close()


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT version FROM schema_version").fetchone()[0])


def tables_of(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


async def test_sqlite_new_store_is_made_at_the_current_version(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "new.db"))
    await store.open(migrate=False)
    try:
        before = await store.schema_status()
        assert (before.store_version, [s.version for s in before.pending]) == (
            0,
            list(range(1, SCHEMA_VERSION + 1)),
        )
        report = await store.migrate()
        assert report.from_version == 0 and report.to_version == SCHEMA_VERSION
        assert (await store.schema_status()).current
    finally:
        await store.close()
    assert version_of(tmp_path / "new.db") == SCHEMA_VERSION


async def test_sqlite_step_that_fails_rolls_every_step_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await v1_store(path)
    store = SQLiteStore(str(path), steps=sqlite_plus("adds", "fails"))
    with pytest.raises(MigrationFailed) as failed:
        await store.open()
    message = str(failed.value)
    assert f"step {NEXT + 1} (test step fails)" in message
    assert f"still at schema version {SCHEMA_VERSION}" in message
    assert version_of(path) == SCHEMA_VERSION
    assert "added_by_step" not in tables_of(path), "the step before it was rolled back too"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT org_id FROM orgs").fetchall() == [("slack:T1",)]
    # today's Slotbot still opens it, as it was
    again = SQLiteStore(str(path))
    await again.open()
    assert await again.get_org_by_key("k1") is not None
    await again.close()


async def test_sqlite_dry_run_runs_the_steps_then_rolls_them_back(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await v1_store(path)
    store = SQLiteStore(str(path), steps=sqlite_plus("adds"))
    await store.open(migrate=False)
    try:
        report = await store.migrate(dry_run=True)
        assert report.dry_run and [s.version for s in report.applied] == [NEXT]
        assert (await store.schema_status()).store_version == SCHEMA_VERSION
    finally:
        await store.close()
    assert "added_by_step" not in tables_of(path)
    assert version_of(path) == SCHEMA_VERSION


async def test_sqlite_dry_run_reports_the_step_that_would_fail(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await v1_store(path)
    store = SQLiteStore(str(path), steps=sqlite_plus("adds", "fails"))
    await store.open(migrate=False)
    try:
        with pytest.raises(MigrationFailed, match=f"step {NEXT + 1}"):
            await store.migrate(dry_run=True)
    finally:
        await store.close()
    assert version_of(path) == SCHEMA_VERSION


async def test_sqlite_migrated_store_is_at_the_last_step(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await v1_store(path)
    store = SQLiteStore(str(path), steps=sqlite_plus("adds"))
    await store.open()
    await store.close()
    assert version_of(path) == NEXT
    assert "added_by_step" in tables_of(path)
    with pytest.raises(StoreTooNew) as refused:
        await SQLiteStore(str(path)).open()
    assert f"schema version {NEXT}" in str(refused.value)
    assert f"versions up to {SCHEMA_VERSION}" in str(refused.value)


async def test_sqlite_starters_at_once_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await v1_store(path)
    outputs = await start_together([["sqlite", str(path)]] * STARTERS)
    assert outputs == [f"version {NEXT}"] * STARTERS
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM migration_runs").fetchone()[0] == 1


# Redis -------------------------------------------------------------------------------------


@pytest.fixture
def raw(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


async def legacy_v1(url: str, prefix: str) -> None:
    """A store as the first release left it: records, and no version key."""
    store = RedisStore(url, prefix=prefix)
    await store.open()
    await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k1"))
    await store.close()
    client = redis.Redis.from_url(url)
    client.delete(prefix + redis_steps.VERSION_KEY)
    client.close()


pytestmark_redis = pytest.mark.redis


@pytestmark_redis
async def test_redis_new_store_records_the_version(
    redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix)
    await store.open(migrate=False)
    assert (await store.schema_status()).store_version == 0
    await store.close()
    await store.open()
    await store.close()
    assert raw.get(redis_prefix + "schema_version") == str(SCHEMA_VERSION)


@pytestmark_redis
async def test_redis_first_release_store_without_a_version_key_is_version_1(
    redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    await legacy_v1(redis_url, redis_prefix)
    store = RedisStore(redis_url, prefix=redis_prefix, steps=redis_plus("marks"))
    await store.open(migrate=False)
    status = await store.schema_status()
    # every step after the first release's is pending: today's, then the test's
    assert (status.store_version, [s.version for s in status.pending]) == (
        1,
        list(range(2, NEXT + 1)),
    )
    await store.migrate()
    assert raw.get(redis_prefix + "schema_version") == str(NEXT)
    assert raw.get(redis_prefix + "marked_by_step") == "1"
    assert await store.get_org_by_key("k1") is not None
    await store.close()


@pytestmark_redis
async def test_redis_failed_step_resumes_there_on_the_next_start(
    redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    await legacy_v1(redis_url, redis_prefix)
    with pytest.raises(MigrationFailed) as failed:
        await RedisStore(redis_url, prefix=redis_prefix, steps=redis_plus("marks", "fails")).open()
    assert f"step {NEXT + 1} (test step fails)" in str(failed.value)
    assert f"at schema version {NEXT}" in str(failed.value)
    assert raw.get(redis_prefix + "schema_version") == str(NEXT)
    assert not raw.exists(redis_prefix + "migration_lock"), "the lock is released"
    # the fixed release: step NEXT+1 now works; step NEXT, already done, is not run again
    fixed = RedisStore(redis_url, prefix=redis_prefix, steps=redis_plus("marks", "marks"))
    await fixed.open()
    await fixed.close()
    assert raw.get(redis_prefix + "schema_version") == str(NEXT + 1)
    assert raw.get(redis_prefix + "marked_by_step") == "2"


@pytestmark_redis
async def test_redis_dry_run_changes_nothing(
    redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    await legacy_v1(redis_url, redis_prefix)
    store = RedisStore(redis_url, prefix=redis_prefix, steps=redis_plus("marks"))
    await store.open(migrate=False)
    report = await store.migrate(dry_run=True)
    await store.close()
    assert report.dry_run and [s.version for s in report.applied] == list(range(2, NEXT + 1))
    assert raw.get(redis_prefix + "schema_version") is None
    assert raw.get(redis_prefix + "marked_by_step") is None


@pytestmark_redis
async def test_redis_newer_store_is_refused_naming_both_versions(
    redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    raw.set(redis_prefix + "schema_version", SCHEMA_VERSION + 5)
    with pytest.raises(StoreTooNew) as refused:
        await RedisStore(redis_url, prefix=redis_prefix).open()
    assert f"schema version {SCHEMA_VERSION + 5}" in str(refused.value)
    assert f"versions up to {SCHEMA_VERSION}" in str(refused.value)


@pytestmark_redis
async def test_redis_waits_for_a_migration_in_progress(
    redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    await legacy_v1(redis_url, redis_prefix)
    raw.set(redis_prefix + "migration_lock", "someone-else", px=60_000)
    store = RedisStore(redis_url, prefix=redis_prefix, steps=redis_plus("marks"))
    opening = asyncio.create_task(store.open())
    await asyncio.sleep(0.5)
    assert not opening.done(), "it waits while another process holds the lock"
    # the other process finishes its migration and lets go
    raw.set(redis_prefix + "schema_version", NEXT)
    raw.delete(redis_prefix + "migration_lock")
    await asyncio.wait_for(opening, 10)
    await store.close()
    assert raw.get(redis_prefix + "marked_by_step") is None, "nothing migrated twice"


@pytestmark_redis
async def test_redis_starters_at_once_migrate_once(
    redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    await legacy_v1(redis_url, redis_prefix)
    outputs = await start_together([["redis", redis_url, redis_prefix]] * STARTERS)
    assert outputs == [f"version {NEXT}"] * STARTERS
    assert raw.get(redis_prefix + "migration_runs") == "1"


async def test_redis_that_never_answers_fails_the_start_naming_it() -> None:
    from tests.support.redis_server import free_port

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", start_wait=1.0)
    with pytest.raises(StoreError, match="does not answer"):
        await store.open()
