"""The SQLite store's own thread: the one thread that uses the connection.

Every store operation runs there as a single call: all its statements, transaction included,
without returning to the event loop in between. Operations therefore never interleave, and
each costs one hop to that thread, not one per statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class StoreThread:
    """The one thread that uses the connection: runs calls in the order they were submitted.

    Lighter than a ThreadPoolExecutor for this job: calls submitted while the thread is busy
    are run as one batch, and their results go back to the event loop with one wake-up for
    the batch rather than one per call."""

    def __init__(self, name: str) -> None:
        # lists of calls; None asks the thread to stop once the calls queued before it have run
        self._calls: queue.SimpleQueue[list[_Call] | None] = queue.SimpleQueue()
        self._gathering: list[_Call] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """Queue `call`; the future is settled on the event loop that is running now.

        Calls submitted in one turn of the event loop are handed to the thread together, at
        the end of the turn: waking a thread costs more than most of the calls it runs."""
        if self._stopped:
            raise RuntimeError("the store thread has stopped")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._gathering.append((call, done))
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
            for call, done in (item for batch in handed if batch is not None for item in batch):
                try:
                    outcome: _Outcome = (done, call(), None)
                except BaseException as exc:  # handed to the caller, whatever it is
                    outcome = (done, None, exc)
                settled.setdefault(done.get_loop(), []).append(outcome)
            for loop, outcomes in settled.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                    loop.call_soon_threadsafe(_settle, outcomes)
            if stopping:
                return


_Call = tuple[Callable[[], Any], "asyncio.Future[Any]"]
_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


def _settle(outcomes: list[_Outcome]) -> None:
    for done, result, error in outcomes:
        if done.done():
            continue  # the caller stopped waiting (cancelled)
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)
