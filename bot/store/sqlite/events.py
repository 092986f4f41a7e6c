"""The SQLite store's accepted callbacks, committed in groups.

`commit_event` queues its write, and one call on the store's thread commits every write
queued meanwhile in one transaction (each in its own savepoint, so a write that fails alone
rolls back alone). A caller hears back only after the COMMIT that holds its write, so
"accepted" still means "stored"."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from functools import partial

from bot.errors import StaleBooking
from bot.store.records import EventWrite
from bot.store.sqlite import rows as stmt
from bot.store.sqlite.connection import translating
from bot.store.sqlite.outbox import OutboxMixin

# At most this many queued event writes share one transaction.
COMMIT_BATCH = 256


class EventsMixin(OutboxMixin):
    """An accepted event: its dedupe claim and every record it changes, at once."""

    # accepted events, committed in groups ---------------------------------
    @translating
    async def commit_event(self, write: EventWrite) -> bool:
        if write.timeline is not None and write.candidate is None:
            raise ValueError("an EventWrite with a timeline entry needs its candidate")
        rows = stmt.event_rows(write)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((rows, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        return await done

    async def _commit_pending(self) -> None:
        """Commit what is queued, one transaction per group, until the queue is empty.

        Writes that arrive while a group is being committed form the next group: under load
        many callbacks share one COMMIT, and a lone callback waits for nobody."""
        while self._pending:
            group = self._pending[:COMMIT_BATCH]
            del self._pending[: len(group)]
            try:
                outcomes = await self._call(partial(self._commit_group, [r for r, _ in group]))
            except asyncio.CancelledError:
                for _, done in group:
                    done.cancel()
                for _, done in self._pending:
                    done.cancel()
                self._pending.clear()
                raise
            except Exception as exc:  # COMMIT itself failed (or the store closed): nothing stored
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), outcome in zip(group, outcomes, strict=True):
                if done.done():
                    continue  # its caller gave up waiting; the write stands, deduped
                if isinstance(outcome, BaseException):
                    done.set_exception(outcome)
                else:
                    done.set_result(outcome)

    def _commit_group(
        self, group: Sequence[stmt.EventRows], db: sqlite3.Connection
    ) -> list[bool | Exception]:
        """On the store's thread: every write of the group in one transaction, each in a
        savepoint so that one failing write is rolled back alone."""
        outcomes: list[bool | Exception] = []

        def work(db: sqlite3.Connection) -> None:
            now = time.time()
            for rows in group:
                db.execute("SAVEPOINT event")
                try:
                    outcomes.append(self._write_event(db, rows, now))
                except Exception as exc:  # this write's own failure: the others go on
                    db.execute("ROLLBACK TO event")
                    outcomes.append(exc)
                db.execute("RELEASE event")

        stmt.transaction(db, work)
        return outcomes

    def _write_event(self, db: sqlite3.Connection, rows: stmt.EventRows, now: float) -> bool:
        # a key claimed earlier in the same group counts as claimed: dedupe holds within it
        if not self._claim_key(db, rows.dedupe_key, rows.dedupe_ttl, now):
            return False
        if rows.booking is not None and rows.booking_version is not None:
            # compare-and-set: raising rolls this write back to its savepoint, claim included
            found = db.execute(
                "SELECT json_extract(doc, '$.version') FROM bookings "
                "WHERE org_id = ? AND booking_id = ?",
                rows.booking[:2],
            ).fetchone()
            stored = 0 if found is None or found[0] is None else int(found[0])
            if stored != rows.booking_version:
                raise StaleBooking(
                    f"booking {rows.booking[1]} is at version {stored}, not {rows.booking_version}"
                )
        if rows.candidate is not None:
            db.execute(stmt.INSERT_CANDIDATE, rows.candidate)
        if rows.timeline is not None:
            db.execute(stmt.INSERT_TIMELINE, rows.timeline)
        if rows.booking is not None:
            db.execute(stmt.INSERT_BOOKING, rows.booking)
        if rows.cancel_timers:
            stmt.cancel_timers(db, rows.cancel_timers)
        if rows.jobs:
            stmt.insert_jobs(db, rows.jobs)
        if rows.audit is not None:
            db.execute(stmt.INSERT_AUDIT, rows.audit)
        return True
