"""SQLiteStore beyond the shared contract: opening, the file on disk, durability."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from bot.errors import StoreError, StoreUnavailable
from bot.store.records import Job, Org
from bot.store.sqlite import SCHEMA_VERSION, SQLiteStore


async def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    assert path.is_file()


async def test_parent_that_is_a_file_fails_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a folder")
    path = tmp_path / "taken" / "slotbot.db"
    with pytest.raises(StoreError, match=str(path)):
        await SQLiteStore(str(path)).open()


async def test_a_folder_in_place_of_the_file_fails_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=str(tmp_path)):
        await SQLiteStore(str(tmp_path)).open()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_unwritable_folder_fails_naming_the_path(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    path = locked / "sub" / "slotbot.db"
    with pytest.raises(StoreError, match=str(path)):
        await SQLiteStore(str(path)).open()


async def test_file_that_is_not_a_database_fails_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not SQLite " * 100)
    with pytest.raises(StoreError, match=str(path)):
        await SQLiteStore(str(path)).open()


async def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="schema version"):
        await SQLiteStore(str(path)).open()


async def test_data_and_claims_survive_a_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "slotbot.db")
    store = SQLiteStore(path)
    await store.open()
    await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k"))
    await store.enqueue([Job(job_id="j1", org_id="slack:T1", kind="alert")])
    [job] = await store.claim_jobs("w1", limit=1, visibility_timeout=60, now=100.0)
    await store.close()

    reopened = SQLiteStore(path)
    await reopened.open()
    try:
        assert (await reopened.get_org_by_key("k")) is not None
        # still held by w1 until the visibility timeout has passed
        assert await reopened.claim_jobs("w2", limit=1, visibility_timeout=60, now=159.0) == []
        [again] = await reopened.claim_jobs("w2", limit=1, visibility_timeout=60, now=160.0)
        assert (again.job_id, again.attempts) == (job.job_id, 2)
    finally:
        await reopened.close()


async def test_store_never_opened_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable):
        await SQLiteStore(str(tmp_path / "x.db")).ping()


async def test_expired_dedupe_keys_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.store.sqlite.DEDUPE_SWEEP_EVERY", 3)
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        assert await store.claim_once("old-1", -1.0)  # already expired when written
        assert await store.claim_once("old-2", -1.0)
        assert await store.claim_once("fresh", 3600.0)  # the third claim sweeps
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT key FROM dedupe").fetchall() == [("fresh",)]
