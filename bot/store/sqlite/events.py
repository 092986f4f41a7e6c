"""The SQLite store's accepted callbacks: the claim and every record a callback changes, in
one write. Writes queued together share a COMMIT (the store thread's group commit, see
`thread`), so under load many callbacks are stored by one transaction, and a caller hears
back only after the COMMIT that holds its write: "accepted" still means "stored"."""

from __future__ import annotations

import sqlite3
import time

from bot.errors import StaleBooking
from bot.store.records import EventWrite
from bot.store.sqlite import rows as stmt
from bot.store.sqlite.connection import translating
from bot.store.sqlite.outbox import OutboxMixin


class EventsMixin(OutboxMixin):
    """An accepted event: its dedupe claim and every record it changes, at once."""

    @translating
    async def commit_event(self, write: EventWrite) -> bool:
        if write.timeline is not None and write.candidate is None:
            raise ValueError("an EventWrite with a timeline entry needs its candidate")
        rows = stmt.event_rows(write)
        return await self._write(lambda db: self._write_event(db, rows, time.time()))

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
