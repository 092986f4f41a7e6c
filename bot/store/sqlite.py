"""The embedded store: one SQLite file in WAL mode, one connection, one process.

Every record is kept as its JSON text beside the few columns the store looks things up or
sorts by. The connection belongs to one thread, and every store operation runs there as a
single call: all its statements, transaction included, without returning to the event loop in
between. Operations therefore never interleave, and each costs one hop to that thread, not one
per statement.

Accepted callbacks are committed in groups: `commit_event` queues its write, and one call on
the thread commits every write queued meanwhile in one transaction (each in its own
savepoint, so a write that fails alone rolls back alone). A caller hears back only after the
COMMIT that holds its write, so "accepted" still means "stored".
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from functools import partial, update_wrapper
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from bot.errors import StaleBooking, StoreError, StoreUnavailable
from bot.store import sqlite_rows as stmt
from bot.store import sqlite_transfer
from bot.store.migrations import MigrationReport, SchemaStatus, log_migration, sqlite_steps
from bot.store.migrations.sqlite_steps import SQLiteStep
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
from bot.store.transfer import KINDS, Counts, Item

# Expired dedupe keys are swept once every this many claims (each claim also drops its own
# expired key), so the table stays small without a background task.
DEDUPE_SWEEP_EVERY = 500

# At most this many queued event writes share one transaction.
COMMIT_BATCH = 256

# WAL with synchronous=NORMAL: a COMMIT returns once the transaction is in the WAL file, that
# is in the operating system's hands, so an accepted callback survives the Slotbot process
# being killed (kill -9, the OOM killer, a crash): the failure this store is built to survive.
# The WAL is fsynced at each checkpoint; a power cut or kernel crash can lose the commits made
# since the last one (Redis with appendonly and "appendfsync everysec" promises the same kind
# of thing). FULL would add an fsync to every write transaction, the outbox worker's claims
# and acks included, all on the store's one thread.
SYNCHRONOUS = "NORMAL"

# How long a statement waits for a lock another process holds (a backup, a second process
# reading): long enough for them, short enough that a stuck lock is reported, not waited out.
BUSY_TIMEOUT = 5.0

# The database holds candidates' personal data and members' (encrypted) tokens: the file, and
# the WAL and shared-memory files SQLite makes beside it with the same mode, are the owner's.
FILE_MODE = 0o600
FOLDER_MODE = 0o700

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

Row = tuple[Any, ...]


def _translating(
    method: Callable[Concatenate[SQLiteStore, P], Awaitable[R]],
) -> Callable[Concatenate[SQLiteStore, P], Coroutine[Any, Any, R]]:
    """Report a closed or broken database as StoreUnavailable, other failures as StoreError."""

    async def wrapper(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._db is None:
            raise StoreUnavailable(f"SQLite store {self._path} is not open")
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.ProgrammingError as exc:
            raise StoreUnavailable(f"SQLite store {self._path} is closed: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self._path} failed: {exc}") from exc

    update_wrapper(wrapper, method)
    return wrapper


@dataclass
class _EventRows:
    """One EventWrite as the parameters of its statements, serialised on the event loop."""

    dedupe_key: str
    dedupe_ttl: float
    candidate: tuple[str, str, str, str] | None
    timeline: tuple[str, str, str] | None
    booking: tuple[str, str, str | None, str | None, str] | None
    jobs: list[tuple[str, str, float, str]]
    audit: tuple[str, str] | None
    booking_version: int | None = None  # EventWrite.booking_version


class _StoreThread:
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


class SQLiteStore:
    def __init__(self, path: str, *, steps: tuple[SQLiteStep, ...] = sqlite_steps.STEPS) -> None:
        self._path = path
        self._steps = steps  # the migrations; tests give their own to exercise the runner
        # the connection is only ever used on the store's own thread
        self._db: sqlite3.Connection | None = None
        self._thread: _StoreThread | None = None
        self._claims_since_sweep = 0
        self._pending: list[tuple[_EventRows, asyncio.Future[bool]]] = []
        self._committer: asyncio.Task[None] | None = None

    # lifecycle -------------------------------------------------------------
    async def open(self, *, migrate: bool = True) -> None:
        """Open the file (created, 0600, when missing) and bring it to the current schema
        version; a store written by a newer Slotbot is refused. `migrate=False` only opens:
        for `migrate --status` and `--dry-run`, which report before they change anything."""
        if self._db is not None:
            return
        await asyncio.to_thread(_prepare_path, self._path)
        thread = _StoreThread("slotbot-sqlite")
        try:
            db = await thread.submit(partial(_connect, self._path))
            if migrate:
                try:
                    report = await thread.submit(
                        partial(self._migrate_on_thread, db, dry_run=False)
                    )
                except BaseException:
                    await thread.submit(db.close)
                    raise
                log_migration(self.where, report)
        except BaseException:
            thread.stop()
            raise
        self._db, self._thread = db, thread

    @property
    def where(self) -> str:
        return f"SQLite store {self._path}"

    def _migrate_on_thread(self, db: sqlite3.Connection, *, dry_run: bool) -> MigrationReport:
        try:
            return sqlite_steps.migrate(
                db, self.where, steps=self._steps, dry_run=dry_run, busy_timeout=BUSY_TIMEOUT
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot migrate {self.where}: {exc}") from None

    @_translating
    async def schema_status(self) -> SchemaStatus:
        return await self._call(partial(sqlite_steps.status, steps=self._steps))

    @_translating
    async def migrate(self, *, dry_run: bool = False) -> MigrationReport:
        return await self._call(partial(self._migrate_on_thread, dry_run=dry_run))

    async def close(self) -> None:
        committer = self._committer
        if committer is not None and not committer.done():
            # let the writes already queued reach the disk (or fail) before closing
            await asyncio.gather(committer, return_exceptions=True)
        db, self._db = self._db, None
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            if db is not None:
                await thread.submit(db.close)
        finally:
            thread.stop()

    @_translating
    async def ping(self) -> None:
        try:
            await self._fetchone("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self._path} does not answer: {exc}") from exc

    # helpers ---------------------------------------------------------------
    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the connection on the store's thread: one hop, however many
        statements it runs."""
        db, thread = self._db, self._thread
        if db is None or thread is None:
            raise StoreUnavailable(f"SQLite store {self._path} is not open")
        try:
            future = thread.submit(partial(work, db))
        except RuntimeError as exc:  # the thread has stopped: the store closed
            raise StoreUnavailable(f"SQLite store {self._path} is closed") from exc
        return await future

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._call(partial(stmt.transaction, work=work))

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any:
        args = tuple(params)
        return await self._call(lambda db: db.execute(sql, args).fetchone())

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        args = tuple(params)
        return await self._call(lambda db: db.execute(sql, args).fetchall())

    async def _execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        args = tuple(params)
        return await self._call(lambda db: db.execute(sql, args).rowcount)

    # everything, for copies and backups (bot.store.transfer) ---------------
    async def export_records(self) -> AsyncIterator[list[Item]]:
        """Every record, a page at a time, kind after kind in `transfer.KINDS` order. Pages
        are read one by one: a copy never holds more than a page of the store in memory."""
        now = time.time()
        for kind in KINDS:
            after: Any = None
            while True:
                items, after = await self._read_page(kind, after, now)
                if items:
                    yield items
                if after is None:
                    break

    @_translating
    async def _read_page(self, kind: str, after: Any, now: float) -> tuple[list[Item], Any]:
        return await self._call(partial(sqlite_transfer.read_page, kind=kind, after=after, now=now))

    @_translating
    async def import_records(self, items: list[Item]) -> None:
        """Write the items in one transaction (all of them, or none)."""
        await self._call(partial(sqlite_transfer.write_batch, items=items))

    @_translating
    async def count_records(self) -> Counts:
        return await self._call(partial(sqlite_transfer.count, now=time.time()))

    @_translating
    async def clear(self) -> None:
        """Delete every record (the schema and its version stay): `--force` copies."""
        await self._call(sqlite_transfer.clear)

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
        doc = to_json(org)

        await self._write(lambda db: stmt.write_org(db, org.org_id, org.org_key, doc))

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
            stmt.INSERT_MEMBER,
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
        await self._execute(stmt.INSERT_CANDIDATE, stmt.candidate_row(candidate))

    @_translating
    async def append_timeline(self, org_id: str, candidate_id: str, entry: TimelineEntry) -> None:
        await self._execute(stmt.INSERT_TIMELINE, (org_id, candidate_id, to_json(entry)))

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
        await self._execute(stmt.INSERT_BOOKING, stmt.booking_row(booking))

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
            stmt.INSERT_LINK,
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
            stmt.INSERT_OAUTH_STATE,
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
        return await self._write(lambda db: self._claim_key(db, key, ttl, time.time()))

    @_translating
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

    # accepted events, committed in groups ---------------------------------
    @_translating
    async def commit_event(self, write: EventWrite) -> bool:
        if write.timeline is not None and write.candidate is None:
            raise ValueError("an EventWrite with a timeline entry needs its candidate")
        candidate = write.candidate
        rows = _EventRows(
            dedupe_key=write.dedupe_key,
            dedupe_ttl=write.dedupe_ttl,
            candidate=None if candidate is None else stmt.candidate_row(candidate),
            timeline=(
                None
                if write.timeline is None or candidate is None
                else (candidate.org_id, candidate.candidate_id, to_json(write.timeline))
            ),
            booking=None if write.booking is None else stmt.booking_row(write.booking),
            jobs=stmt.job_rows(write.jobs),
            audit=None if write.audit is None else (write.audit.org_id, to_json(write.audit)),
            booking_version=write.booking_version,
        )
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
        self, group: Sequence[_EventRows], db: sqlite3.Connection
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

    def _write_event(self, db: sqlite3.Connection, rows: _EventRows, now: float) -> bool:
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
        if rows.jobs:
            db.executemany(stmt.INSERT_JOB, rows.jobs)
        if rows.audit is not None:
            db.execute(stmt.INSERT_AUDIT, rows.audit)
        return True

    # message references ----------------------------------------------------
    @_translating
    async def put_message_ref(
        self, org_id: str, booking_id: str, target: str, ref: MessageRef
    ) -> None:
        await self._execute(
            stmt.INSERT_MESSAGE_REF,
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
        await self._execute(stmt.INSERT_AUDIT, (entry.org_id, to_json(entry)))

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
            stmt.INSERT_KV,
            (namespace, key, stmt.kv_doc(value)),
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
        rows = stmt.job_rows(jobs)
        if rows:
            await self._write(lambda db: db.executemany(stmt.INSERT_JOB, rows))

    @_translating
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
        doc = to_json(dead)

        def work(db: sqlite3.Connection) -> None:
            stmt.write_dead_job(db, dead.job_id, dead.org_id, dead.not_before, doc)

        await self._write(work)

    @_translating
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

    @_translating
    async def outbox_depth(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) FROM outbox WHERE dead = 0")
        return int(row[0]) if row is not None else 0


def _connect(path: str) -> sqlite3.Connection:
    """On the store's thread: open the file and set the connection up (no schema yet)."""
    try:
        # autocommit (isolation_level None): transactions are explicit BEGIN IMMEDIATE
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open SQLite store {path}: {exc}") from None
    try:
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    except sqlite3.Error as exc:
        db.close()
        raise StoreError(f"cannot open SQLite store {path}: {exc}") from None
    return db


def _json_object(text: str) -> dict[str, object]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise StoreError("a stored document is not a JSON object")
    return value


def _prepare_path(path: str) -> None:
    """Create the parent folder (0700) and the file (0600); tighten the mode of files an
    earlier Slotbot made readable to others; refuse what SQLite could only fail on obscurely."""
    file = Path(path)
    try:
        file.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for SQLite store {path}: {exc.strerror}"
        ) from None
    if file.is_dir():
        raise StoreError(f"cannot open SQLite store {path}: it is a folder")
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        for each in (file, *sidecar_files(file)):
            if each.exists() and each.stat().st_mode & 0o777 != FILE_MODE:
                each.chmod(FILE_MODE)
    except OSError as exc:
        raise StoreError(f"cannot open SQLite store {path}: {exc.strerror}") from None


def sidecar_files(path: Path) -> tuple[Path, ...]:
    """The files SQLite keeps beside a database in WAL mode."""
    return (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
