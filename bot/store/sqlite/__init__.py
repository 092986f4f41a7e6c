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

Where things are:

    connection    the file, its thread (thread), open / migrate / close, the error decorator
    schema        the tables of each schema version: numbered steps and the runner
    rows          the statements and row builders the operations and copies share
    orgs          orgs and members
    profiles      candidates, timelines, bookings, tracked links, message references
    events        accepted callbacks, committed in groups
    outbox        jobs, dead letters, claims (dedupe)
    housekeeping  audit, kv, OAuth states; export / import / count / clear for copies
    feeds         an org's timeline events and audit log in pages, by sequence number
    erasure       a candidate erased, data past retention erased
    transfer      copies and backups: every table read a page at a time, written, counted
"""

from __future__ import annotations

from bot.store.sqlite.connection import FILE_MODE, sidecar_files
from bot.store.sqlite.erasure import ErasureMixin
from bot.store.sqlite.events import EventsMixin
from bot.store.sqlite.feeds import FeedsMixin
from bot.store.sqlite.housekeeping import HousekeepingMixin
from bot.store.sqlite.orgs import OrgsMixin
from bot.store.sqlite.outbox import OutboxMixin
from bot.store.sqlite.profiles import ProfilesMixin


class SQLiteStore(
    OrgsMixin,
    EventsMixin,
    ProfilesMixin,
    OutboxMixin,
    HousekeepingMixin,
    FeedsMixin,
    ErasureMixin,
):
    """The Store protocol (`bot.store.base`) on one SQLite file."""


__all__ = ["FILE_MODE", "SQLiteStore", "sidecar_files"]
