"""The Redis store's migrations: numbered steps, each safe to run again, under a lock key.

Redis cannot roll back a change to many keys, so a step is written to be re-run over its own
partial work (copy before delete, set rather than add); the version is recorded after each
step, so a run that fails resumes at the step that failed. One process migrates at a time:
it holds `<prefix>migration_lock` (SET NX with a time to live it keeps extending while it
works; a process that dies lets it lapse), and the others wait, then find the store current.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote

import redis.asyncio as aioredis

from bot.errors import MigrationFailed, StoreError
from bot.store.migrations import (
    MigrationReport,
    SchemaStatus,
    StepInfo,
    check_numbering,
    pending_steps,
    refuse_newer,
)
from bot.store.migrations.renames import V2_KV_NAMESPACES, v2_claim_key

VERSION_KEY = "schema_version"
LOCK_KEY = "migration_lock"
LOCK_TTL = 30.0  # seconds a dead migrator keeps the others waiting
MIGRATION_LOCK_WAIT = 300.0  # how long a starting process waits for another one's migration
_POLL = 0.1

# Release or extend the lock only while it is still ours (it may have lapsed and been taken).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


@dataclass(frozen=True)
class RedisStep:
    info: StepInfo
    # (client, key prefix); must be safe to run again after a partial run
    apply: Callable[[aioredis.Redis, str], Awaitable[None]]


async def _v1(client: aioredis.Redis, prefix: str) -> None:
    """The first release's keys are made as they are written: nothing to create."""


# Move one key to its new name, in one step. KEYS: old name, new name. Only the old name:
# RENAME (a claim keeps its time to live). Both names (written by a newer Slotbot while an
# older one still ran): a kv hash keeps the new name's fields and takes the old name's others;
# a claim stands until the later of its two expiries. Then the old name is gone. Nothing under
# the old name: nothing to do, so a re-run over keys already moved changes nothing.
_MOVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
if redis.call('TYPE', KEYS[1]).ok == 'hash' then
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    redis.call('HSETNX', KEYS[2], fields[i], fields[i + 1])
  end
else
  local old, new = redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2])
  if old == -1 then
    redis.call('PERSIST', KEYS[2])
  elseif new ~= -1 and old > new then
    redis.call('PEXPIRE', KEYS[2], old)
  end
end
redis.call('DEL', KEYS[1])
return 2
"""
_MOVE_BATCH = 500  # keys moved per round trip


async def _v2(client: aioredis.Redis, prefix: str) -> None:
    """Version 2: kv namespaces and claim keys in the store's one key style (`bot.store`).

    Each key moves in one script (`_MOVE`), so a run cut short leaves every key either moved
    or not, and running the step again moves the rest. Claims are found with SCAN and moved
    a page at a time: the step never holds more than a page of key names."""
    sha = await client.script_load(_MOVE)

    async def move(pairs: list[tuple[str, str]]) -> None:
        pipe = client.pipeline(transaction=False)
        for old, new in pairs:
            pipe.evalsha(sha, 2, old, new)
        await pipe.execute()

    await move(
        [(f"{prefix}kv:{old}", f"{prefix}kv:{new}") for old, new in V2_KV_NAMESPACES.items()]
    )
    claims = prefix + "once:"
    page: list[tuple[str, str]] = []
    # a key SCAN names twice is moved once: the second time its old name is gone
    async for key in client.scan_iter(match=glob_escape(claims) + "*", count=1000):
        claim = key[len(claims) :]
        renamed = v2_claim_key(claim)
        if renamed != claim:
            page.append((key, claims + renamed))
        if len(page) >= _MOVE_BATCH:
            await move(page)
            page = []
    if page:
        await move(page)


async def _v3(client: aioredis.Redis, prefix: str) -> None:
    """Version 3: a timer is an outbox job with a key (`bot.timers`), found through the
    `outbox:timers` hash. Nothing written before has a key, so nothing moves; the step
    records that the store may now hold them."""
    del client, prefix


_BACKFILL_PAGE = 1000  # timeline entries read per round trip


async def _v4(client: aioredis.Redis, prefix: str) -> None:
    """Version 4: each org's event index (`<p>events:<org>`, `bot.store.redis.feeds`), a
    stream of references to its timeline entries in order, filled from the timelines already
    stored, oldest `at` first (ties in candidate and list order).

    Each org's index is rebuilt whole, in one MULTI: deleted, then written again. A run cut
    short leaves each org indexed or not, and running the step again rebuilds the same index,
    so it is safe to re-run. Processes of this version wait for the migration lock before
    writing, and older ones write no index, so nothing is appended while it is rebuilt."""
    start = prefix + "timeline:"
    by_org: dict[str, list[str]] = {}
    async for key in client.scan_iter(match=glob_escape(start) + "*", count=1000):
        org_part = key[len(start) :].split("|", 1)[0]
        keys = by_org.setdefault(unquote(org_part), [])
        if key not in keys:  # SCAN may name a key twice
            keys.append(key)
    for org_id, keys in by_org.items():
        refs: list[tuple[float, str, int, str]] = []
        for key in keys:
            candidate_id = unquote(key[len(start) :].split("|", 1)[1])
            length = int(await client.llen(key))
            for first in range(0, length, _BACKFILL_PAGE):
                docs = await client.lrange(key, first, first + _BACKFILL_PAGE - 1)
                for place, doc in enumerate(docs, start=first):
                    at = float(json.loads(doc).get("at", 0.0))
                    refs.append((at, candidate_id, place, repr(at)))
        refs.sort(key=lambda ref: (ref[0], ref[1], ref[2]))
        stream = f"{prefix}events:{org_id}"
        pipe = client.pipeline(transaction=True)
        pipe.delete(stream)
        for _at, candidate_id, place, at_text in refs:
            pipe.xadd(stream, {"c": candidate_id, "p": place, "a": at_text})
        await pipe.execute()


STEPS: tuple[RedisStep, ...] = (
    RedisStep(StepInfo(1, "the first release's keys"), _v1),
    RedisStep(StepInfo(2, "kv namespaces and claim keys in one style"), _v2),
    RedisStep(StepInfo(3, "timers: outbox jobs with a key"), _v3),
    RedisStep(StepInfo(4, "timeline events of an org in order"), _v4),
)
check_numbering(tuple(step.info for step in STEPS))


def glob_escape(text: str) -> str:
    """`text` as a literal inside a SCAN MATCH pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


async def read_version(client: aioredis.Redis, prefix: str, where: str) -> int:
    """The store's schema version; 0 when nothing is stored under the prefix."""
    raw = await client.get(prefix + VERSION_KEY)
    if raw is not None:
        try:
            return int(raw)
        except ValueError:
            raise StoreError(
                f"{where}: {prefix}{VERSION_KEY} holds {raw!r}, not a number"
            ) from None
    # the first release wrote no version key: anything under the prefix is version 1
    async for key in client.scan_iter(match=glob_escape(prefix) + "*", count=1000):
        if key != prefix + LOCK_KEY:
            return 1
    return 0


async def status(
    client: aioredis.Redis, prefix: str, where: str, steps: tuple[RedisStep, ...] = STEPS
) -> SchemaStatus:
    version = await read_version(client, prefix, where)
    infos = tuple(step.info for step in steps)
    return SchemaStatus(version, infos[-1].version, pending_steps(infos, version))


async def migrate(
    client: aioredis.Redis,
    prefix: str,
    where: str,
    *,
    steps: tuple[RedisStep, ...] = STEPS,
    dry_run: bool = False,
    lock_wait: float = MIGRATION_LOCK_WAIT,
) -> MigrationReport:
    """Bring the store to the last step's version, or refuse it when it is newer. A dry run
    says which steps would run and changes nothing.

    While another process holds the lock this one waits; when the lock goes (released, or
    lapsed because its holder died) it looks again, and migrates itself if it still must."""
    code_version = steps[-1].info.version
    lock = prefix + LOCK_KEY
    token = secrets.token_hex(16)
    deadline = time.monotonic() + lock_wait
    first_seen: int | None = None
    while True:
        version = await read_version(client, prefix, where)
        refuse_newer(where, version, code_version)
        first_seen = version if first_seen is None else first_seen
        todo = pending_steps(tuple(step.info for step in steps), version)
        if not todo:
            return MigrationReport(first_seen, version, ())
        if dry_run:
            return MigrationReport(version, code_version, todo, dry_run=True)
        if await client.set(lock, token, nx=True, px=int(LOCK_TTL * 1000)):
            break
        if time.monotonic() > deadline:
            raise StoreError(
                f"{where}: another process has been migrating for more than {lock_wait:.0f}s "
                f"(it holds {lock}); try again when it has finished"
            )
        await asyncio.sleep(_POLL)
    keeper = asyncio.create_task(_keep(client, lock, token))
    try:
        # read under the lock: the holder before this one may have done some of the steps
        version = await read_version(client, prefix, where)
        refuse_newer(where, version, code_version)
        applied: list[StepInfo] = []
        for step in steps:
            if step.info.version <= version:
                continue
            try:
                await step.apply(client, prefix)
            except Exception as exc:
                at = applied[-1].version if applied else version
                raise MigrationFailed(
                    f"{where}: migration step {step.info} failed: {exc}. The store is at "
                    f"schema version {at}; the next start runs step {step.info.version} again "
                    "(each step is safe to re-run)."
                ) from exc
            await client.set(prefix + VERSION_KEY, step.info.version)
            applied.append(step.info)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        with contextlib.suppress(Exception):  # a lock left behind lapses on its own
            await client.eval(_RELEASE, 1, lock, token)
    return MigrationReport(version, code_version, tuple(applied))


async def _keep(client: aioredis.Redis, key: str, token: str) -> None:
    """Extend the lock while the migration runs: a long step must not let it lapse."""
    while True:
        await asyncio.sleep(LOCK_TTL / 3)
        await client.eval(_EXTEND, 1, key, token, int(LOCK_TTL * 1000))
