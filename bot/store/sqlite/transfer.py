"""The SQLite side of copies, backups and restores: what the store holds, read a page at a
time in each table's own order, written a batch per transaction, counted, cleared.

Every function runs on the store's thread with its connection (`SQLiteBase._call`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from bot.errors import StoreError
from bot.store.records import (
    AuditEntry,
    Booking,
    Candidate,
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
from bot.store.sqlite import rows as stmt
from bot.store.transfer import (
    ClaimItem,
    Counts,
    DeadJob,
    Item,
    KvItem,
    MessageRefItem,
    QueuedJob,
    TimelineItem,
    zero_counts,
)

PAGE = 500

Row = tuple[Any, ...]


def _doc(cls: type[Any]) -> Callable[[Row], Item]:
    def read(row: Row) -> Item:
        item: Item = from_json(cls, row[1])
        return item

    return read


def _timeline(row: Row) -> Item:
    return TimelineItem(row[1], row[2], from_json(TimelineEntry, row[3]))


def _message_ref(row: Row) -> Item:
    return MessageRefItem(row[1], row[2], row[3], from_json(MessageRef, row[4]))


def _kv(row: Row) -> Item:
    return KvItem(row[1], row[2], stmt.kv_value(row[3]))


def _claim(row: Row) -> Item:
    return ClaimItem(row[1], float(row[2]))


def _job(row: Row) -> Item:
    return QueuedJob(from_json(Job, row[1]))


def _dead_job(row: Row) -> Item:
    return DeadJob(from_json(Job, row[1]))


# kind -> (query reading the page after a cursor: its first column is the cursor, how a row
# becomes an item). Timelines, audit logs and the outbox are read in the order they were
# written (seq), dead letters in the order they died: a copy keeps each order.
_READERS: dict[str, tuple[str, Callable[[Row], Item]]] = {
    "org": (
        "SELECT rowid, doc FROM orgs WHERE rowid > :after ORDER BY rowid LIMIT :limit",
        _doc(Org),
    ),
    "member": (
        "SELECT rowid, doc FROM members WHERE rowid > :after ORDER BY rowid LIMIT :limit",
        _doc(Member),
    ),
    "candidate": (
        "SELECT rowid, doc FROM candidates WHERE rowid > :after ORDER BY rowid LIMIT :limit",
        _doc(Candidate),
    ),
    "timeline": (
        "SELECT seq, org_id, candidate_id, doc FROM timeline WHERE seq > :after ORDER BY seq LIMIT :limit",
        _timeline,
    ),
    "booking": (
        "SELECT rowid, doc FROM bookings WHERE rowid > :after ORDER BY rowid LIMIT :limit",
        _doc(Booking),
    ),
    "link": (
        "SELECT rowid, doc FROM tracked_links WHERE rowid > :after ORDER BY rowid LIMIT :limit",
        _doc(TrackedLink),
    ),
    "oauth_state": (
        "SELECT rowid, doc FROM oauth_states WHERE rowid > :after ORDER BY rowid LIMIT :limit",
        _doc(OAuthState),
    ),
    "claim": (
        "SELECT rowid, key, expires_at FROM dedupe WHERE rowid > :after AND expires_at > :now "
        "ORDER BY rowid LIMIT :limit",
        _claim,
    ),
    "message_ref": (
        "SELECT rowid, org_id, booking_id, target, doc FROM message_refs WHERE rowid > :after "
        "ORDER BY rowid LIMIT :limit",
        _message_ref,
    ),
    "audit": (
        "SELECT seq, doc FROM audit WHERE seq > :after ORDER BY seq LIMIT :limit",
        _doc(AuditEntry),
    ),
    "kv": (
        "SELECT rowid, namespace, key, doc FROM kv WHERE rowid > :after ORDER BY rowid LIMIT :limit",
        _kv,
    ),
    "job": (
        "SELECT seq, doc FROM outbox WHERE dead = 0 AND seq > :after ORDER BY seq LIMIT :limit",
        _job,
    ),
    "dead_job": (
        "SELECT dead_seq, doc FROM outbox WHERE dead = 1 AND dead_seq > :after "
        "ORDER BY dead_seq LIMIT :limit",
        _dead_job,
    ),
}

_COUNTS: dict[str, str] = {
    "org": "SELECT COUNT(*) FROM orgs",
    "member": "SELECT COUNT(*) FROM members",
    "candidate": "SELECT COUNT(*) FROM candidates",
    "timeline": "SELECT COUNT(*) FROM timeline",
    "booking": "SELECT COUNT(*) FROM bookings",
    "link": "SELECT COUNT(*) FROM tracked_links",
    "oauth_state": "SELECT COUNT(*) FROM oauth_states",
    "claim": "SELECT COUNT(*) FROM dedupe WHERE expires_at > :now",
    "message_ref": "SELECT COUNT(*) FROM message_refs",
    "audit": "SELECT COUNT(*) FROM audit",
    "kv": "SELECT COUNT(*) FROM kv",
    "job": "SELECT COUNT(*) FROM outbox WHERE dead = 0",
    "dead_job": "SELECT COUNT(*) FROM outbox WHERE dead = 1",
}

_TABLES = (
    "orgs",
    "members",
    "candidates",
    "timeline",
    "bookings",
    "tracked_links",
    "oauth_states",
    "dedupe",
    "message_refs",
    "audit",
    "kv",
    "outbox",
)


def read_page(db: sqlite3.Connection, kind: str, after: Any, now: float) -> tuple[list[Item], Any]:
    """Up to PAGE items of `kind` after the cursor `after` (None: from the start); returns
    them and the cursor to read on from (None: that was the last page)."""
    sql, build = _READERS[kind]
    params = {"after": -1 if after is None else after, "limit": PAGE, "now": now}
    rows = db.execute(sql, params).fetchall()
    try:
        items = [build(row) for row in rows]
    except (TypeError, ValueError) as exc:
        raise StoreError(f"a stored {kind} record does not read back: {exc}") from None
    return items, (rows[-1][0] if len(rows) == PAGE else None)


def write_batch(db: sqlite3.Connection, items: list[Item]) -> None:
    """Every item in one transaction: records replace what has their key, timeline entries,
    audit entries and dead letters are appended after what is there."""

    def work(db: sqlite3.Connection) -> None:
        for item in items:
            _write(db, item)

    stmt.transaction(db, work)


def _write(db: sqlite3.Connection, item: Item) -> None:
    if isinstance(item, Org):
        stmt.write_org(db, item.org_id, item.org_key, to_json(item))
    elif isinstance(item, Member):
        db.execute(stmt.INSERT_MEMBER, (item.org_id, item.user_id, to_json(item)))
    elif isinstance(item, Candidate):
        db.execute(stmt.INSERT_CANDIDATE, stmt.candidate_row(item))
    elif isinstance(item, TimelineItem):
        db.execute(stmt.INSERT_TIMELINE, (item.org_id, item.candidate_id, to_json(item.entry)))
    elif isinstance(item, Booking):
        db.execute(stmt.INSERT_BOOKING, stmt.booking_row(item))
    elif isinstance(item, TrackedLink):
        db.execute(stmt.INSERT_LINK, (item.correlation_id, to_json(item)))
    elif isinstance(item, OAuthState):
        db.execute(stmt.INSERT_OAUTH_STATE, (item.state, to_json(item)))
    elif isinstance(item, ClaimItem):
        db.execute(stmt.INSERT_CLAIM, (item.key, item.expires_at))
    elif isinstance(item, MessageRefItem):
        db.execute(
            stmt.INSERT_MESSAGE_REF, (item.org_id, item.booking_id, item.target, to_json(item.ref))
        )
    elif isinstance(item, AuditEntry):
        db.execute(stmt.INSERT_AUDIT, (item.org_id, to_json(item)))
    elif isinstance(item, KvItem):
        db.execute(stmt.INSERT_KV, (item.namespace, item.key, stmt.kv_doc(item.value)))
    elif isinstance(item, QueuedJob):
        stmt.insert_jobs(db, stmt.job_rows([item.job]))
    elif isinstance(item, DeadJob):
        job = item.job
        stmt.write_dead_job(db, job.job_id, job.org_id, job.not_before, to_json(job))
    else:  # pragma: no cover - the Item union is closed
        raise TypeError(f"not a store item: {type(item).__name__}")


def count(db: sqlite3.Connection, now: float) -> Counts:
    counts = zero_counts()
    for kind, sql in _COUNTS.items():
        counts[kind] = int(db.execute(sql, {"now": now}).fetchone()[0])
    return counts


def clear(db: sqlite3.Connection) -> None:
    """Delete every record; the schema and its version stay."""

    def work(db: sqlite3.Connection) -> None:
        for table in _TABLES:
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - table names are constants

    stmt.transaction(db, work)
