"""The SQLite store's outbox (a table: queued jobs, their claims by workers, retries, dead
letters) and its claims (`claim_once`: the dedupe keys, with a time to live).

Claims are rows of the `dedupe` table; expired ones are taken over by the next claim of
their key, and swept once every DEDUPE_SWEEP_EVERY claims."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Sequence

from bot.store.lease import Lease, claim_key, generation
from bot.store.records import BookingMessage, Job, from_json, to_json
from bot.store.sqlite import rows as stmt
from bot.store.sqlite.connection import SQLiteBase, json_object, translating

# Expired dedupe keys are swept once every this many claims (each claim also drops its own
# expired key), so the table stays small without a background task.
DEDUPE_SWEEP_EVERY = 500


class OutboxMixin(SQLiteBase):
    """Jobs, dead letters, and claims."""

    # outbox ----------------------------------------------------------------
    @translating
    async def enqueue(self, jobs: list[Job]) -> None:
        rows = stmt.job_rows(jobs)
        if rows:
            await self._write(lambda db: stmt.insert_jobs(db, rows))

    @translating
    async def cancel_timers(self, keys: list[str]) -> int:
        if not keys:
            return 0
        return await self._write(lambda db: stmt.cancel_timers(db, keys))

    @translating
    async def get_timer(self, key: str) -> Job | None:
        row = await self._fetchone(
            "SELECT doc FROM outbox WHERE timer_key = ? AND dead = 0 ORDER BY seq DESC LIMIT 1",
            (key,),
        )
        return None if row is None else from_json(Job, row[0])

    @translating
    async def due_lag(self, now: float) -> float:
        # the oldest job that is due and that no live claim holds
        row = await self._fetchone(
            "SELECT MIN(not_before) FROM outbox WHERE dead = 0 AND not_before <= ? "
            "AND claimed_at IS NULL",
            (now,),
        )
        oldest = None if row is None else row[0]
        return 0.0 if oldest is None else max(0.0, now - float(oldest))

    @translating
    async def claim_jobs(
        self, consumer: str, *, limit: int, visibility_timeout: float, now: float | None = None
    ) -> list[Job]:
        if limit <= 0:
            return []
        at = time.time() if now is None else now

        def work(db: sqlite3.Connection) -> list[Job]:
            rows = db.execute(
                "SELECT job_id, doc FROM outbox WHERE dead = 0 AND not_before <= ? "
                "AND (claimed_at IS NULL OR claimed_at <= ?) ORDER BY not_before, seq LIMIT ?",
                (at, at - visibility_timeout, limit),
            ).fetchall()
            claimed: list[Job] = []
            for _job_id, doc in rows:
                job = from_json(Job, doc)
                job.attempts += 1
                claimed.append(job)
            db.executemany(
                "UPDATE outbox SET claimed_by = ?, claimed_at = ?, doc = ? WHERE job_id = ?",
                [(consumer, at, to_json(job), job.job_id) for job in claimed],
            )
            return claimed

        return await self._write(work)

    @translating
    async def extend_claims(self, consumer: str, job_ids: list[str], *, now: float) -> None:
        if not job_ids:
            return
        await self._write(
            lambda db: db.executemany(
                "UPDATE outbox SET claimed_at = ? WHERE job_id = ? AND claimed_by = ? AND dead = 0",
                [(now, job_id, consumer) for job_id in job_ids],
            )
        )

    @translating
    async def ack_job(
        self,
        job_id: str,
        *,
        kv_deletes: Sequence[tuple[str, str]] = (),
        kv_puts: Sequence[tuple[str, str, dict[str, object]]] = (),
        messages: Sequence[BookingMessage] = (),
    ) -> None:
        if not kv_deletes and not kv_puts and not messages:
            await self._execute("DELETE FROM outbox WHERE job_id = ? AND dead = 0", (job_id,))
            return
        deletes = list(kv_deletes)
        puts = [(namespace, key, stmt.kv_doc(value)) for namespace, key, value in kv_puts]
        refs = [(m.org_id, m.booking_id, m.target, to_json(m.ref)) for m in messages]

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM outbox WHERE job_id = ? AND dead = 0", (job_id,))
            if deletes:
                db.executemany("DELETE FROM kv WHERE namespace = ? AND key = ?", deletes)
            if puts:
                db.executemany(stmt.INSERT_KV, puts)
            if refs:
                db.executemany(stmt.INSERT_MESSAGE_REF, refs)

        await self._write(work)

    @translating
    async def retry_job(self, job: Job, *, at: float, error: str, max_attempts: int) -> bool:
        if job.attempts >= max_attempts:
            await self._dead_letter(job, error)
            return False
        retried = dataclasses.replace(job, not_before=at, last_error=error)
        await self._execute(
            "UPDATE outbox SET not_before = ?, claimed_by = NULL, claimed_at = NULL, doc = ? "
            "WHERE job_id = ? AND dead = 0",
            (at, to_json(retried), job.job_id),
        )
        return True

    @translating
    async def dead_letter_job(self, job: Job, reason: str) -> None:
        await self._dead_letter(job, reason)

    async def _dead_letter(self, job: Job, reason: str) -> None:
        dead = dataclasses.replace(job, dead_reason=reason, last_error=job.last_error or reason)
        doc = to_json(dead)

        def work(db: sqlite3.Connection) -> None:
            stmt.write_dead_job(db, dead.job_id, dead.org_id, dead.not_before, doc)

        await self._write(work)

    @translating
    async def dead_letter_org_jobs(self, org_id: str, reason: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            rows = db.execute(
                "SELECT job_id, doc FROM outbox WHERE org_id = ? AND dead = 0 ORDER BY seq",
                (org_id,),
            ).fetchall()
            seq = stmt.next_dead_seq(db)
            updates = []
            for offset, (job_id, doc) in enumerate(rows):
                job = from_json(Job, doc)
                job.dead_reason = reason
                updates.append((seq + offset, to_json(job), job_id))
            db.executemany(
                "UPDATE outbox SET dead = 1, dead_seq = ?, claimed_by = NULL, "
                "claimed_at = NULL, doc = ? WHERE job_id = ?",
                updates,
            )
            return len(rows)

        return await self._write(work)

    @translating
    async def list_dead_letters(self, org_id: str | None = None, limit: int = 100) -> list[Job]:
        # newest dead letter first: the one someone is most likely asking about
        if org_id is None:
            rows = await self._fetchall(
                "SELECT doc FROM outbox WHERE dead = 1 ORDER BY dead_seq DESC LIMIT ?", (limit,)
            )
        else:
            rows = await self._fetchall(
                "SELECT doc FROM outbox WHERE dead = 1 AND org_id = ? "
                "ORDER BY dead_seq DESC LIMIT ?",
                (org_id, limit),
            )
        return [from_json(Job, row[0]) for row in rows]

    @translating
    async def requeue_dead_letters(self, job_ids: list[str] | None = None) -> int:
        params: tuple[str, ...] = ()
        if job_ids is None:
            sql = "SELECT job_id, doc FROM outbox WHERE dead = 1"
        else:
            marks = ",".join("?" * len(job_ids))
            sql = f"SELECT job_id, doc FROM outbox WHERE dead = 1 AND job_id IN ({marks})"  # noqa: S608 - only placeholders are interpolated
            params = tuple(job_ids)

        def work(db: sqlite3.Connection) -> int:
            rows = db.execute(sql, params).fetchall()
            updates = []
            for job_id, doc in rows:
                job = from_json(Job, doc)
                job.attempts = 0
                job.dead_reason = ""
                updates.append((to_json(job), job_id))
            db.executemany(
                "UPDATE outbox SET dead = 0, dead_seq = NULL, claimed_by = NULL, "
                "claimed_at = NULL, doc = ? WHERE job_id = ?",
                updates,
            )
            return len(rows)

        return await self._write(work)

    @translating
    async def outbox_depth(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) FROM outbox WHERE dead = 0")
        return int(row[0]) if row is not None else 0

    # dedupe ----------------------------------------------------------------
    @translating
    async def claim_once(self, key: str, ttl: float) -> bool:
        return await self._write(lambda db: self._claim_key(db, key, ttl, time.time()))

    @translating
    async def take_lease(self, namespace: str, key: str, ttl: float) -> Lease:
        def work(db: sqlite3.Connection) -> Lease:
            row = db.execute(
                "SELECT doc FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
            doc = json_object(row[0]) if row is not None else {}
            lease_key = claim_key(namespace, key, generation(doc))
            return Lease(doc, self._claim_key(db, lease_key, ttl, time.time()))

        return await self._write(work)

    @translating
    async def release_claim(self, key: str) -> None:
        await self._write(lambda db: db.execute("DELETE FROM dedupe WHERE key = ?", (key,)))

    def _claim_key(self, db: sqlite3.Connection, key: str, ttl: float, now: float) -> bool:
        """On the store's thread, inside a transaction."""
        self._claims_since_sweep += 1
        if self._claims_since_sweep >= DEDUPE_SWEEP_EVERY:
            self._claims_since_sweep = 0
            db.execute("DELETE FROM dedupe WHERE expires_at <= ?", (now,))
        # one statement: a new key is inserted, an expired one taken over, a live one left
        # alone (then no row changes, and the claim fails)
        cursor = db.execute(
            "INSERT INTO dedupe (key, expires_at) VALUES (?, ?) ON CONFLICT (key) "
            "DO UPDATE SET expires_at = excluded.expires_at WHERE dedupe.expires_at <= ?",
            (key, now + ttl, now),
        )
        return cursor.rowcount == 1
