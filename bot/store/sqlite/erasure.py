"""The SQLite store's erasures: one candidate and everything that hangs off them, or what is
older than a retention cutoff, each in one transaction.

The connection runs with `secure_delete` (`connection`), so erased rows are overwritten in
the file rather than left in free pages, and the WAL is checkpointed and truncated right
after, so the old pages do not linger there either."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import partial

from bot.store.erasure import ErasureCounts, Traces, booking_is_older
from bot.store.records import Booking, Candidate, Job, TimelineEntry, from_json
from bot.store.sqlite import rows as stmt
from bot.store.sqlite.connection import SQLiteBase, translating


def _checkpoint(db: sqlite3.Connection) -> None:
    # best effort: a reader holding an old snapshot keeps the WAL until it is done
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error:
        pass


def _drop_bookings(db: sqlite3.Connection, org_id: str, booking_ids: list[str]) -> tuple[int, int]:
    bookings = refs = 0
    for booking_id in booking_ids:
        refs += db.execute(
            "DELETE FROM message_refs WHERE org_id = ? AND booking_id = ?", (org_id, booking_id)
        ).rowcount
        bookings += db.execute(
            "DELETE FROM bookings WHERE org_id = ? AND booking_id = ?", (org_id, booking_id)
        ).rowcount
    return bookings, refs


class ErasureMixin(SQLiteBase):
    """erase_candidate, erase_older_than."""

    @translating
    async def erase_candidate(
        self, org_id: str, candidate_id: str, *, jobs: Sequence[Job] = ()
    ) -> ErasureCounts:
        rows = stmt.job_rows(list(jobs))
        counts = await self._write(partial(self._erase_candidate, org_id, candidate_id, rows))
        await self._call(_checkpoint)
        return counts

    def _erase_candidate(
        self, org_id: str, candidate_id: str, job_rows: list[stmt.JobRow], db: sqlite3.Connection
    ) -> ErasureCounts:
        row = db.execute(
            "SELECT doc FROM candidates WHERE org_id = ? AND candidate_id = ?",
            (org_id, candidate_id),
        ).fetchone()
        if row is None:
            return ErasureCounts()
        candidate = from_json(Candidate, row[0])
        bookings = [
            from_json(Booking, doc)
            for (doc,) in db.execute("SELECT doc FROM bookings WHERE org_id = ?", (org_id,))
        ]
        mine = [b for b in bookings if b.candidate_id == candidate_id]
        traces = Traces.of(candidate, mine)
        dropped_jobs = [
            job_id
            for job_id, timer_key, doc in db.execute(
                "SELECT job_id, timer_key, doc FROM outbox WHERE org_id = ?", (org_id,)
            ).fetchall()
            if traces.in_job(doc, timer_key or "")
        ]
        db.executemany("DELETE FROM outbox WHERE job_id = ?", [(j,) for j in dropped_jobs])
        links = db.execute(
            "DELETE FROM tracked_links WHERE json_extract(doc, '$.org_id') = ? "
            "AND json_extract(doc, '$.candidate_id') = ?",
            (org_id, candidate_id),
        ).rowcount
        timeline = db.execute(
            "DELETE FROM timeline WHERE org_id = ? AND candidate_id = ?", (org_id, candidate_id)
        ).rowcount
        n_bookings, refs = _drop_bookings(db, org_id, [b.booking_id for b in mine])
        db.execute(
            "DELETE FROM candidates WHERE org_id = ? AND candidate_id = ?", (org_id, candidate_id)
        )
        if job_rows:
            stmt.insert_jobs(db, job_rows)
        return ErasureCounts(
            candidates=1,
            timeline=timeline,
            bookings=n_bookings,
            message_refs=refs,
            links=links,
            jobs=len(dropped_jobs),
        )

    @translating
    async def erase_older_than(self, org_id: str, cutoff: float) -> ErasureCounts:
        counts = await self._write(partial(self._erase_older, org_id, cutoff))
        if counts.total:
            await self._call(_checkpoint)
        return counts

    def _erase_older(self, org_id: str, cutoff: float, db: sqlite3.Connection) -> ErasureCounts:
        old = [
            seq
            for seq, doc in db.execute("SELECT seq, doc FROM timeline WHERE org_id = ?", (org_id,))
            if from_json(TimelineEntry, doc).at < cutoff
        ]
        db.executemany("DELETE FROM timeline WHERE seq = ?", [(seq,) for seq in old])
        expired = [
            booking.booking_id
            for (doc,) in db.execute("SELECT doc FROM bookings WHERE org_id = ?", (org_id,))
            if booking_is_older(booking := from_json(Booking, doc), cutoff)
        ]
        n_bookings, refs = _drop_bookings(db, org_id, expired)
        # a candidate with nothing left on record, first seen before the cutoff, goes too:
        # their profile is all that would remain of them
        booked = {
            from_json(Booking, doc).candidate_id
            for (doc,) in db.execute("SELECT doc FROM bookings WHERE org_id = ?", (org_id,))
        }
        idle = [
            candidate.candidate_id
            for (doc,) in db.execute("SELECT doc FROM candidates WHERE org_id = ?", (org_id,))
            if (candidate := from_json(Candidate, doc)).created_at < cutoff
            and candidate.candidate_id not in booked
            and db.execute(
                "SELECT 1 FROM timeline WHERE org_id = ? AND candidate_id = ? LIMIT 1",
                (org_id, candidate.candidate_id),
            ).fetchone()
            is None
        ]
        links = 0
        for candidate_id in idle:
            links += db.execute(
                "DELETE FROM tracked_links WHERE json_extract(doc, '$.org_id') = ? "
                "AND json_extract(doc, '$.candidate_id') = ?",
                (org_id, candidate_id),
            ).rowcount
            db.execute(
                "DELETE FROM candidates WHERE org_id = ? AND candidate_id = ?",
                (org_id, candidate_id),
            )
        return ErasureCounts(
            candidates=len(idle),
            timeline=len(old),
            bookings=n_bookings,
            message_refs=refs,
            links=links,
        )
