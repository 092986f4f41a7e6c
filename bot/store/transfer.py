"""Everything a store holds, as a stream of typed items: what `store copy`, `backup` and
`restore` move between stores and files.

Each store can list what it holds as items (`Store.export_records`, in batches, in an order
that keeps timelines, audit logs and dead letters in theirs), write items it is given
(`Store.import_records`) and count what it holds per kind (`Store.count_records`). Items are
the store's own records, plus a few wrappers for what has no record of its own: a timeline
entry with its candidate, a message reference with its booking, a kv document, a dedupe claim,
a queued or dead-lettered job. Secrets travel as the store holds them: still encrypted.

A job a worker was holding when the copy was made travels as queued: the store it lands in
delivers it (a job may be delivered twice, never lost; the worker's sent markers, which travel
too, keep that from showing twice).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from bot.errors import TransferError
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
    from_dict,
    to_dict,
)

BATCH = 500  # items per batch: one transaction (SQLite) or one script call (Redis)


@dataclass
class TimelineItem:
    org_id: str
    candidate_id: str
    entry: TimelineEntry


@dataclass
class MessageRefItem:
    org_id: str
    booking_id: str
    target: str
    ref: MessageRef


@dataclass
class KvItem:
    namespace: str
    key: str
    value: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClaimItem:
    """A dedupe claim (`claim_once`), with the moment it lapses."""

    key: str
    expires_at: float


@dataclass
class QueuedJob:
    job: Job


@dataclass
class DeadJob:
    job: Job  # job.dead_reason says why


Item: TypeAlias = (
    Org
    | Member
    | Candidate
    | TimelineItem
    | Booking
    | TrackedLink
    | OAuthState
    | ClaimItem
    | MessageRefItem
    | AuditEntry
    | KvItem
    | QueuedJob
    | DeadJob
)

# kind name -> item type, in the order stores export them (a record before what refers to it)
KINDS: dict[str, type[Any]] = {
    "org": Org,
    "member": Member,
    "candidate": Candidate,
    "timeline": TimelineItem,
    "booking": Booking,
    "link": TrackedLink,
    "oauth_state": OAuthState,
    "claim": ClaimItem,
    "message_ref": MessageRefItem,
    "audit": AuditEntry,
    "kv": KvItem,
    "job": QueuedJob,
    "dead_job": DeadJob,
}
KIND_OF: dict[type[Any], str] = {cls: kind for kind, cls in KINDS.items()}
# kinds that lapse on their own: a copy may find fewer of them at the end than it read
EXPIRING = frozenset({"claim", "oauth_state"})

Counts: TypeAlias = dict[str, int]


def zero_counts() -> Counts:
    return dict.fromkeys(KINDS, 0)


# wrappers hold records: how to rebuild each from its stored dict
_INNER: dict[type[Any], tuple[str, type[Any]]] = {
    TimelineItem: ("entry", TimelineEntry),
    MessageRefItem: ("ref", MessageRef),
    QueuedJob: ("job", Job),
    DeadJob: ("job", Job),
}


def kind_of(item: Item) -> str:
    return KIND_OF[type(item)]


def item_to_dict(item: Item) -> dict[str, Any]:
    return {"kind": kind_of(item), "record": to_dict(item)}


def item_from_dict(data: Mapping[str, Any]) -> Item:
    """An item from its dict form; TransferError for anything else."""
    kind = data.get("kind")
    record = data.get("record")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None or not isinstance(record, dict):
        raise TransferError(f"not a Slotbot record: kind {kind!r}")
    try:
        inner = _INNER.get(cls)
        if inner is not None:
            name, inner_cls = inner
            inner_record = record.get(name)
            if not isinstance(inner_record, dict):
                raise TypeError(f"{name} is not an object")
            record = {**record, name: from_dict(inner_cls, inner_record)}
        item: Item = from_dict(cls, record)
    except (TypeError, ValueError) as exc:
        raise TransferError(f"a {kind} record does not read back: {exc}") from None
    return item


def encode_item(item: Item) -> str:
    return json.dumps(item_to_dict(item), separators=(",", ":"), sort_keys=True)


class RecordSource(Protocol):
    def export_records(self) -> AsyncIterator[list[Item]]: ...


class RecordTarget(Protocol):
    async def import_records(self, items: list[Item]) -> None: ...


async def pour(
    source: AsyncIterator[list[Item]],
    target: RecordTarget,
    *,
    on_batch: Callable[[Counts], None] | None = None,
) -> Counts:
    """Write every batch of `source` into `target`; returns how many items of each kind."""
    moved = zero_counts()
    async for batch in source:
        if not batch:
            continue
        await target.import_records(batch)
        for item in batch:
            moved[kind_of(item)] += 1
        if on_batch is not None:
            on_batch(moved)
    return moved


def compare_counts(source: Counts, target: Counts) -> list[str]:
    """What differs between two stores' counts, in words; empty when they agree. Kinds that
    lapse on their own may have fewer in the target (they lapsed while the copy ran)."""
    problems = []
    for kind in KINDS:
        have, want = target.get(kind, 0), source.get(kind, 0)
        if have == want or (kind in EXPIRING and have < want):
            continue
        problems.append(f"{kind}: {want} in the source, {have} in the target")
    return problems


def batched(items: list[Item], size: int = BATCH) -> list[list[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
