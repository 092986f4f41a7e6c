"""SQLiteStore beyond the shared contract: opening, the file on disk, durability."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from bot.errors import StoreError, StoreUnavailable
from bot.store.migrations import SCHEMA_VERSION
from bot.store.records import Booking, Candidate, EventWrite, Job, Org, TimelineEntry
from bot.store.sqlite import SQLiteStore


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


async def test_savepoint_journals_stay_in_memory(tmp_path: Path) -> None:
    # a commit group's savepoints spill their journals to temporary files otherwise: a file
    # created and written for every group of callbacks under load
    store = SQLiteStore(str(tmp_path / "slotbot.db"))
    await store.open()
    try:
        row = await store._call(lambda db: db.execute("PRAGMA temp_store").fetchone())
        assert row == (2,)  # MEMORY
    finally:
        await store.close()


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
    monkeypatch.setattr("bot.store.sqlite.outbox.DEDUPE_SWEEP_EVERY", 3)
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


def _event(key: str, n: int) -> EventWrite:
    org = "slack:T1"
    return EventWrite(
        dedupe_key=key,
        dedupe_ttl=3600.0,
        org_id=org,
        candidate=Candidate(org_id=org, candidate_id=f"c{n}", email=f"c{n}@example.com"),
        timeline=TimelineEntry(kind="booked", at=1.0, booking_id=f"b{n}"),
        booking=Booking(org_id=org, booking_id=f"b{n}"),
        jobs=[Job(job_id=f"j{n}", org_id=org, kind="alert")],
    )


async def test_concurrent_event_writes_are_all_stored(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "slotbot.db"))
    await store.open()
    try:
        results = await asyncio.gather(*(store.commit_event(_event(f"k{n}", n)) for n in range(40)))
        assert results == [True] * 40
        assert await store.outbox_depth() == 40
        assert await store.find_candidate_by_email("slack:T1", "C39@example.com") is not None
    finally:
        await store.close()


async def test_a_failing_write_is_rolled_back_alone_and_can_be_retried(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON outbox WHEN NEW.job_id = 'j1' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    await store.open()
    try:
        # committed side by side, so they share a transaction
        results = await asyncio.gather(
            *(store.commit_event(_event(f"k{n}", n)) for n in range(3)), return_exceptions=True
        )
        assert results[0] is True and results[2] is True
        assert isinstance(results[1], StoreError)
        # nothing of the refused write is left: not its candidate, nor its dedupe claim
        assert await store.get_candidate("slack:T1", "c1") is None
        assert await store.get_booking("slack:T1", "b1") is None
        assert [j.job_id for j in await store.claim_jobs("w", limit=9, visibility_timeout=60)] == [
            "j0",
            "j2",
        ]
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER refuse")
    await store.open()
    try:
        assert await store.commit_event(_event("k1", 1)) is True
        assert await store.get_candidate("slack:T1", "c1") is not None
    finally:
        await store.close()


async def test_queued_writes_are_committed_before_the_store_closes(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    writes = [asyncio.create_task(store.commit_event(_event(f"k{n}", n))) for n in range(10)]
    await asyncio.sleep(0)  # queued, not committed yet
    await store.close()
    assert [await w for w in writes] == [True] * 10
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 10


def test_a_store_answers_whichever_event_loop_calls_it(tmp_path: Path) -> None:
    # each asyncio.run has an event loop of its own; the store must not cling to the first
    store = SQLiteStore(str(tmp_path / "slotbot.db"))
    asyncio.run(store.open())
    try:
        asyncio.run(store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k")))
        found = asyncio.run(store.get_org_by_key("k"))
        assert found is not None and found.org_id == "slack:T1"
    finally:
        asyncio.run(store.close())


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_database_and_its_wal_are_the_owners_alone(tmp_path: Path) -> None:
    path = tmp_path / "data" / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        await store.put_org(Org(org_id="slack:T1", platform="slack"))
        wal = path.with_name("slotbot.db-wal")
        shm = path.with_name("slotbot.db-shm")
        assert wal.exists() and shm.exists()
        assert (_mode(path), _mode(wal), _mode(shm)) == (0o600, 0o600, 0o600)
        assert _mode(path.parent) == 0o700
    finally:
        await store.close()


async def test_files_an_earlier_version_left_readable_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.put_org(Org(org_id="slack:T1", platform="slack"))
    await store.close()
    for each in (path, path.with_name("slotbot.db-wal")):
        if each.exists():
            each.chmod(0o644)
    reopened = SQLiteStore(str(path))
    await reopened.open()
    try:
        assert _mode(path) == 0o600
        assert _mode(path.with_name("slotbot.db-wal")) == 0o600
    finally:
        await reopened.close()
