"""`backup` and `restore`: a SQLite backup taken while the store is written to, portable dumps
of both stores, restores into either store, and every file that must be refused (damaged,
cut short, foreign, newer) leaving the target as it was."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.errors import TransferError
from bot.secrets import SecretBox
from bot.store.backup import backup_sqlite, inspect_backup, restore, write_dump
from bot.store.migrations import SCHEMA_VERSION
from bot.store.records import Org
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore
from tests.bot.store.migration_steps import sqlite_plus
from tests.bot.store.populate import ORGS, populate, snapshot

BOX = SecretBox([Fernet.generate_key().decode()])


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(str(tmp_path / "source.db"))
    await store.open()
    await populate(store, BOX)
    yield store
    await store.close()


@pytest.fixture
async def empty(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(str(tmp_path / "empty.db"))
    await store.open()
    yield store
    await store.close()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_sqlite_backup_is_a_private_copy_that_restores_equal(
    source: SQLiteStore, empty: SQLiteStore, tmp_path: Path
) -> None:
    dest = tmp_path / "backup.db"
    info = await asyncio.to_thread(backup_sqlite, Path(source._path), dest)
    assert mode(dest) == 0o600
    assert info.kind == "sqlite" and info.schema_version == SCHEMA_VERSION
    assert info.counts == await source.count_records()
    assert not dest.with_name("backup.db-wal").exists(), "one self-contained file"
    report = await restore(dest, empty)
    assert report.problems == []
    assert await snapshot(empty) == await snapshot(source)


async def test_sqlite_backup_while_the_store_is_written_to(
    source: SQLiteStore, tmp_path: Path
) -> None:
    """Safe while serving: writes go on during the backup, and the file is a consistent
    store holding at least what was there when it started."""
    before = (await source.count_records())["org"]
    stop = asyncio.Event()

    async def keep_writing() -> int:
        n = 0
        while not stop.is_set():
            await source.put_org(Org(org_id=f"slack:TW{n}", platform="slack"))
            n += 1
            await asyncio.sleep(0)
        return n

    writer = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.05)
    backups = [
        await asyncio.to_thread(backup_sqlite, Path(source._path), tmp_path / f"b{i}.db")
        for i in range(3)
    ]
    stop.set()
    written = await writer
    assert written > 0
    for info in backups:
        checked = inspect_backup(info.path)  # quick_check, tables, version
        assert before <= checked.counts["org"] <= before + written


@pytest.mark.redis
async def test_redis_dump_restores_into_sqlite_and_redis_equal(
    redis_url: str, redis_prefix: str, empty: SQLiteStore, tmp_path: Path
) -> None:
    redis_source = RedisStore(redis_url, prefix=redis_prefix)
    await redis_source.open()
    await populate(redis_source, BOX)
    dump = tmp_path / "redis.jsonl"
    info = await write_dump(redis_source, dump)
    assert mode(dump) == 0o600
    assert info.counts == await redis_source.count_records()
    assert inspect_backup(dump).counts == info.counts

    report = await restore(dump, empty)
    assert report.problems == []
    original = await snapshot(redis_source)
    assert await snapshot(empty) == original

    other = RedisStore(redis_url, prefix=redis_prefix + "other:")
    await other.open()
    try:
        assert (await restore(dump, other)).problems == []
        assert await snapshot(other) == original
        await other.clear()
    finally:
        await other.close()
        await redis_source.close()


@pytest.mark.redis
async def test_sqlite_backup_restores_into_redis(
    source: SQLiteStore, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    dest = tmp_path / "backup.db"
    await asyncio.to_thread(backup_sqlite, Path(source._path), dest)
    target = RedisStore(redis_url, prefix=redis_prefix)
    await target.open()
    try:
        assert (await restore(dest, target)).problems == []
        assert await snapshot(target) == await snapshot(source)
    finally:
        await target.close()


async def test_a_store_that_holds_records_is_refused_unless_forced(
    source: SQLiteStore, empty: SQLiteStore, tmp_path: Path
) -> None:
    dump = tmp_path / "dump.jsonl"
    await write_dump(source, dump)
    await empty.put_org(Org(org_id="slack:TKEEP", platform="slack"))
    with pytest.raises(TransferError, match="not empty"):
        await restore(dump, empty)
    assert await empty.get_org("slack:TKEEP") is not None
    assert (await restore(dump, empty, force=True)).problems == []
    assert await empty.get_org("slack:TKEEP") is None
    assert await empty.get_org(ORGS[0]) is not None


async def test_an_older_backup_is_restored_then_migrated(
    source: SQLiteStore, tmp_path: Path
) -> None:
    """A dump written at today's version, restored by a Slotbot one version newer."""
    dump = tmp_path / "dump.jsonl"
    await write_dump(source, dump)
    newer = SQLiteStore(str(tmp_path / "newer.db"), steps=sqlite_plus("adds"))
    await newer.open()
    try:
        # (the new store already holds the test step's org: it is replaced)
        report = await restore(dump, newer, steps=sqlite_plus("adds"), force=True)
        assert report.problems == []
        # the test step's own change arrived through the staging store's migration
        assert await newer.get_org("slack:TNEW") is not None
        assert await newer.get_org_by_key("pushkey-copy-0") is not None
    finally:
        await newer.close()


# files that are refused -------------------------------------------------------------------


@pytest.fixture
async def dump(source: SQLiteStore, tmp_path: Path) -> Path:
    path = tmp_path / "dump.jsonl"
    await write_dump(source, path)
    return path


def rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def damaged(dump: Path) -> None:
    lines = dump.read_text(encoding="utf-8").splitlines(keepends=True)
    assert '"active":true' in lines[1]
    lines[1] = lines[1].replace('"active":true', '"active":false')  # still a valid record
    rewrite(dump, lines)


def cut_short(dump: Path) -> None:
    lines = dump.read_text(encoding="utf-8").splitlines(keepends=True)
    rewrite(dump, lines[: len(lines) // 2])


def newer_dump(dump: Path) -> None:
    lines = dump.read_text(encoding="utf-8").splitlines(keepends=True)
    header = json.loads(lines[0])
    header["schema_version"] = SCHEMA_VERSION + 1
    lines[0] = json.dumps(header, sort_keys=True) + "\n"
    rewrite(dump, lines)


def unknown_kind(dump: Path) -> None:
    lines = dump.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = json.dumps({"kind": "spaceship", "record": {}}) + "\n"
    rewrite(dump, lines)


def foreign_json(dump: Path) -> None:
    dump.write_text('{"hello": "world"}\n', encoding="utf-8")


def foreign_sqlite(dump: Path) -> None:
    dump.unlink()
    with sqlite3.connect(dump) as db:
        db.execute("CREATE TABLE notes (x TEXT)")


def newer_sqlite(dump: Path) -> None:
    dump.unlink()
    with sqlite3.connect(dump) as db:
        for table in ("orgs", "members", "outbox"):
            db.execute(f"CREATE TABLE {table} (x TEXT)")
        db.execute("CREATE TABLE schema_version (version INTEGER)")
        db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))


def garbage(dump: Path) -> None:
    dump.write_bytes(b"\x00\x01 not a backup at all")


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (damaged, "does not match its checksum"),
        (cut_short, "cut short"),
        (newer_dump, "newer Slotbot"),
        (unknown_kind, "not a Slotbot record"),
        (foreign_json, "not a Slotbot backup"),
        (foreign_sqlite, "not a Slotbot store"),
        (newer_sqlite, "newer Slotbot"),
        (garbage, "not a Slotbot backup"),
    ],
)
async def test_a_bad_file_is_refused_and_nothing_is_overwritten(
    dump: Path, empty: SQLiteStore, spoil: object, says: str
) -> None:
    assert callable(spoil)
    spoil(dump)
    await empty.put_org(Org(org_id="slack:TKEEP", platform="slack"))
    with pytest.raises(TransferError, match=says):
        await restore(dump, empty, force=True)
    counts = await empty.count_records()
    assert counts["org"] == 1 and sum(counts.values()) == 1
    assert await empty.get_org("slack:TKEEP") is not None


async def test_backup_never_overwrites_a_file(source: SQLiteStore, tmp_path: Path) -> None:
    taken = tmp_path / "taken.db"
    taken.write_text("an earlier backup")
    with pytest.raises(TransferError, match="already exists"):
        await asyncio.to_thread(backup_sqlite, Path(source._path), taken)
    with pytest.raises(TransferError, match="already exists"):
        await write_dump(source, taken)
    assert taken.read_text() == "an earlier backup"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".taken")] == []
