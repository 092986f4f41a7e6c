"""The embedded store: one SQLite file in WAL mode, one connection, one process.

Every record is kept as its JSON text beside the few columns the store looks things up or
sorts by. All statements go through one asyncio lock, so a transaction (BEGIN IMMEDIATE ...
COMMIT) is never interleaved with another coroutine's statements on the shared connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from functools import update_wrapper
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiosqlite

from bot.errors import StoreError, StoreUnavailable
from bot.store.records import (
    AuditEntry,
    Booking,
    Candidate,
    EventWrite,
    Job,
    Member,
    MessageRef,
    OAuthState,
    Org,
    TimelineEntry,
    TrackedLink,
    from_json,
    to_json,
)

SCHEMA_VERSION = 1

# Expired dedupe keys are swept once every this many claims (each claim also drops its own
# expired key), so the table stays small without a background task.
DEDUPE_SWEEP_EVERY = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
    org_id TEXT PRIMARY KEY,
    org_key TEXT UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE IF NOT EXISTS candidates (
    org_id TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    email_lower TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (org_id, candidate_id)
);
CREATE INDEX IF NOT EXISTS candidates_by_email ON candidates (org_id, email_lower);
CREATE TABLE IF NOT EXISTS timeline (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS timeline_by_candidate ON timeline (org_id, candidate_id, seq);
CREATE TABLE IF NOT EXISTS bookings (
    org_id TEXT NOT NULL,
    booking_id TEXT NOT NULL,
    recruiter_id TEXT,
    start TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (org_id, booking_id)
);
CREATE INDEX IF NOT EXISTS bookings_by_start ON bookings (org_id, start);
CREATE TABLE IF NOT EXISTS tracked_links (
    correlation_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_states (
    state TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dedupe (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS message_refs (
    org_id TEXT NOT NULL,
    booking_id TEXT NOT NULL,
    target TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (org_id, booking_id, target)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_org ON audit (org_id, seq);
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL,
    not_before REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    dead INTEGER NOT NULL DEFAULT 0,
    dead_seq INTEGER,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (dead, not_before);
CREATE INDEX IF NOT EXISTS outbox_by_org ON outbox (org_id, dead);
"""

_AIOSQLITE_CLOSED = frozenset({"no active connection", "Connection closed"})

P = ParamSpec("P")
R = TypeVar("R")


def _translating(
    method: Callable[Concatenate[SQLiteStore, P], Awaitable[R]],
) -> Callable[Concatenate[SQLiteStore, P], Coroutine[Any, Any, R]]:
    """Report a closed or broken database as StoreUnavailable, other failures as StoreError."""

    async def wrapper(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._db is None:
            raise StoreUnavailable(f"SQLite store {self._path} is not open")
        try:
            return await method(self, *args, **kwargs)
        except ValueError as exc:
            # aiosqlite says so with a ValueError once its connection is closed
            if str(exc) not in _AIOSQLITE_CLOSED:
                raise
            raise StoreUnavailable(f"SQLite store {self._path} is closed") from exc
        except sqlite3.ProgrammingError as exc:
            raise StoreUnavailable(f"SQLite store {self._path} is closed: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self._path} failed: {exc}") from exc

    update_wrapper(wrapper, method)
    return wrapper


class SQLiteStore:
    def __init__(self, path: str) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._claims_since_sweep = 0

    # lifecycle -------------------------------------------------------------
    async def open(self) -> None:
        if self._db is not None:
            return
        await asyncio.to_thread(_prepare_path, self._path)
        connection = aiosqlite.connect(self._path, isolation_level=None)
        try:
            db = await connection
        except (sqlite3.Error, OSError) as exc:
            # aiosqlite stops its worker thread in the background after a failed connect;
            # wait for it, so it does not report to an event loop that is gone by then
            worker = getattr(connection, "_thread", None)
            if isinstance(worker, threading.Thread):
                await asyncio.to_thread(worker.join, 1.0)
            raise StoreError(f"cannot open SQLite store {self._path}: {exc}") from None
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.executescript(_SCHEMA)
            async with db.execute("SELECT version FROM schema_version") as cursor:
                row = await cursor.fetchone()
            if row is None:
                await db.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif row[0] > SCHEMA_VERSION:
                raise StoreError(
                    f"SQLite store {self._path} has schema version {row[0]}, newer than this "
                    f"Slotbot understands ({SCHEMA_VERSION})"
                )
        except sqlite3.Error as exc:
            await db.close()
            raise StoreError(f"cannot open SQLite store {self._path}: {exc}") from None
        except StoreError:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    @_translating
    async def ping(self) -> None:
        try:
            await self._fetchone("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self._path} does not answer: {exc}") from exc

    # helpers ---------------------------------------------------------------
    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailable(f"SQLite store {self._path} is not open")
        return self._db

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any:
        async with self._lock, self._conn.execute(sql, tuple(params)) as cursor:
            return await cursor.fetchone()

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        async with self._lock, self._conn.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def _execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self._lock, self._conn.execute(sql, tuple(params)) as cursor:
            return cursor.rowcount

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so read-then-write is atomic."""
        async with self._lock:
            db = self._conn
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    # orgs ------------------------------------------------------------------
    @_translating
    async def get_org(self, org_id: str) -> Org | None:
        row = await self._fetchone("SELECT doc FROM orgs WHERE org_id = ?", (org_id,))
        return None if row is None else from_json(Org, row[0])

    @_translating
    async def get_org_by_key(self, org_key: str) -> Org | None:
        row = await self._fetchone("SELECT doc FROM orgs WHERE org_key = ?", (org_key,))
        return None if row is None else from_json(Org, row[0])

    @_translating
    async def put_org(self, org: Org) -> None:
        async with self._transaction() as db:
            if org.org_key is not None:
                # a key belongs to one org: whoever held it before lets go of it
                await db.execute(
                    "UPDATE orgs SET org_key = NULL WHERE org_key = ? AND org_id != ?",
                    (org.org_key, org.org_id),
                )
            await db.execute(
                "INSERT OR REPLACE INTO orgs (org_id, org_key, doc) VALUES (?, ?, ?)",
                (org.org_id, org.org_key, to_json(org)),
            )

    @_translating
    async def list_orgs(self) -> list[Org]:
        rows = await self._fetchall("SELECT doc FROM orgs ORDER BY org_id")
        return [from_json(Org, row[0]) for row in rows]

    # members ---------------------------------------------------------------
    @_translating
    async def get_member(self, org_id: str, user_id: str) -> Member | None:
        row = await self._fetchone(
            "SELECT doc FROM members WHERE org_id = ? AND user_id = ?", (org_id, user_id)
        )
        return None if row is None else from_json(Member, row[0])

    @_translating
    async def put_member(self, member: Member) -> None:
        await self._execute(
            "INSERT OR REPLACE INTO members (org_id, user_id, doc) VALUES (?, ?, ?)",
            (member.org_id, member.user_id, to_json(member)),
        )

    @_translating
    async def delete_member(self, org_id: str, user_id: str) -> None:
        await self._execute(
            "DELETE FROM members WHERE org_id = ? AND user_id = ?", (org_id, user_id)
        )

    @_translating
    async def list_members(self, org_id: str) -> list[Member]:
        rows = await self._fetchall(
            "SELECT doc FROM members WHERE org_id = ? ORDER BY user_id", (org_id,)
        )
        return [from_json(Member, row[0]) for row in rows]

    # candidates and their timeline ----------------------------------------
    @_translating
    async def get_candidate(self, org_id: str, candidate_id: str) -> Candidate | None:
        row = await self._fetchone(
            "SELECT doc FROM candidates WHERE org_id = ? AND candidate_id = ?",
            (org_id, candidate_id),
        )
        return None if row is None else from_json(Candidate, row[0])

    @_translating
    async def find_candidate_by_email(self, org_id: str, email: str) -> Candidate | None:
        row = await self._fetchone(
            "SELECT doc FROM candidates WHERE org_id = ? AND email_lower = ? "
            "ORDER BY candidate_id LIMIT 1",
            (org_id, email.strip().lower()),
        )
        return None if row is None else from_json(Candidate, row[0])

    @_translating
    async def put_candidate(self, candidate: Candidate) -> None:
        async with self._transaction() as db:
            await self._write_candidate(db, candidate)

    @staticmethod
    async def _write_candidate(db: aiosqlite.Connection, candidate: Candidate) -> None:
        await db.execute(
            "INSERT OR REPLACE INTO candidates (org_id, candidate_id, email_lower, doc) "
            "VALUES (?, ?, ?, ?)",
            (
                candidate.org_id,
                candidate.candidate_id,
                candidate.email.strip().lower(),
                to_json(candidate),
            ),
        )

    @_translating
    async def append_timeline(self, org_id: str, candidate_id: str, entry: TimelineEntry) -> None:
        await self._execute(
            "INSERT INTO timeline (org_id, candidate_id, doc) VALUES (?, ?, ?)",
            (org_id, candidate_id, to_json(entry)),
        )

    @_translating
    async def list_timeline(
        self, org_id: str, candidate_id: str, limit: int = 50
    ) -> list[TimelineEntry]:
        if limit <= 0:
            return []
        rows = await self._fetchall(
            "SELECT doc FROM timeline WHERE org_id = ? AND candidate_id = ? "
            "ORDER BY seq DESC LIMIT ?",
            (org_id, candidate_id, limit),
        )
        return [from_json(TimelineEntry, row[0]) for row in reversed(rows)]

    # bookings --------------------------------------------------------------
    @_translating
    async def get_booking(self, org_id: str, booking_id: str) -> Booking | None:
        row = await self._fetchone(
            "SELECT doc FROM bookings WHERE org_id = ? AND booking_id = ?", (org_id, booking_id)
        )
        return None if row is None else from_json(Booking, row[0])

    @_translating
    async def put_booking(self, booking: Booking) -> None:
        async with self._transaction() as db:
            await self._write_booking(db, booking)

    @staticmethod
    async def _write_booking(db: aiosqlite.Connection, booking: Booking) -> None:
        await db.execute(
            "INSERT OR REPLACE INTO bookings (org_id, booking_id, recruiter_id, start, doc) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                booking.org_id,
                booking.booking_id,
                booking.recruiter_id,
                booking.start,
                to_json(booking),
            ),
        )

    @_translating
    async def list_bookings(
        self, org_id: str, *, recruiter_id: str | None = None, start_after: str | None = None
    ) -> list[Booking]:
        sql = "SELECT doc FROM bookings WHERE org_id = ?"
        params: list[Any] = [org_id]
        if recruiter_id is not None:
            sql += " AND recruiter_id = ?"
            params.append(recruiter_id)
        if start_after is not None:
            sql += " AND start > ?"
            params.append(start_after)
        # soonest first; bookings without a start (none known yet) last
        sql += " ORDER BY start IS NULL, start, booking_id"
        rows = await self._fetchall(sql, params)
        return [from_json(Booking, row[0]) for row in rows]

    # tracked links ---------------------------------------------------------
    @_translating
    async def put_tracked_link(self, link: TrackedLink) -> None:
        await self._execute(
            "INSERT OR REPLACE INTO tracked_links (correlation_id, doc) VALUES (?, ?)",
            (link.correlation_id, to_json(link)),
        )

    @_translating
    async def get_tracked_link(self, correlation_id: str) -> TrackedLink | None:
        row = await self._fetchone(
            "SELECT doc FROM tracked_links WHERE correlation_id = ?", (correlation_id,)
        )
        return None if row is None else from_json(TrackedLink, row[0])

    # OAuth states ----------------------------------------------------------
    @_translating
    async def put_oauth_state(self, state: OAuthState) -> None:
        await self._execute(
            "INSERT OR REPLACE INTO oauth_states (state, doc) VALUES (?, ?)",
            (state.state, to_json(state)),
        )

    @_translating
    async def consume_oauth_state(self, state: str) -> OAuthState | None:
        # DELETE ... RETURNING reads and removes in one statement: only one caller gets it
        row = await self._fetchone(
            "DELETE FROM oauth_states WHERE state = ? RETURNING doc", (state,)
        )
        return None if row is None else from_json(OAuthState, row[0])

    # dedupe ----------------------------------------------------------------
    @_translating
    async def claim_once(self, key: str, ttl: float) -> bool:
        async with self._transaction() as db:
            return await self._claim_key(db, key, ttl, time.time())

    async def _claim_key(self, db: aiosqlite.Connection, key: str, ttl: float, now: float) -> bool:
        self._claims_since_sweep += 1
        if self._claims_since_sweep >= DEDUPE_SWEEP_EVERY:
            self._claims_since_sweep = 0
            await db.execute("DELETE FROM dedupe WHERE expires_at <= ?", (now,))
        else:
            await db.execute("DELETE FROM dedupe WHERE key = ? AND expires_at <= ?", (key, now))
        async with db.execute(
            "INSERT OR IGNORE INTO dedupe (key, expires_at) VALUES (?, ?)", (key, now + ttl)
        ) as cursor:
            return cursor.rowcount == 1

    # accepted events, in one step -----------------------------------------
    @_translating
    async def commit_event(self, write: EventWrite) -> bool:
        if write.timeline is not None and write.candidate is None:
            raise ValueError("an EventWrite with a timeline entry needs its candidate")
        async with self._transaction() as db:
            if not await self._claim_key(db, write.dedupe_key, write.dedupe_ttl, time.time()):
                return False
            if write.candidate is not None:
                await self._write_candidate(db, write.candidate)
            if write.timeline is not None and write.candidate is not None:
                await db.execute(
                    "INSERT INTO timeline (org_id, candidate_id, doc) VALUES (?, ?, ?)",
                    (write.candidate.org_id, write.candidate.candidate_id, to_json(write.timeline)),
                )
            if write.booking is not None:
                await self._write_booking(db, write.booking)
            await self._insert_jobs(db, write.jobs)
            if write.audit is not None:
                await db.execute(
                    "INSERT INTO audit (org_id, doc) VALUES (?, ?)",
                    (write.audit.org_id, to_json(write.audit)),
                )
            return True

    # message references ----------------------------------------------------
    @_translating
    async def put_message_ref(
        self, org_id: str, booking_id: str, target: str, ref: MessageRef
    ) -> None:
        await self._execute(
            "INSERT OR REPLACE INTO message_refs (org_id, booking_id, target, doc) "
            "VALUES (?, ?, ?, ?)",
            (org_id, booking_id, target, to_json(ref)),
        )

    @_translating
    async def get_message_refs(self, org_id: str, booking_id: str) -> dict[str, MessageRef]:
        rows = await self._fetchall(
            "SELECT target, doc FROM message_refs WHERE org_id = ? AND booking_id = ? "
            "ORDER BY target",
            (org_id, booking_id),
        )
        return {row[0]: from_json(MessageRef, row[1]) for row in rows}

    # audit -----------------------------------------------------------------
    @_translating
    async def append_audit(self, entry: AuditEntry) -> None:
        await self._execute(
            "INSERT INTO audit (org_id, doc) VALUES (?, ?)", (entry.org_id, to_json(entry))
        )

    @_translating
    async def list_audit(self, org_id: str, limit: int = 50) -> list[AuditEntry]:
        if limit <= 0:
            return []
        rows = await self._fetchall(
            "SELECT doc FROM audit WHERE org_id = ? ORDER BY seq DESC LIMIT ?", (org_id, limit)
        )
        return [from_json(AuditEntry, row[0]) for row in rows]

    # generic namespaced documents -------------------------------------------
    @_translating
    async def kv_get(self, namespace: str, key: str) -> dict[str, object] | None:
        row = await self._fetchone(
            "SELECT doc FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        )
        return None if row is None else _json_object(row[0])

    @_translating
    async def kv_put(self, namespace: str, key: str, value: dict[str, object]) -> None:
        await self._execute(
            "INSERT OR REPLACE INTO kv (namespace, key, doc) VALUES (?, ?, ?)",
            (namespace, key, json.dumps(value, separators=(",", ":"), sort_keys=True)),
        )

    @_translating
    async def kv_delete(self, namespace: str, key: str) -> None:
        await self._execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))

    @_translating
    async def kv_list(self, namespace: str, prefix: str = "") -> dict[str, dict[str, object]]:
        # prefix compared with substr rather than LIKE: no wildcard escaping to get wrong
        rows = await self._fetchall(
            "SELECT key, doc FROM kv WHERE namespace = ? AND substr(key, 1, ?) = ? ORDER BY key",
            (namespace, len(prefix), prefix),
        )
        return {row[0]: _json_object(row[1]) for row in rows}

    # outbox ----------------------------------------------------------------
    @_translating
    async def enqueue(self, jobs: list[Job]) -> None:
        async with self._transaction() as db:
            await self._insert_jobs(db, jobs)

    @staticmethod
    async def _insert_jobs(db: aiosqlite.Connection, jobs: list[Job]) -> None:
        for job in jobs:
            await db.execute(
                "INSERT OR REPLACE INTO outbox (job_id, org_id, not_before, doc) "
                "VALUES (?, ?, ?, ?)",
                (job.job_id, job.org_id, job.not_before, to_json(job)),
            )

    @_translating
    async def claim_jobs(
        self, consumer: str, *, limit: int, visibility_timeout: float, now: float | None = None
    ) -> list[Job]:
        if limit <= 0:
            return []
        at = time.time() if now is None else now
        claimed: list[Job] = []
        async with self._transaction() as db:
            async with db.execute(
                "SELECT job_id, doc FROM outbox WHERE dead = 0 AND not_before <= ? "
                "AND (claimed_at IS NULL OR claimed_at <= ?) ORDER BY not_before, seq LIMIT ?",
                (at, at - visibility_timeout, limit),
            ) as cursor:
                rows = list(await cursor.fetchall())
            for job_id, doc in rows:
                job = from_json(Job, doc)
                job.attempts += 1
                await db.execute(
                    "UPDATE outbox SET claimed_by = ?, claimed_at = ?, doc = ? WHERE job_id = ?",
                    (consumer, at, to_json(job), job_id),
                )
                claimed.append(job)
        return claimed

    @_translating
    async def ack_job(self, job_id: str) -> None:
        await self._execute("DELETE FROM outbox WHERE job_id = ? AND dead = 0", (job_id,))

    @_translating
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

    @_translating
    async def dead_letter_job(self, job: Job, reason: str) -> None:
        await self._dead_letter(job, reason)

    async def _dead_letter(self, job: Job, reason: str) -> None:
        dead = dataclasses.replace(job, dead_reason=reason, last_error=job.last_error or reason)
        async with self._transaction() as db:
            seq = await self._next_dead_seq(db)
            await db.execute(
                "INSERT INTO outbox (job_id, org_id, not_before, dead, dead_seq, doc) "
                "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (job_id) DO UPDATE SET "
                "dead = 1, dead_seq = excluded.dead_seq, doc = excluded.doc, "
                "claimed_by = NULL, claimed_at = NULL",
                (dead.job_id, dead.org_id, dead.not_before, seq, to_json(dead)),
            )

    @staticmethod
    async def _next_dead_seq(db: aiosqlite.Connection) -> int:
        async with db.execute("SELECT COALESCE(MAX(dead_seq), 0) + 1 FROM outbox") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row is not None else 1

    @_translating
    async def dead_letter_org_jobs(self, org_id: str, reason: str) -> int:
        async with self._transaction() as db:
            async with db.execute(
                "SELECT job_id, doc FROM outbox WHERE org_id = ? AND dead = 0 ORDER BY seq",
                (org_id,),
            ) as cursor:
                rows = list(await cursor.fetchall())
            seq = await self._next_dead_seq(db)
            for offset, (job_id, doc) in enumerate(rows):
                job = from_json(Job, doc)
                job.dead_reason = reason
                await db.execute(
                    "UPDATE outbox SET dead = 1, dead_seq = ?, claimed_by = NULL, "
                    "claimed_at = NULL, doc = ? WHERE job_id = ?",
                    (seq + offset, to_json(job), job_id),
                )
        return len(rows)

    @_translating
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

    @_translating
    async def requeue_dead_letters(self, job_ids: list[str] | None = None) -> int:
        async with self._transaction() as db:
            params: tuple[str, ...] = ()
            if job_ids is None:
                sql = "SELECT job_id, doc FROM outbox WHERE dead = 1"
            else:
                marks = ",".join("?" * len(job_ids))
                sql = f"SELECT job_id, doc FROM outbox WHERE dead = 1 AND job_id IN ({marks})"  # noqa: S608 - only placeholders are interpolated
                params = tuple(job_ids)
            async with db.execute(sql, params) as cursor:
                rows = list(await cursor.fetchall())
            for job_id, doc in rows:
                job = from_json(Job, doc)
                job.attempts = 0
                job.dead_reason = ""
                await db.execute(
                    "UPDATE outbox SET dead = 0, dead_seq = NULL, claimed_by = NULL, "
                    "claimed_at = NULL, doc = ? WHERE job_id = ?",
                    (to_json(job), job_id),
                )
        return len(rows)

    @_translating
    async def outbox_depth(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) FROM outbox WHERE dead = 0")
        return int(row[0]) if row is not None else 0


def _json_object(text: str) -> dict[str, object]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise StoreError("a stored document is not a JSON object")
    return value


def _prepare_path(path: str) -> None:
    """Create the parent folder; refuse what SQLite could only fail on obscurely."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for SQLite store {path}: {exc.strerror}"
        ) from None
    if Path(path).is_dir():
        raise StoreError(f"cannot open SQLite store {path}: it is a folder")
