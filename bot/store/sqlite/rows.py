"""The SQLite store's statements and row builders, shared by the store's operations and by
copies into it (`transfer`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot import jsonio
from bot.store.records import Booking, Candidate, EventWrite, Job, to_json
from bot.store.sqlite.thread import Outcome

T = TypeVar("T")

INSERT_MEMBER = "INSERT OR REPLACE INTO members (org_id, user_id, doc) VALUES (?, ?, ?)"
INSERT_CANDIDATE = (
    "INSERT OR REPLACE INTO candidates (org_id, candidate_id, email_lower, doc) VALUES (?, ?, ?, ?)"
)
INSERT_BOOKING = (
    "INSERT OR REPLACE INTO bookings (org_id, booking_id, recruiter_id, start, doc) "
    "VALUES (?, ?, ?, ?, ?)"
)
INSERT_TIMELINE = "INSERT INTO timeline (org_id, candidate_id, doc) VALUES (?, ?, ?)"
INSERT_LINK = "INSERT OR REPLACE INTO tracked_links (correlation_id, doc) VALUES (?, ?)"
INSERT_OAUTH_STATE = "INSERT OR REPLACE INTO oauth_states (state, doc) VALUES (?, ?)"
INSERT_MESSAGE_REF = (
    "INSERT OR REPLACE INTO message_refs (org_id, booking_id, target, doc) VALUES (?, ?, ?, ?)"
)
INSERT_AUDIT = "INSERT INTO audit (org_id, doc) VALUES (?, ?)"
INSERT_KV = "INSERT OR REPLACE INTO kv (namespace, key, doc) VALUES (?, ?, ?)"
INSERT_CLAIM = "INSERT OR REPLACE INTO dedupe (key, expires_at) VALUES (?, ?)"
INSERT_JOB = (
    "INSERT OR REPLACE INTO outbox (job_id, org_id, not_before, doc, timer_key) "
    "VALUES (?, ?, ?, ?, ?)"
)
JobRow = tuple[str, str, float, str, str | None]


def transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """BEGIN IMMEDIATE takes the write lock up front, so read-then-write is atomic."""
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


def write_group(db: sqlite3.Connection, works: list[Callable[[], Any]]) -> list[Outcome]:
    """On the store's thread: the writes `works` (bound to `db`) in one transaction, each
    in a savepoint, so a write that raises is rolled back alone and the others commit. A
    failed BEGIN or COMMIT fails them all: nothing of the group is stored."""
    if len(works) == 1:  # alone: no savepoint needed
        try:
            return [(transaction(db, lambda _db: works[0]()), None)]
        except Exception as exc:
            return [(None, exc)]
    outcomes: list[Outcome] = []

    def each(db: sqlite3.Connection) -> None:
        for work in works:
            db.execute("SAVEPOINT write")
            try:
                outcomes.append((work(), None))
            except Exception as exc:  # this write's own failure: the others go on
                db.execute("ROLLBACK TO write")
                outcomes.append((None, exc))
            db.execute("RELEASE write")

    try:
        transaction(db, each)
    except Exception as exc:
        return [(None, exc)] * len(works)
    return outcomes


def candidate_row(candidate: Candidate) -> tuple[str, str, str, str]:
    return (
        candidate.org_id,
        candidate.candidate_id,
        candidate.email.strip().lower(),
        to_json(candidate),
    )


def booking_row(booking: Booking) -> tuple[str, str, str | None, str | None, str]:
    return (
        booking.org_id,
        booking.booking_id,
        booking.recruiter_id,
        booking.start,
        to_json(booking),
    )


def job_rows(jobs: list[Job]) -> list[JobRow]:
    return [
        (job.job_id, job.org_id, job.not_before, to_json(job), job.timer_key or None)
        for job in jobs
    ]


def insert_jobs(db: sqlite3.Connection, rows: list[JobRow]) -> None:
    """Queue jobs; a timer's job replaces the pending job of its key."""
    timers = [(row[4], row[0]) for row in rows if row[4]]
    if timers:
        db.executemany(
            "DELETE FROM outbox WHERE timer_key = ? AND dead = 0 AND job_id != ?", timers
        )
    db.executemany(INSERT_JOB, rows)


def cancel_timers(db: sqlite3.Connection, keys: list[str]) -> int:
    """Remove the pending jobs of these timer keys (a dead one stays among dead letters).

    A job a worker holds right now is removed too: its send may still happen, but its ack
    and its retry then find nothing, so it is never sent again."""
    removed = 0
    for key in keys:
        removed += db.execute(
            "DELETE FROM outbox WHERE timer_key = ? AND dead = 0", (key,)
        ).rowcount
    return removed


@dataclass
class EventRows:
    """One EventWrite as the parameters of its statements, serialised on the event loop."""

    dedupe_key: str
    dedupe_ttl: float
    candidate: tuple[str, str, str, str] | None
    timeline: tuple[str, str, str] | None
    booking: tuple[str, str, str | None, str | None, str] | None
    jobs: list[JobRow]
    audit: tuple[str, str] | None
    booking_version: int | None = None  # EventWrite.booking_version
    cancel_timers: list[str] = field(default_factory=list)


def event_rows(write: EventWrite) -> EventRows:
    candidate = write.candidate
    return EventRows(
        dedupe_key=write.dedupe_key,
        dedupe_ttl=write.dedupe_ttl,
        candidate=None if candidate is None else candidate_row(candidate),
        timeline=(
            None
            if write.timeline is None or candidate is None
            else (candidate.org_id, candidate.candidate_id, to_json(write.timeline))
        ),
        booking=None if write.booking is None else booking_row(write.booking),
        jobs=job_rows(write.jobs),
        audit=None if write.audit is None else (write.audit.org_id, to_json(write.audit)),
        booking_version=write.booking_version,
        cancel_timers=list(write.cancel_timers),
    )


def write_org(db: sqlite3.Connection, org_id: str, org_key: str | None, doc: str) -> None:
    if org_key is not None:
        # a key belongs to one org: whoever held it before lets go of it
        db.execute(
            "UPDATE orgs SET org_key = NULL WHERE org_key = ? AND org_id != ?", (org_key, org_id)
        )
    db.execute(
        "INSERT OR REPLACE INTO orgs (org_id, org_key, doc) VALUES (?, ?, ?)",
        (org_id, org_key, doc),
    )


def next_dead_seq(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT COALESCE(MAX(dead_seq), 0) + 1 FROM outbox").fetchone()
    return int(row[0]) if row is not None else 1


def write_dead_job(
    db: sqlite3.Connection, job_id: str, org_id: str, not_before: float, doc: str
) -> None:
    """Dead-letter a job (queued or not), after every other dead letter."""
    db.execute(
        "INSERT INTO outbox (job_id, org_id, not_before, dead, dead_seq, doc) "
        "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (job_id) DO UPDATE SET "
        "dead = 1, dead_seq = excluded.dead_seq, doc = excluded.doc, "
        "claimed_by = NULL, claimed_at = NULL",
        (job_id, org_id, not_before, next_dead_seq(db), doc),
    )


def kv_doc(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def kv_value(doc: str) -> dict[str, Any]:
    value = jsonio.loads(doc)
    if not isinstance(value, dict):
        raise ValueError("a stored kv document is not a JSON object")
    return value
