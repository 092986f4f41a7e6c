"""Checkpoints of the SQLite store's write-ahead log, on a thread of their own.

Left to itself, SQLite copies the WAL back into the database file (a checkpoint) inside the
COMMIT that takes the WAL past 1,000 pages: on the store's one thread, which then also waits
for the two fsyncs a checkpoint makes (synchronous=NORMAL), while every store call queued
behind it waits too. A callback's write changes ~20 pages, so that was one callback in ~50,
and it showed in the tail: with no checkpoint on the store's thread, alert p99 at 50
callbacks/s went from 19 to 9 ms and the callback's own answer from 14 to 5 ms.

Here a thread with a connection of its own runs a PASSIVE checkpoint (it never waits for a
lock and never holds up a writer: SQLite lets one checkpoint run beside writes) whenever the
store has committed since the last one, at most every `every` seconds. The store's own
connection keeps an automatic checkpoint at `BACKSTOP_PAGES` in case this thread falls behind
(a long read keeping old pages in use, a stalled disk), so the WAL never grows without bound;
past `WAL_SIZE_LIMIT` it is cut back once checkpointed. Nothing here decides what is durable:
a commit is in the WAL before it answers, checkpointed or not.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from bot import logs

CHECKPOINT_EVERY = 0.2  # seconds
# the store connection's own automatic checkpoint, ~40 MB of 4 KiB pages: only if this
# thread is behind
BACKSTOP_PAGES = 10_000
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes (journal_size_limit)

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints `path`'s WAL from a thread of its own while the store is open.

    The store's thread calls `wrote()` after each commit; `stop()` ends the thread and closes
    its connection (before the store closes its own, so that the store's close, the last,
    removes the WAL)."""

    def __init__(self, path: str, *, every: float = CHECKPOINT_EVERY) -> None:
        self._path = path
        self._every = every
        self._written = 0  # commits seen (bumped by the store's thread)
        self._checkpointed = 0  # the value of `_written` at the last checkpoint
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slotbot-sqlite-wal", daemon=True)
        self.checkpoints = 0  # how many have run (tests; a status detail)

    def start(self) -> None:
        self._thread.start()

    def wrote(self) -> None:
        # one writer thread: a plain counter, read by this thread between checkpoints
        self._written += 1

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            # the checkpoint syncs the WAL before copying it and the file after, as the store
            # connection's own would (bot.store.sqlite.connection.SYNCHRONOUS)
            db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            log.warning(logs.SQLITE_CHECKPOINTS_OFF, self._path, exc)
            return  # the store connection's backstop checkpoints instead
        try:
            while not self._stopping.wait(self._every):
                self._checkpoint(db)
        finally:
            db.close()

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        written = self._written
        if written == self._checkpointed:
            return
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            # another process's checkpoint holds the lock, or the disk failed: the next
            # turn tries again, and the backstop is there
            log.debug(logs.SQLITE_CHECKPOINT_SKIPPED, self._path, exc)
            return
        self._checkpointed = written
        self.checkpoints += 1
