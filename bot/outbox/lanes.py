"""Order per conversation: the outbox worker's lanes (see `bot.outbox.worker` for the promise).

A lane is a document in the store (`LANE_NAMESPACE`, keyed by org and conversation): its
generation `gen`, whose lease (`Store.take_lease`) lets one worker at a time send to the
conversation, and its `pending` entries, the jobs for it that were tried and will be tried
again (or were held back), each with its place in the order and the time of its next try.
The holder hands the lease on by writing the document with the next generation; a holder
with another job for the same conversation next in its batch may keep it instead, writing
the document with the same generation (`HeldLane.keep`), while the lease is young.

This module holds the lane's pure parts: keys, order, entries; the worker does the store
calls.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.chat import DeliveryTarget
from bot.outbox.jobs import Payload
from bot.store.records import Job

LANE_NAMESPACE = "outbox_lanes"
# a postponed job is tried this long after the job it waits for, in its order
LANE_STEP = 0.01
# a lane entry whose job has not come back this long after its time is forgotten (its job was
# removed some other way), so a conversation is never held up for good
LANE_GRACE = 60.0
# a lease is kept from one job of a batch to the next for the same conversation (rather than
# handed on and taken again: two store writes fewer) only while it is younger than this share
# of its time to live, so the next job still has most of it
KEEP_LEASE = 0.25

LaneDoc = tuple[str, str, dict[str, object]]  # (namespace, key, document) for kv_put


def lane_key(job: Job, target: DeliveryTarget) -> str:
    return f"{job.org_id}|{target.key}"


def job_order(job: Job, payload: Payload) -> tuple[float, int, str]:
    """Jobs of one conversation go out in this order: accepted first, then booking version."""
    return (job.created_at, payload.seq, job.job_id)


def _as_order(value: list[Any]) -> tuple[float, int, str]:
    try:
        return (float(value[0]), int(value[1]), str(value[2]))
    except (IndexError, TypeError, ValueError):
        return (0.0, 0, "")


def live_entries(raw: object, job: Job, *, stale_before: float) -> dict[str, dict[str, Any]]:
    """The lane's pending entries worth waiting for: well-formed, not `job`'s own (it is being
    tried now), and not long past their time."""
    pending: dict[str, dict[str, Any]] = {}
    for job_id, entry in (raw if isinstance(raw, dict) else {}).items():
        if (
            job_id != job.job_id
            and isinstance(entry, dict)
            and isinstance(entry.get("until"), int | float)
            and isinstance(entry.get("order"), list)
            and entry["until"] >= stale_before
        ):
            pending[job_id] = entry
    return pending


@dataclasses.dataclass
class HeldLane:
    """A conversation's lease as its holder sees it, for the job in hand."""

    lane: str
    gen: int
    pending: dict[str, dict[str, Any]]  # job id -> {"order": [...], "until": epoch}
    taken_at: float  # when the lease was taken (the worker's monotonic clock)
    keep: bool = False  # the job in hand leaves the lease to the next job, not handed on
    written: bool = False  # the job in hand's entry is written (its ack carried it, say)
    left: bool = False  # the lease was handed on

    def start(self, job: Job, *, now: float, visibility_timeout: float) -> None:
        """A job takes the lane in hand: nothing of it is written yet, and the entries that
        are not worth waiting for are dropped."""
        self.keep = self.written = False
        stale_before = now - visibility_timeout - LANE_GRACE
        self.pending = live_entries(self.pending, job, stale_before=stale_before)

    def wait_until(self, job: Job, payload: Payload, *, now: float) -> float | None:
        """When `job` may go, if an older job for the conversation is waiting (else None)."""
        order = job_order(job, payload)
        older = [e["until"] for e in self.pending.values() if _as_order(e["order"]) < order]
        return max(max(older), now) + LANE_STEP if older else None

    def young(self, now: float, time_to_live: float) -> bool:
        return now - self.taken_at < time_to_live * KEEP_LEASE

    def entry(self, job: Job, payload: Payload, next_try: float | None) -> LaneDoc:
        """The lane as the job in hand leaves it: listing the job when it is tried again
        (`next_try`), in the next generation unless the lease is kept."""
        pending = dict(self.pending)
        if next_try is not None:
            pending[job.job_id] = {"order": list(job_order(job, payload)), "until": next_try}
        gen = self.gen if self.keep else self.gen + 1
        return LANE_NAMESPACE, self.lane, {"gen": gen, "pending": pending}

    def handed_on(self) -> LaneDoc:
        """The lane as a holder that kept the lease leaves it when it has no job left."""
        return LANE_NAMESPACE, self.lane, {"gen": self.gen + 1, "pending": dict(self.pending)}

    def wrote(self, doc: LaneDoc) -> None:
        """`doc` (from `entry`) is stored."""
        pending = doc[2]["pending"]
        assert isinstance(pending, dict)
        self.pending = pending
        self.written = True
        self.left = not self.keep
