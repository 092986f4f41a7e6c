"""The SQLite store's WAL is checkpointed by a thread of its own, not inside its commits."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

import pytest

from bot.store.records import Org
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.checkpoint import BACKSTOP_PAGES, WAL_SIZE_LIMIT, WalCheckpointer

WAIT = 10.0  # an upper bound for waiting on the checkpointer's thread, never a timing check


def _in_database_file(path: Path, org_id: str) -> bool:
    """Whether the org is in the database file itself, the WAL left out of the reading."""
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return db.execute("SELECT 1 FROM orgs WHERE org_id = ?", (org_id,)).fetchone() is not None
    finally:
        db.close()


async def _until(done: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {WAIT}s")
        await asyncio.sleep(0.02)


async def test_a_commit_reaches_the_database_file_without_a_thousand_pages(
    tmp_path: Path,
) -> None:
    # one small write is far below SQLite's own automatic checkpoint: only the
    # checkpointer's thread copies it from the WAL into the file
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        checkpointer = store._checkpointer
        assert checkpointer is not None and checkpointer.running
        before = checkpointer.checkpoints
        await store.put_org(Org(org_id="slack:T1", platform="slack"))
        assert path.with_name("slotbot.db-wal").stat().st_size > 0
        await _until(lambda: checkpointer.checkpoints > before, "no checkpoint")
        assert _in_database_file(path, "slack:T1")
    finally:
        await store.close()


async def test_the_store_connection_keeps_a_backstop(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "slotbot.db"))
    await store.open()
    try:
        pages = await store._call(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone())
        limit = await store._call(lambda db: db.execute("PRAGMA journal_size_limit").fetchone())
    finally:
        await store.close()
    assert pages == (BACKSTOP_PAGES,) and limit == (WAL_SIZE_LIMIT,)


async def test_close_stops_the_thread_and_removes_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    store = SQLiteStore(str(path))
    await store.open()
    checkpointer = store._checkpointer
    await store.put_org(Org(org_id="slack:T1", platform="slack"))
    await store.close()
    assert checkpointer is not None and not checkpointer.running
    assert not path.with_name("slotbot.db-wal").exists()
    assert _in_database_file(path, "slack:T1")


async def test_nothing_written_nothing_checkpointed(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    sqlite3.connect(path).close()
    checkpointer = WalCheckpointer(str(path), every=0.01)
    checkpointer.start()
    try:
        await asyncio.sleep(0.2)  # twenty turns of its loop
        assert checkpointer.checkpoints == 0
        checkpointer.wrote()
        await _until(lambda: checkpointer.checkpoints == 1, "no checkpoint after a write")
    finally:
        await asyncio.to_thread(checkpointer.stop)


async def test_a_file_it_cannot_open_leaves_checkpoints_to_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.store.sqlite.checkpoint")
    checkpointer = WalCheckpointer(str(tmp_path / "missing" / "slotbot.db"), every=0.01)
    checkpointer.start()
    await _until(lambda: not checkpointer.running, "the thread did not end")
    checkpointer.stop()  # stopping an ended checkpointer is harmless
    assert "WAL checkpoints stay in the store's commits" in caplog.text
