"""The Redis side of copies, backups and restores: what the store holds under its prefix,
read a page at a time, written a batch per script call, counted, cleared.

Keys are found with SCAN, which may name a key twice while Redis resizes its key table; the
names already read are remembered (key names only, never their records), so nothing is read
twice. Inside a key, HSCAN and LRANGE read pages; copy from a store nothing is writing to
(stop Slotbot first), as a hash being written while it is read may be read with gaps.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from bot.store.feeds import MAX_PAGE
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
from bot.store.redis.schema import LOCK_KEY, VERSION_KEY, glob_escape
from bot.store.transfer import (
    BATCH,
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

if TYPE_CHECKING:
    from bot.store.redis import RedisStore

PAGE = 500
NO_EXPIRY = 10 * 365 * 86400.0  # a claim without a time to live: kept ten years


class _Batches:
    """Collects items and hands them out BATCH at a time."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def add(self, items: list[Item]) -> list[Item] | None:
        self.items += items
        if len(self.items) < BATCH:
            return None
        full, self.items = self.items, []
        return full


# Kinds kept in lists: read twice, a list's entries would be copied twice. Their key names
# (one per candidate, one per org) are remembered while SCAN runs; for every other kind a key
# SCAN names twice is written twice to the same effect, and nothing is remembered.
_LISTS = frozenset({"timeline", "audit"})


async def _keys(store: RedisStore, name: str) -> AsyncIterator[tuple[str, str]]:
    """(key, the part after `<prefix><name>:`) of every key under that name; a list's key
    only once."""
    start = store._key(name, "")
    seen: set[str] | None = set() if name in _LISTS or name == "events" else None
    async for key in store._r.scan_iter(match=glob_escape(start) + "*", count=PAGE):
        if seen is not None:
            if key in seen:
                continue
            seen.add(key)
        yield key, key[len(start) :]


async def _hash_pages(store: RedisStore, key: str) -> AsyncIterator[list[tuple[str, str]]]:
    cursor = 0
    while True:
        cursor, page = await store._r.hscan(key, cursor, count=PAGE)
        if page:
            yield list(cast("dict[str, str]", page).items())
        if cursor == 0:
            return


async def _hash_records(store: RedisStore, key: str, cls: type[Any]) -> AsyncIterator[list[Item]]:
    async for page in _hash_pages(store, key):
        yield [from_json(cls, doc) for _field, doc in page]


def _ids(suffix: str) -> tuple[str, str]:
    """The two ids joined in a key by `connection.part`."""
    first, second = suffix.split("|", 1)
    return unquote(first), unquote(second)


async def export(store: RedisStore) -> AsyncIterator[list[Item]]:
    """Every record, in `transfer.KINDS` order, BATCH at a time."""
    batches = _Batches()
    async for items in _export_pages(store):
        full = batches.add(items)
        if full is not None:
            yield full
    if batches.items:
        yield batches.items


async def _export_pages(store: RedisStore) -> AsyncIterator[list[Item]]:
    r = store._r
    async for items in _hash_records(store, store._key("orgs"), Org):
        yield items
    for name, cls in (("members", Member), ("candidates", Candidate)):
        async for key, _org in _keys(store, name):
            async for items in _hash_records(store, key, cls):
                yield items
    # timelines in each org's order (its event index, `feeds`), so the store they land in
    # keeps it; then any entry the index does not name (none, unless written by hand), so
    # nothing is left behind
    served: set[tuple[str, str, int]] = set()
    async for _key, org_id in _keys(store, "events"):
        after = None
        while True:
            rows, last = await store._indexed_events(org_id, after, min(PAGE, MAX_PAGE))
            if last is None:
                break
            served.update((org_id, row.candidate_id, place) for row, place in rows)
            yield [TimelineItem(org_id, row.candidate_id, row.entry) for row, _place in rows]
            after = last
    async for key, suffix in _keys(store, "timeline"):
        org_id, candidate_id = _ids(suffix)
        length = int(await r.llen(key))
        for start in range(0, length, PAGE):
            docs = cast("list[str]", await r.lrange(key, start, start + PAGE - 1))
            yield [
                TimelineItem(org_id, candidate_id, from_json(TimelineEntry, doc))
                for place, doc in enumerate(docs, start=start)
                if (org_id, candidate_id, place) not in served
            ]
    async for key, _org in _keys(store, "bookings"):
        async for items in _hash_records(store, key, Booking):
            yield items
    async for items in _hash_records(store, store._key("links"), TrackedLink):
        yield items
    async for page in _key_pages(store, "oauth_state"):
        docs = await _pipeline(store, [("GET", key) for key, _ in page])
        yield [from_json(OAuthState, doc) for doc in docs if doc is not None]
    async for page in _key_pages(store, "once"):
        now = time.time()
        ttls = await _pipeline(store, [("PTTL", key) for key, _ in page])
        yield [
            ClaimItem(claim, now + (NO_EXPIRY if ttl == -1 else ttl / 1000))
            for (_key, claim), ttl in zip(page, ttls, strict=True)
            if ttl is not None and (ttl > 0 or ttl == -1)
        ]
    async for key, suffix in _keys(store, "message_refs"):
        org_id, booking_id = _ids(suffix)
        refs = cast("dict[str, str]", await r.hgetall(key))
        yield [
            MessageRefItem(org_id, booking_id, target, from_json(MessageRef, doc))
            for target, doc in sorted(refs.items())
        ]
    async for key, _org_id in _keys(store, "audit"):
        # the list is newest first: read it from its end, so entries go out oldest first
        length = int(await r.llen(key))
        for end in range(length - 1, -1, -PAGE):
            docs = cast("list[str]", await r.lrange(key, max(0, end - PAGE + 1), end))
            yield [from_json(AuditEntry, doc) for doc in reversed(docs)]
    async for key, namespace in _keys(store, "kv"):
        async for page in _hash_pages(store, key):
            yield [KvItem(namespace, field, json.loads(doc)) for field, doc in page]
    async for job_keys in _key_pages(store, "outbox:job"):
        rows = await _pipeline(store, [("HGETALL", key) for key, _ in job_keys])
        yield [QueuedJob(job) for job in _jobs(rows) if not job.dead_reason]
    async for dead in _dead_pages(store):
        yield dead


async def _key_pages(store: RedisStore, name: str) -> AsyncIterator[list[tuple[str, str]]]:
    page: list[tuple[str, str]] = []
    async for key, suffix in _keys(store, name):
        page.append((key, suffix))
        if len(page) >= PAGE:
            yield page
            page = []
    if page:
        yield page


async def _pipeline(store: RedisStore, commands: list[tuple[Any, ...]]) -> list[Any]:
    pipe = store._r.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    replies: list[Any] = await pipe.execute()
    return replies


def _jobs(rows: list[Any]) -> list[Job]:
    """Jobs from their hashes (attempts and not_before are kept beside the doc); a dead job
    has its reason in `dead_reason`. Hashes without a doc (half gone) are skipped."""
    jobs = []
    for row in rows:
        fields = cast("dict[str, str]", row or {})
        if "doc" not in fields:
            continue
        job = from_json(Job, fields["doc"])
        job.attempts = int(fields.get("attempts", job.attempts))
        job.not_before = float(fields.get("not_before", job.not_before))
        if fields.get("state") == "dead":
            job.dead_reason = fields.get("dead_reason") or job.dead_reason or "dead"
        else:
            job.dead_reason = ""
        jobs.append(job)
    return jobs


async def _dead_pages(store: RedisStore) -> AsyncIterator[list[Item]]:
    """Dead letters in the order they died (the dead stream's order)."""
    start = "-"
    while True:
        entries = cast(
            "list[tuple[str, dict[str, str]]]",
            await store._r.xrange(store._dead, min=start, count=PAGE),
        )
        if not entries:
            return
        rows = await _pipeline(
            store, [("HGETALL", store._job_key(fields["job_id"])) for _, fields in entries]
        )
        yield [DeadJob(job) for job in _jobs(rows) if job.dead_reason]
        if len(entries) < PAGE:
            return
        start = "(" + entries[-1][0]


async def write_batch(store: RedisStore, items: list[Item]) -> None:
    """Every record in one script call (all or nothing); dead letters after it, grouped by
    reason (the dead-letter script takes one reason per call)."""
    ops: list[list[Any]] = []
    dead: list[Job] = []
    now = time.time()
    for item in items:
        if isinstance(item, Org):
            ops += store._org_ops(item)
        elif isinstance(item, Member):
            ops.append(["HSET", store._key("members", item.org_id), item.user_id, to_json(item)])
        elif isinstance(item, Candidate):
            ops += store._candidate_ops(item)
        elif isinstance(item, TimelineItem):
            # the org's event index is rebuilt as the entries arrive, in the order they come
            ops.append(store._timeline_op(item.org_id, item.candidate_id, item.entry))
        elif isinstance(item, Booking):
            ops += store._booking_ops(item)
        elif isinstance(item, TrackedLink):
            ops.append(["HSET", store._key("links"), item.correlation_id, to_json(item)])
        elif isinstance(item, OAuthState):
            ops.append(["SET", *store._oauth_state_args(item)])
        elif isinstance(item, ClaimItem):
            left = round((item.expires_at - now) * 1000)
            if left > 0:
                ops.append(["SET", store._key("once", item.key), "1", "PX", left])
        elif isinstance(item, MessageRefItem):
            key = store._message_refs_key(item.org_id, item.booking_id)
            ops.append(["HSET", key, item.target, to_json(item.ref)])
        elif isinstance(item, AuditEntry):
            ops.append(["LPUSH", store._key("audit", item.org_id), to_json(item)])
        elif isinstance(item, KvItem):
            doc = json.dumps(item.value, separators=(",", ":"), sort_keys=True)
            ops.append(["HSET", store._key("kv", item.namespace), item.key, doc])
        elif isinstance(item, QueuedJob):
            ops += store._enqueue_ops([item.job])
        elif isinstance(item, DeadJob):
            dead.append(item.job)
        else:  # pragma: no cover - the Item union is closed
            raise TypeError(f"not a store item: {type(item).__name__}")
    if ops:
        await store._run(ops)
    start = 0
    while start < len(dead):
        reason = dead[start].dead_reason
        end = start
        while end < len(dead) and dead[end].dead_reason == reason:
            end += 1
        await store._dead_letter(dead[start:end], reason)
        start = end


_HASHES = ("members", "candidates", "bookings", "message_refs", "kv")
_STRINGS = ("oauth_state", "once")


async def count(store: RedisStore) -> Counts:
    r = store._r
    counts = zero_counts()
    counts["org"] = int(await r.hlen(store._key("orgs")))
    counts["link"] = int(await r.hlen(store._key("links")))
    kinds = {
        "members": "member",
        "candidates": "candidate",
        "bookings": "booking",
        "message_refs": "message_ref",
        "kv": "kv",
        "timeline": "timeline",
        "audit": "audit",
        "oauth_state": "oauth_state",
        "once": "claim",
    }
    for name, kind in kinds.items():
        async for page in _key_pages(store, name):
            if name in _HASHES:
                sizes = await _pipeline(store, [("HLEN", key) for key, _ in page])
            elif name in _LISTS:
                sizes = await _pipeline(store, [("LLEN", key) for key, _ in page])
            else:
                sizes = [1] * len(page)
            counts[kind] += sum(int(size) for size in sizes)
    async for page in _key_pages(store, "outbox:job"):
        states = await _pipeline(store, [("HGET", key, "state") for key, _ in page])
        counts["job"] += sum(1 for state in states if state is not None and state != "dead")
    counts["dead_job"] = int(await r.xlen(store._dead))
    return counts


async def clear(store: RedisStore) -> None:
    """Delete every key under the prefix but the schema version (and a migration's lock)."""
    keep = {store._key(VERSION_KEY), store._key(LOCK_KEY)}
    page: list[str] = []
    async for key in store._r.scan_iter(match=glob_escape(store._key("")) + "*", count=PAGE):
        if key not in keep:
            page.append(key)
        if len(page) >= PAGE:
            await store._r.unlink(*page)
            page = []
    if page:
        await store._r.unlink(*page)
