"""The Store protocol: every piece of state Slotbot keeps, behind one interface.

Two real implementations (`bot.store.sqlite.SQLiteStore`, `bot.store.redis.RedisStore`)
pass one contract suite (`tests/bot/store/test_contract.py`). All methods are async;
times are epoch seconds; `now` parameters exist so tests can drive the clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from bot.store.erasure import ErasureCounts
from bot.store.feeds import AuditPage, EventPage
from bot.store.lease import Lease
from bot.store.migrations import MigrationReport, SchemaStatus
from bot.store.records import (
    AuditEntry,
    Booking,
    BookingMessage,
    Candidate,
    EventWrite,
    Job,
    Member,
    MessageRef,
    OAuthState,
    Org,
    TimelineEntry,
    TrackedLink,
)
from bot.store.transfer import Counts, Item


@runtime_checkable
class Store(Protocol):
    # lifecycle -------------------------------------------------------------
    async def open(self, *, migrate: bool = True) -> None:
        """Connect, and bring the store to this Slotbot's schema version under a lock
        (StoreTooNew for a store a newer Slotbot wrote). migrate=False only connects."""

    async def close(self) -> None: ...
    async def ping(self) -> None:
        """Raise StoreUnavailable when the store does not answer."""

    @property
    def where(self) -> str:
        """The store in words, for messages (no password)."""

    # schema ----------------------------------------------------------------
    async def schema_status(self) -> SchemaStatus: ...
    async def migrate(self, *, dry_run: bool = False) -> MigrationReport: ...

    # everything at once: copies, backups, restores (bot.store.transfer) -----
    def export_records(self) -> AsyncIterator[list[Item]]:
        """Every record in batches, kind by kind in transfer.KINDS order, each kind in its
        own order (timelines and audit logs oldest first, dead letters in the order they
        died). Memory does not grow with the store."""

    async def import_records(self, items: list[Item]) -> None:
        """Write a batch of items as export_records gives them."""

    async def count_records(self) -> Counts: ...
    async def clear(self) -> None:
        """Delete every record; the store stays at its schema version."""

    # orgs ------------------------------------------------------------------
    async def get_org(self, org_id: str) -> Org | None: ...
    async def get_org_by_key(self, org_key: str) -> Org | None: ...
    async def put_org(self, org: Org) -> None:
        """Insert or replace; keeps the org_key index in step (old key released)."""

    async def list_orgs(self) -> list[Org]: ...

    # members ---------------------------------------------------------------
    async def get_member(self, org_id: str, user_id: str) -> Member | None: ...
    async def put_member(self, member: Member) -> None: ...
    async def delete_member(self, org_id: str, user_id: str) -> None: ...
    async def list_members(self, org_id: str) -> list[Member]: ...

    # candidates and their timeline ----------------------------------------
    async def get_candidate(self, org_id: str, candidate_id: str) -> Candidate | None: ...
    async def find_candidate_by_email(self, org_id: str, email: str) -> Candidate | None:
        """Email match is case-insensitive."""

    async def put_candidate(self, candidate: Candidate) -> None: ...
    async def append_timeline(
        self, org_id: str, candidate_id: str, entry: TimelineEntry
    ) -> None: ...
    async def list_timeline(
        self, org_id: str, candidate_id: str, limit: int = 50
    ) -> list[TimelineEntry]:
        """Oldest first, the last `limit` entries."""

    # bookings --------------------------------------------------------------
    async def get_booking(self, org_id: str, booking_id: str) -> Booking | None: ...
    async def put_booking(self, booking: Booking) -> None: ...
    async def list_bookings(
        self, org_id: str, *, recruiter_id: str | None = None, start_after: str | None = None
    ) -> list[Booking]:
        """Bookings of an org (optionally one recruiter's) whose ISO start sorts after
        `start_after`, soonest first."""

    # tracked links ---------------------------------------------------------
    async def put_tracked_link(self, link: TrackedLink) -> None: ...
    async def get_tracked_link(self, correlation_id: str) -> TrackedLink | None: ...

    # erasure (`bot.store.erasure`) -----------------------------------------
    async def erase_candidate(
        self, org_id: str, candidate_id: str, *, jobs: Sequence[Job] = ()
    ) -> ErasureCounts:
        """Remove a candidate and all that holds their data, in one step: the profile and its
        email index, the timeline, their bookings with the message references of each, the
        tracked links handed to them, and every job of the org (pending, timer or dead
        letter) whose payload names them or one of their bookings. `jobs` are queued in the
        same step (the posted alerts changed to "removed"). Nothing found: all counts 0."""
        ...

    async def erase_older_than(self, org_id: str, cutoff: float) -> ErasureCounts:
        """Retention: remove the org's timeline entries recorded before `cutoff`, its bookings
        that ended before it (with their message references), and then the candidates first
        seen before it who have nothing left on record (with their tracked links)."""
        ...

    # OAuth states ----------------------------------------------------------
    async def put_oauth_state(self, state: OAuthState) -> None: ...
    async def consume_oauth_state(self, state: str) -> OAuthState | None:
        """Atomically remove and return the state; None when unknown or already used.
        Expired states are returned too (the caller tells the user it expired)."""

    # dedupe ----------------------------------------------------------------
    async def claim_once(self, key: str, ttl: float) -> bool:
        """Set-if-absent with a time to live: True the first time within `ttl` seconds."""

    async def release_claim(self, key: str) -> None:
        """Forget a claim, so the next `claim_once(key)` succeeds: for work that failed
        after claiming and should run again when the sender retries."""

    async def take_lease(self, namespace: str, key: str, ttl: float) -> Lease:
        """A lease handed on through a kv document, read and taken in one step: the document
        at (namespace, key) (empty when absent), and whether this caller claimed its
        generation, `claim_once(f"{namespace}:{key}:{gen}", ttl)` with `gen` the document's
        integer "gen" (0 when missing). The holder hands the lease on by writing the
        document with gen + 1."""

    # accepted events, in one step -----------------------------------------
    async def commit_event(self, write: EventWrite) -> bool:
        """Claim write.dedupe_key and write everything in it atomically.
        False (and nothing written) when the key was already claimed."""

    # message references ----------------------------------------------------
    async def put_message_ref(
        self, org_id: str, booking_id: str, target: str, ref: MessageRef
    ) -> None:
        """`target` names the destination (e.g. "channel:C123", "dm:U42")."""

    async def get_message_refs(self, org_id: str, booking_id: str) -> dict[str, MessageRef]: ...

    # audit -----------------------------------------------------------------
    async def append_audit(self, entry: AuditEntry) -> None: ...
    async def list_audit(self, org_id: str, limit: int = 50) -> list[AuditEntry]:
        """Newest first."""

    # feeds (`bot.store.feeds`): what the read API pages through ---------------
    async def list_org_events(
        self, org_id: str, after: str | None = None, limit: int = 100
    ) -> EventPage:
        """The org's timeline entries in the order they were written, after a position
        (None: from the first); `limit` within 1..MAX_PAGE. BadPosition for a position this
        store never gave out."""
        ...

    async def list_audit_after(
        self, org_id: str, after: str | None = None, limit: int = 100
    ) -> AuditPage:
        """The org's audit entries oldest first, after a position (as list_org_events)."""
        ...

    # generic namespaced documents (Slack installations, Teams conversation
    # references, ...): adapters keep their own shapes here ---------------
    async def kv_get(self, namespace: str, key: str) -> dict[str, object] | None: ...
    async def kv_put(self, namespace: str, key: str, value: dict[str, object]) -> None: ...
    async def kv_delete(self, namespace: str, key: str) -> None: ...
    async def kv_list(self, namespace: str, prefix: str = "") -> dict[str, dict[str, object]]: ...

    # outbox ----------------------------------------------------------------
    async def enqueue(self, jobs: list[Job]) -> None:
        """Queue jobs; a job with a `timer_key` replaces the pending job of that key."""
        ...

    # timers (`bot.timers`): outbox jobs with a key and a due time ----------
    async def cancel_timers(self, keys: list[str]) -> int:
        """Remove the pending jobs of these keys; returns how many there were. A job a
        worker is sending right now may still be sent once, and never again."""
        ...

    async def get_timer(self, key: str) -> Job | None:
        """The pending job of a timer key (not yet done, not dead)."""
        ...

    async def due_lag(self, now: float) -> float:
        """How long the oldest job that is due has waited for a worker (0: none waits)."""
        ...

    async def claim_jobs(
        self, consumer: str, *, limit: int, visibility_timeout: float, now: float | None = None
    ) -> list[Job]:
        """Jobs that are due (not_before <= now) and not held by another consumer, plus jobs
        whose holder has not acked within `visibility_timeout` (a crashed worker).
        Each returned job's `attempts` is already incremented for this try."""

    async def extend_claims(self, consumer: str, job_ids: list[str], *, now: float) -> None:
        """The consumer is still working on these jobs: their visibility timeout starts again
        from `now`. A job another consumer has claimed since is left to it."""
        ...

    async def ack_job(
        self,
        job_id: str,
        *,
        kv_deletes: Sequence[tuple[str, str]] = (),
        kv_puts: Sequence[tuple[str, str, dict[str, object]]] = (),
        messages: Sequence[BookingMessage] = (),
    ) -> None:
        """Forget a job that was done; in the same write (one transaction, one script), delete
        the kv documents `kv_deletes` (namespace, key), put `kv_puts` (namespace, key,
        value) and record the booking messages `messages` (as `put_message_ref` does),
        whether or not the job was still there to forget."""

    async def retry_job(self, job: Job, *, at: float, error: str, max_attempts: int) -> bool:
        """Schedule another try at `at`; once job.attempts >= max_attempts the job is
        dead-lettered instead. True when it was retried, False when dead-lettered."""

    async def dead_letter_job(self, job: Job, reason: str) -> None: ...
    async def dead_letter_org_jobs(self, org_id: str, reason: str) -> int:
        """Dead-letter every pending job of an org (app uninstalled); returns how many."""

    async def list_dead_letters(self, org_id: str | None = None, limit: int = 100) -> list[Job]: ...
    async def requeue_dead_letters(self, job_ids: list[str] | None = None) -> int:
        """Move dead letters (all, or these) back to the queue with attempts reset."""

    async def outbox_depth(self) -> int:
        """Jobs pending or in flight (not dead)."""
