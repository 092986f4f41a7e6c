"""The SQLite store's own thread: the one thread that uses the connection.

Every store operation runs there as a single call: all its statements, transaction included,
without returning to the event loop in between. Operations therefore never interleave, and
each costs one hop to that thread, not one per statement.

Writes are committed in groups: the writes that queued up while the thread was busy (up to
WRITE_GROUP of them, in the order they were submitted) run in one transaction, each in its
own savepoint, through the store's `GroupWriter`. Under load many writes share one COMMIT;
a lone write waits for nobody. Every caller hears back only after the COMMIT that holds its
write, so a write that answered is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# At most this many queued writes share one transaction: a long backlog is committed in
# steps, so the first writes of it are not held back by the last.
WRITE_GROUP = 256
Outcome = tuple[Any, BaseException | None]
# runs writes (each a call taking no arguments) in one transaction; one outcome per write
GroupWriter = Callable[[list[Callable[[], Any]]], list[Outcome]]


class StoreThread:
    """The one thread that uses the connection: runs calls in the order they were submitted.

    Lighter than a ThreadPoolExecutor for this job: calls submitted while the thread is busy
    are run as one batch, and their results go back to the event loop with one wake-up for
    the batch rather than one per call."""

    def __init__(self, name: str) -> None:
        # lists of calls; None asks the thread to stop once the calls queued before it have run
        self._calls: queue.SimpleQueue[list[_Call] | None] = queue.SimpleQueue()
        # set by the store once its connection is open, before its first write
        self.group_writer: GroupWriter | None = None
        self._gathering: list[_Call] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], T], *, write: bool = False) -> asyncio.Future[T]:
        """Queue `call`; the future is settled on the event loop that is running now. A
        `write` is run by the group writer with the writes queued next to it.

        Calls submitted in one turn of the event loop are handed to the thread together, at
        the end of the turn: waking a thread costs more than most of the calls it runs."""
        if self._stopped:
            raise RuntimeError("the store thread has stopped")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._gathering.append((call, done, write))
        if len(self._gathering) == 1:
            loop.call_soon(self._hand_over)
        return done

    def _hand_over(self) -> None:
        calls, self._gathering = self._gathering, []
        self._calls.put(calls)

    def stop(self) -> None:
        """Run what was submitted, then end."""
        if not self._stopped:
            self._stopped = True
            if self._gathering:
                self._hand_over()
            self._calls.put(None)

    def _run(self) -> None:
        calls = self._calls
        while True:
            handed = [calls.get()]
            while not calls.empty():
                handed.append(calls.get_nowait())
            settled: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            stopping = None in handed
            writes: list[_Call] = []
            for item in (item for batch in handed if batch is not None for item in batch):
                if item[2]:
                    writes.append(item)
                    if len(writes) >= WRITE_GROUP:
                        self._write_group(writes, settled)
                        writes = []
                    continue
                if writes:  # a read or a call of its own keeps its place after the writes
                    self._write_group(writes, settled)
                    writes = []
                call, done, _ = item
                try:
                    outcome: _Outcome = (done, call(), None)
                except BaseException as exc:  # handed to the caller, whatever it is
                    outcome = (done, None, exc)
                settled.setdefault(done.get_loop(), []).append(outcome)
            if writes:
                self._write_group(writes, settled)
            for loop, outcomes in settled.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                    loop.call_soon_threadsafe(_settle, outcomes)
            if stopping:
                return

    def _write_group(
        self, writes: list[_Call], settled: dict[asyncio.AbstractEventLoop, list[_Outcome]]
    ) -> None:
        try:
            if self.group_writer is None:
                raise RuntimeError("the store thread has no group writer for its writes")
            outcomes = self.group_writer([call for call, _, _ in writes])
        except BaseException as exc:  # the group writer's own failure: every write failed
            outcomes = [(None, exc)] * len(writes)
        for (_, done, _), (result, error) in zip(writes, outcomes, strict=True):
            settled.setdefault(done.get_loop(), []).append((done, result, error))


_Call = tuple[Callable[[], Any], "asyncio.Future[Any]", bool]
_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


def _settle(outcomes: list[_Outcome]) -> None:
    for done, result, error in outcomes:
        if done.done():
            continue  # the caller stopped waiting (cancelled)
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)
