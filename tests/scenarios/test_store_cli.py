"""The store's command line as an operator runs it: `migrate`, `store copy` from one process
to several (SQLite → Redis) and back, `backup` and `restore`, and `serve` / `worker` refusing
a store a newer Slotbot wrote."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.secrets import SecretBox
from bot.store.migrations import SCHEMA_VERSION
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore
from tests.bot.store.populate import populate, snapshot
from tests.scenarios.test_serve import run_cli

BOX = SecretBox([Fernet.generate_key().decode()])


def populated_sqlite(path: Path) -> None:
    async def fill() -> None:
        store = SQLiteStore(str(path))
        await store.open()
        await populate(store, BOX)
        await store.close()

    asyncio.run(fill())


def snapshot_of(url_or_path: str | Path, prefix: str = "slotbot:") -> dict[str, object]:
    async def read() -> dict[str, object]:
        store: SQLiteStore | RedisStore
        if isinstance(url_or_path, Path):
            store = SQLiteStore(str(url_or_path))
        else:
            store = RedisStore(url_or_path, prefix=prefix)
        await store.open(migrate=False)
        try:
            return await snapshot(store)
        finally:
            await store.close()

    return asyncio.run(read())


def test_migrate_status_on_no_store_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "slotbot.db"
    url = f"sqlite:///{db}"
    for args in (("migrate", "--status"), ("migrate", "--dry-run"), ("backup", "x.db")):
        result = run_cli(tmp_path, *args, BOT_STORE_URL=url)
        assert "Traceback" not in result.stderr
        assert not db.exists(), f"{args} created the store"
    made = run_cli(tmp_path, "migrate", BOT_STORE_URL=url)
    assert made.returncode == 0, made.stderr
    assert f"migrated from schema version 0 to {SCHEMA_VERSION}" in made.stdout
    status = run_cli(tmp_path, "migrate", "--status", BOT_STORE_URL=url)
    assert f"schema version {SCHEMA_VERSION}: up to date" in status.stdout


def test_serve_and_worker_refuse_a_store_from_a_newer_slotbot(tmp_path: Path) -> None:
    db = tmp_path / "slotbot.db"
    assert run_cli(tmp_path, "migrate", BOT_STORE_URL=f"sqlite:///{db}").returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    for command in ("serve", "worker"):
        result = run_cli(
            tmp_path, command, BOT_STORE_URL=f"sqlite:///{db}", TEAMS_DEV_MODE="1", BOT_PORT="0"
        )
        assert result.returncode == 1, command
        assert f"schema version {SCHEMA_VERSION + 1}" in result.stderr
        assert f"versions up to {SCHEMA_VERSION}" in result.stderr
        assert "Traceback" not in result.stderr
    status = run_cli(tmp_path, "migrate", "--status", BOT_STORE_URL=f"sqlite:///{db}")
    assert status.returncode == 1 and "newer Slotbot" in status.stdout


@pytest.mark.redis
def test_copy_to_redis_and_back_then_backup_and_restore(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """`store copy` uses the default prefix: the test's Redis database is its own (db 12)."""
    redis_db = redis_url.rsplit("/", 1)[0] + "/12"
    import redis

    client = redis.Redis.from_url(redis_db)
    client.flushdb()
    try:
        source = tmp_path / "data" / "slotbot.db"
        source.parent.mkdir()
        populated_sqlite(source)
        original = snapshot_of(source)

        copied = run_cli(tmp_path, "store", "copy", f"sqlite:///{source}", redis_db)
        assert copied.returncode == 0, copied.stderr
        assert "✓ every kind of record is in the target" in copied.stdout
        # copied, in the source, in the target: 2 orgs x 3 candidates x 3 callbacks
        assert re.search(r"timeline\s+18\s+18\s+18\n", copied.stdout), copied.stdout
        assert snapshot_of(redis_db) == original

        again = run_cli(tmp_path, "store", "copy", f"sqlite:///{source}", redis_db)
        assert again.returncode == 1 and "not empty" in again.stderr and "--force" in again.stderr
        forced = run_cli(tmp_path, "store", "copy", "--force", f"sqlite:///{source}", redis_db)
        assert forced.returncode == 0, forced.stderr

        back = tmp_path / "back.db"
        returned = run_cli(tmp_path, "store", "copy", redis_db, f"sqlite:///{back}")
        assert returned.returncode == 0, returned.stderr
        assert snapshot_of(back) == original

        dump = tmp_path / "redis.jsonl"
        made = run_cli(tmp_path, "backup", str(dump), BOT_STORE_URL=redis_db)
        assert made.returncode == 0, made.stderr
        assert "portable dump" in made.stdout
        restored_db = tmp_path / "restored.db"
        restored = run_cli(tmp_path, "restore", str(dump), BOT_STORE_URL=f"sqlite:///{restored_db}")
        assert restored.returncode == 0, restored.stderr
        assert snapshot_of(restored_db) == original

        sqlite_backup = tmp_path / "backup.db"
        made = run_cli(tmp_path, "backup", str(sqlite_backup), BOT_STORE_URL=f"sqlite:///{source}")
        assert made.returncode == 0 and "SQLite database" in made.stdout
        refused = run_cli(
            tmp_path, "restore", str(sqlite_backup), BOT_STORE_URL=f"sqlite:///{restored_db}"
        )
        assert refused.returncode == 1 and "not empty" in refused.stderr
        forced = run_cli(
            tmp_path,
            "restore",
            "--force",
            str(sqlite_backup),
            BOT_STORE_URL=f"sqlite:///{restored_db}",
        )
        assert forced.returncode == 0, forced.stderr
        assert snapshot_of(restored_db) == original
    finally:
        client.flushdb()
        client.close()


def test_bad_arguments_get_a_clear_answer(tmp_path: Path) -> None:
    cases = {
        ("store", "copy", "mysql://db", "sqlite:///x.db"): "the source must be sqlite:///",
        ("store", "copy", "sqlite:///a.db", "sqlite:///a.db"): "the same store",
        ("store", "copy", f"sqlite:///{tmp_path}/none.db", "sqlite:///b.db"): "no SQLite store",
        ("store", "move", "a", "b"): "invalid choice",
        ("restore", str(tmp_path / "missing.jsonl")): "cannot read",
        ("migrate", "--status", "--dry-run"): "not allowed with",
    }
    for args, says in cases.items():
        result = run_cli(tmp_path, *args)
        assert result.returncode in (1, 2), args
        assert says in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
