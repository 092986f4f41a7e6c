"""The SQLite store's thread: calls run in the order submitted, writes committed in groups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.store.sqlite import SQLiteStore
from bot.store.sqlite.thread import WRITE_GROUP, Outcome, StoreThread


class _Recording:
    """A group writer that runs each write and remembers the size of every group."""

    def __init__(self, fail: bool = False) -> None:
        self.groups: list[int] = []
        self.fail = fail

    def __call__(self, works: list[Callable[[], Any]]) -> list[Outcome]:
        self.groups.append(len(works))
        if self.fail:
            raise OSError("disk full")
        return [(work(), None) for work in works]


async def _stopped(thread: StoreThread) -> None:
    thread.stop()
    await asyncio.to_thread(thread._thread.join, 5)


async def test_writes_submitted_together_run_as_one_group_in_order() -> None:
    thread = StoreThread("test-store")
    writer = _Recording()
    thread.group_writer = writer
    ran: list[int] = []
    try:
        futures = [thread.submit(lambda n=n: ran.append(n) or n, write=True) for n in range(10)]
        assert await asyncio.gather(*futures) == list(range(10))
        assert writer.groups == [10]
        assert ran == list(range(10))
    finally:
        await _stopped(thread)


async def test_a_call_between_writes_keeps_its_place() -> None:
    thread = StoreThread("test-store")
    writer = _Recording()
    thread.group_writer = writer
    seen: list[str] = []
    try:
        first = thread.submit(lambda: seen.append("w1"), write=True)
        read = thread.submit(lambda: list(seen))
        second = thread.submit(lambda: seen.append("w2"), write=True)
        await asyncio.gather(first, second)
        assert await read == ["w1"]  # after the write before it, before the one after it
        assert writer.groups == [1, 1]
    finally:
        await _stopped(thread)


async def test_a_long_backlog_is_committed_in_steps() -> None:
    thread = StoreThread("test-store")
    writer = _Recording()
    thread.group_writer = writer
    try:
        count = WRITE_GROUP * 2 + 5
        futures = [thread.submit(lambda n=n: n, write=True) for n in range(count)]
        assert await asyncio.gather(*futures) == list(range(count))
        assert writer.groups == [WRITE_GROUP, WRITE_GROUP, 5]
    finally:
        await _stopped(thread)


async def test_a_failed_group_fails_each_of_its_writes_and_nothing_else() -> None:
    thread = StoreThread("test-store")
    thread.group_writer = _Recording(fail=True)
    try:
        writes = [thread.submit(lambda: 1, write=True) for _ in range(3)]
        read = thread.submit(lambda: "read")
        results = await asyncio.gather(*writes, return_exceptions=True)
        assert all(isinstance(r, OSError) for r in results)
        assert await read == "read"
    finally:
        await _stopped(thread)


async def test_a_write_without_a_group_writer_fails_and_says_why() -> None:
    thread = StoreThread("test-store")
    try:
        with pytest.raises(RuntimeError, match="no group writer"):
            await thread.submit(lambda: 1, write=True)
    finally:
        await _stopped(thread)


async def test_writes_of_every_kind_share_a_commit(tmp_path: Path) -> None:
    """An outbox ack, a dedupe claim and a kv write issued together: one transaction."""
    store = SQLiteStore(str(tmp_path / "slotbot.db"))
    await store.open()
    try:
        assert store._thread is not None
        recorded: list[int] = []
        real = store._thread.group_writer
        assert real is not None

        def counting(works: list[Callable[[], Any]]) -> list[Outcome]:
            recorded.append(len(works))
            return real(works)

        store._thread.group_writer = counting
        results = await asyncio.gather(
            store.claim_once("a", 60),
            store.claim_once("a", 60),  # the same key in the same group: taken once
            store.kv_put("ns", "k", {"v": 1}),
            store.ack_job("no-such-job"),
            store.claim_once("b", 60),
        )
        assert results == [True, False, None, None, True]
        assert recorded == [5]
        assert await store.kv_get("ns", "k") == {"v": 1}
    finally:
        await store.close()
