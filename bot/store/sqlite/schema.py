"""The SQLite store's migrations: numbered steps, all pending ones run in one transaction.

The transaction is also the lock between processes: `BEGIN IMMEDIATE` takes SQLite's write
lock, so when several Slotbot processes start on one file, the first migrates and the others
wait on the lock, then find the store current and go on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import MigrationFailed, StoreError
from bot.store.migrations import (
    MigrationReport,
    SchemaStatus,
    StepInfo,
    check_numbering,
    pending_steps,
    refuse_newer,
)
from bot.store.migrations.renames import V2_CLAIM_PREFIXES, V2_KV_NAMESPACES

# how long a starting process waits for another one's migration before giving up
MIGRATION_LOCK_WAIT = 300.0


@dataclass(frozen=True)
class SQLiteStep:
    info: StepInfo
    apply: Callable[[sqlite3.Connection], None]  # inside the migration's transaction


def _statements(*sql: str) -> Callable[[sqlite3.Connection], None]:
    # one execute per statement: executescript() would COMMIT the migration's transaction
    def apply(db: sqlite3.Connection) -> None:
        for statement in sql:
            db.execute(statement)

    return apply


# Version 1: the layout of the first release, exactly as it created it.
_V1 = _statements(
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS orgs (
        org_id TEXT PRIMARY KEY,
        org_key TEXT UNIQUE,
        doc TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS members (
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (org_id, user_id)
    )""",
    """CREATE TABLE IF NOT EXISTS candidates (
        org_id TEXT NOT NULL,
        candidate_id TEXT NOT NULL,
        email_lower TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (org_id, candidate_id)
    )""",
    # with candidate_id in it, a lookup by email (ORDER BY candidate_id LIMIT 1) is one index
    # search; without, the planner walked every candidate of the org by primary key instead
    "CREATE INDEX IF NOT EXISTS candidates_by_email_id "
    "ON candidates (org_id, email_lower, candidate_id)",
    """CREATE TABLE IF NOT EXISTS timeline (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id TEXT NOT NULL,
        candidate_id TEXT NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS timeline_by_candidate ON timeline (org_id, candidate_id, seq)",
    """CREATE TABLE IF NOT EXISTS bookings (
        org_id TEXT NOT NULL,
        booking_id TEXT NOT NULL,
        recruiter_id TEXT,
        start TEXT,
        doc TEXT NOT NULL,
        PRIMARY KEY (org_id, booking_id)
    )""",
    "CREATE INDEX IF NOT EXISTS bookings_by_start ON bookings (org_id, start)",
    """CREATE TABLE IF NOT EXISTS tracked_links (
        correlation_id TEXT PRIMARY KEY,
        doc TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS oauth_states (
        state TEXT PRIMARY KEY,
        doc TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS dedupe (
        key TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS message_refs (
        org_id TEXT NOT NULL,
        booking_id TEXT NOT NULL,
        target TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (org_id, booking_id, target)
    )""",
    """CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id TEXT NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS audit_by_org ON audit (org_id, seq)",
    """CREATE TABLE IF NOT EXISTS kv (
        namespace TEXT NOT NULL,
        key TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (namespace, key)
    )""",
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL UNIQUE,
        org_id TEXT NOT NULL,
        not_before REAL NOT NULL,
        claimed_by TEXT,
        claimed_at REAL,
        dead INTEGER NOT NULL DEFAULT 0,
        dead_seq INTEGER,
        doc TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (dead, not_before)",
    "CREATE INDEX IF NOT EXISTS outbox_by_org ON outbox (org_id, dead)",
)


def _v2(db: sqlite3.Connection) -> None:
    """Version 2: kv namespaces and claim keys in the store's one key style (`bot.store`).

    Where the new name is already taken (written by a newer Slotbot while an older one still
    ran), what it holds stays and the old name's records fill in only what it lacks; a claim
    held under both names keeps the later expiry. The old names are gone afterwards."""
    for old, new in V2_KV_NAMESPACES.items():
        db.execute(
            "INSERT INTO kv (namespace, key, doc) SELECT ?, key, doc FROM kv "
            "WHERE namespace = ? ON CONFLICT (namespace, key) DO NOTHING",
            (new, old),
        )
        db.execute("DELETE FROM kv WHERE namespace = ?", (old,))
    for old, new in V2_CLAIM_PREFIXES.items():
        # prefixes compared with substr rather than LIKE: "_" and "%" in them are literal
        db.execute(
            "INSERT INTO dedupe (key, expires_at) "
            "SELECT ? || substr(key, ?), expires_at FROM dedupe WHERE substr(key, 1, ?) = ? "
            "ON CONFLICT (key) DO UPDATE SET "
            "expires_at = max(dedupe.expires_at, excluded.expires_at)",
            (new, len(old) + 1, len(old), old),
        )
        db.execute("DELETE FROM dedupe WHERE substr(key, 1, ?) = ?", (len(old), old))


def _v3(db: sqlite3.Connection) -> None:
    """Version 3: a timer is an outbox job with a key (`bot.timers`): the column, and an
    index to find a key's pending job. Jobs written before have none."""
    db.execute("ALTER TABLE outbox ADD COLUMN timer_key TEXT")
    db.execute(
        "CREATE INDEX IF NOT EXISTS outbox_timer ON outbox (timer_key) WHERE timer_key IS NOT NULL"
    )


def _v4(db: sqlite3.Connection) -> None:
    """Version 4: the read API pages through an org's timeline events in order
    (`bot.store.feeds`): an index on (org, seq) makes each page one range scan. The rows
    already hold their order (seq), so nothing moves."""
    db.execute("CREATE INDEX IF NOT EXISTS timeline_by_org ON timeline (org_id, seq)")


STEPS: tuple[SQLiteStep, ...] = (
    SQLiteStep(StepInfo(1, "the first release's tables"), _V1),
    SQLiteStep(StepInfo(2, "kv namespaces and claim keys in one style"), _v2),
    SQLiteStep(StepInfo(3, "timers: outbox jobs with a key"), _v3),
    SQLiteStep(StepInfo(4, "timeline events of an org in order"), _v4),
)
check_numbering(tuple(step.info for step in STEPS))


def read_version(db: sqlite3.Connection) -> int:
    """The store's schema version; 0 for a file nothing has been written to."""
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def status(db: sqlite3.Connection, steps: tuple[SQLiteStep, ...] = STEPS) -> SchemaStatus:
    version = read_version(db)
    infos = tuple(step.info for step in steps)
    return SchemaStatus(version, infos[-1].version, pending_steps(infos, version))


def migrate(
    db: sqlite3.Connection,
    where: str,
    *,
    steps: tuple[SQLiteStep, ...] = STEPS,
    dry_run: bool = False,
    lock_wait: float = MIGRATION_LOCK_WAIT,
    busy_timeout: float = 5.0,
) -> MigrationReport:
    """Bring the store to the last step's version, or refuse it when it is newer.

    With dry_run every pending step runs and is then rolled back: a dry run that passes
    says the migration will pass on this data."""
    code_version = steps[-1].info.version
    db.execute(f"PRAGMA busy_timeout={int(lock_wait * 1000)}")
    try:
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"{where} stayed locked for {lock_wait:.0f}s while starting ({exc}): another "
                "process holds it (a migration, a restore); try again when it has finished"
            ) from None
        try:
            version = read_version(db)
            refuse_newer(where, version, code_version)
            applied: list[StepInfo] = []
            for step in steps:
                if step.info.version <= version:
                    continue
                try:
                    step.apply(db)
                except Exception as exc:
                    raise MigrationFailed(
                        f"{where}: migration step {step.info} failed: {exc}. Nothing was "
                        f"changed: the store is still at schema version {version}."
                    ) from exc
                applied.append(step.info)
            if applied and not dry_run:
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (code_version,))
                db.execute("COMMIT")
            else:
                db.execute("ROLLBACK")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    finally:
        db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    return MigrationReport(version, code_version, tuple(applied), dry_run=dry_run)
