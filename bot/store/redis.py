"""The shared store: Redis, for several Slotbot replicas behind one load balancer.

Every key lives under one prefix (default ``slotbot:``). Records are JSON text in hashes;
the few multi-key changes (an accepted event, a record and its index, every outbox move) run
as Lua scripts, which Redis executes as one step: no other client sees a half-done change,
and a Slotbot replica that dies mid-request cannot leave one behind either.

Key layout (``<p>`` = prefix; ``<a>|<b>`` joins two ids, each with ``%`` and ``|`` escaped):

    <p>orgs                        hash    org_id -> Org JSON
    <p>org_keys                    hash    org_key -> org_id
    <p>org_key_of                  hash    org_id -> org_key (to release the old key)
    <p>members:<org>               hash    user_id -> Member JSON
    <p>candidates:<org>            hash    candidate_id -> Candidate JSON
    <p>candidate_emails:<org>      hash    lower-cased email -> candidate_id
    <p>candidate_email_of:<org>    hash    candidate_id -> lower-cased email
    <p>timeline:<org>|<candidate>  list    TimelineEntry JSON, oldest first (RPUSH)
    <p>bookings:<org>              hash    booking_id -> Booking JSON
    <p>booking_starts:<org>        zset    all scores 0, members "<start>\\x1f<booking_id>"
                                           (lexicographic = ISO order), "~<booking_id>" if
                                           no start yet (sorts after every date)
    <p>booking_start_of:<org>      hash    booking_id -> its member in booking_starts
    <p>links                       hash    correlation_id -> TrackedLink JSON
    <p>oauth_state:<state>         string  OAuthState JSON (expires a day after expires_at)
    <p>once:<key>                  string  dedupe claim, SET NX PX ttl
    <p>message_refs:<org>|<booking> hash   target -> MessageRef JSON
    <p>audit:<org>                 list    AuditEntry JSON, newest first (LPUSH)
    <p>kv:<namespace>              hash    key -> JSON document
    <p>outbox                      stream  field job_id; consumer group "workers"
    <p>outbox:delayed              zset    job_id scored by not_before (every job waits here
                                           until due; claim moves due ones to the stream)
    <p>outbox:dead                 stream  field job_id: dead letters, in the order they died
    <p>outbox:job:<job_id>         hash    doc (Job JSON), attempts, not_before, org, state
                                           (delayed / queued / dead), entry (stream id while
                                           queued), dead_entry, dead_reason
    <p>outbox:org:<org>            set     job ids of the org that are not dead yet
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from functools import update_wrapper
from typing import Any, Concatenate, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript

from bot import logs
from bot.errors import StaleBooking, StoreError, StoreUnavailable
from bot.store import redis_transfer
from bot.store.migrations import MigrationReport, SchemaStatus, log_migration, redis_steps
from bot.store.migrations.redis_steps import RedisStep
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
from bot.store.transfer import Counts, Item

log = logging.getLogger(__name__)

CONSUMER_GROUP = "workers"
SOCKET_TIMEOUT = 5.0  # seconds: an unreachable Redis fails a call, it does not hang it
CONNECT_TIMEOUT = 3.0
OAUTH_STATE_GRACE = 86400.0  # expired states stay readable a day, to say "expired" not "unknown"
MOVE_DUE_BATCH = 1000  # at most this many delayed jobs move to the stream per claim
# At start, how long to wait for a Redis that does not answer yet (it may be starting beside
# Slotbot) before giving up: its schema version must be known before anything is served.
START_WAIT = 30.0

_BOOKING_SEPARATOR = "\x1f"  # below every character of an ISO date, so prefixes sort first
_NO_START = "~"  # above every character of an ISO date

# One script for every write that must be all-or-nothing. ARGV[1] is a dedupe key ("" for
# none), ARGV[2] its time to live in ms, ARGV[3] a JSON list of operations. The dedupe claim
# and the writes share one script, so there is no moment where the key is claimed and the
# writes are not done: a crash between "claim" and "write" cannot happen (a failed enqueue
# never leaves the key claimed). Keys are passed in ARGV because they depend on the records;
# fine for a single Redis or a replicated primary, not for Redis Cluster.
# Operations: a plain Redis command, or
#   {"INDEX", fwd_hash, rev_hash, id, value}  unique value -> id index ("" removes it)
#   {"ZINDEX", zset, rev_hash, id, member}    one lexicographic zset member per id
_APPLY = """
local function index(fwd, rev, id, value)
  local old = redis.call('HGET', rev, id)
  if old and old ~= value and redis.call('HGET', fwd, old) == id then
    redis.call('HDEL', fwd, old)
  end
  if value == '' then
    redis.call('HDEL', rev, id)
    return
  end
  local holder = redis.call('HGET', fwd, value)
  if holder and holder ~= id then
    redis.call('HDEL', rev, holder)
  end
  redis.call('HSET', fwd, value, id)
  redis.call('HSET', rev, id, value)
end

local function zindex(zset, rev, id, member)
  local old = redis.call('HGET', rev, id)
  if old then
    redis.call('ZREM', zset, old)
  end
  redis.call('ZADD', zset, 0, member)
  redis.call('HSET', rev, id, member)
end

-- compare-and-set (ARGV 4-6: bookings hash, booking id, expected version): -1 and nothing
-- written when the stored booking moved on; a replay still answers 0 first
if ARGV[4] then
  if ARGV[1] ~= '' and redis.call('EXISTS', ARGV[1]) == 1 then
    return 0
  end
  local doc = redis.call('HGET', ARGV[4], ARGV[5])
  local version = 0
  if doc then
    version = tonumber(cjson.decode(doc).version) or 0
  end
  if version ~= tonumber(ARGV[6]) then
    return -1
  end
end
if ARGV[1] ~= '' then
  if not redis.call('SET', ARGV[1], '1', 'NX', 'PX', ARGV[2]) then
    return 0
  end
end
for _, op in ipairs(cjson.decode(ARGV[3])) do
  if op[1] == 'INDEX' then
    index(op[2], op[3], op[4], op[5])
  elseif op[1] == 'ZINDEX' then
    zindex(op[2], op[3], op[4], op[5])
  else
    redis.call(unpack(op))
  end
end
return 1
"""

# Claim: move due delayed jobs into the stream, then take stuck entries (idle longer than
# the visibility timeout: their worker died) and then new ones. One script, so two workers
# never move the same delayed job twice, and attempts are counted with the claim.
# KEYS: stream, delayed. ARGV: group, consumer, now, limit, min idle ms, job key prefix.
_CLAIM = """
local stream, delayed = KEYS[1], KEYS[2]
local group, consumer, now = ARGV[1], ARGV[2], ARGV[3]
local limit, idle, jobs = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local batch = tonumber(ARGV[7])

redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')

for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, batch)) do
  redis.call('ZREM', delayed, id)
  local entry = redis.call('XADD', stream, '*', 'job_id', id)
  redis.call('HSET', jobs .. id, 'entry', entry, 'state', 'queued')
end

local got = {}
local function take(entries)
  for _, item in ipairs(entries) do
    if type(item) == 'table' and type(item[2]) == 'table' then
      local entry, job_id = item[1], item[2][2]
      local key = jobs .. job_id
      if redis.call('HGET', key, 'entry') == entry then
        local attempts = redis.call('HINCRBY', key, 'attempts', 1)
        table.insert(got, {job_id, redis.call('HGET', key, 'doc'), attempts})
      else
        -- its job was acked or dead-lettered meanwhile: drop the leftover entry
        redis.call('XACK', stream, group, entry)
        redis.call('XDEL', stream, entry)
      end
    end
  end
end

local cursor, rounds = '0-0', 0
repeat
  local reply = redis.call('XAUTOCLAIM', stream, group, consumer, idle, cursor,
                           'COUNT', limit - #got)
  cursor = reply[1]
  take(reply[2])
  rounds = rounds + 1
until cursor == '0-0' or #got >= limit or rounds >= 50

if #got < limit then
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', limit - #got,
                           'STREAMS', stream, '>')
  if reply then
    take(reply[1][2])
  end
end
return got
"""

# Ack: forget the job. KEYS: stream, delayed. ARGV: group, job key, job id, org set prefix.
_ACK = """
local key = ARGV[2]
local state = redis.call('HGET', key, 'state')
if not state or state == 'dead' then
  return 0
end
local entry = redis.call('HGET', key, 'entry')
if entry then
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
end
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('SREM', ARGV[4] .. redis.call('HGET', key, 'org'), ARGV[3])
redis.call('DEL', key)
return 1
"""

# Retry: out of the stream, back into the delayed set at `at`.
# KEYS: stream, delayed. ARGV: group, job key, job id, doc, at.
_RETRY = """
local key = ARGV[2]
local state = redis.call('HGET', key, 'state')
if not state or state == 'dead' then
  return 0
end
local entry = redis.call('HGET', key, 'entry')
if entry then
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
  redis.call('HDEL', key, 'entry')
end
redis.call('HSET', key, 'doc', ARGV[4], 'not_before', ARGV[5], 'state', 'delayed')
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
return 1
"""

# Dead-letter jobs. KEYS: stream, delayed, dead stream.
# ARGV: group, job key prefix, org set prefix, reason, then either "ORG", org id (every job
# of that org that is not dead yet, read inside the script so none slips through), or per
# job: "JOB", job id, org, doc, attempts, not_before.
_DEAD = """
local stream, delayed, dead = KEYS[1], KEYS[2], KEYS[3]
local group, jobs, orgs, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local function kill(id, org)
  local key = jobs .. id
  local entry = redis.call('HGET', key, 'entry')
  if entry then
    redis.call('XACK', stream, group, entry)
    redis.call('XDEL', stream, entry)
    redis.call('HDEL', key, 'entry')
  end
  local old_dead = redis.call('HGET', key, 'dead_entry')
  if old_dead then
    redis.call('XDEL', dead, old_dead)
  end
  redis.call('ZREM', delayed, id)
  redis.call('SREM', orgs .. org, id)
  local dead_entry = redis.call('XADD', dead, '*', 'job_id', id)
  redis.call('HSET', key, 'state', 'dead', 'dead_entry', dead_entry, 'dead_reason', reason,
             'org', org)
end

if ARGV[5] == 'ORG' then
  local org = ARGV[6]
  local count = 0
  for _, id in ipairs(redis.call('SMEMBERS', orgs .. org)) do
    if redis.call('HEXISTS', jobs .. id, 'doc') == 1 then
      kill(id, org)
      count = count + 1
    else
      redis.call('SREM', orgs .. org, id)
    end
  end
  return count
end

local count = 0
for i = 6, #ARGV, 6 do
  local id, org = ARGV[i], ARGV[i+1]
  kill(id, org)
  redis.call('HSET', jobs .. id, 'doc', ARGV[i+2], 'attempts', ARGV[i+3],
             'not_before', ARGV[i+4])
  count = count + 1
end
return count
"""

# Requeue dead letters. KEYS: delayed, dead stream. ARGV: job key prefix, org set prefix, ids.
_REQUEUE = """
local delayed, dead, jobs, orgs = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local count = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local key = jobs .. id
  if redis.call('HGET', key, 'state') == 'dead' then
    local dead_entry = redis.call('HGET', key, 'dead_entry')
    if dead_entry then
      redis.call('XDEL', dead, dead_entry)
    end
    redis.call('HDEL', key, 'dead_entry', 'dead_reason')
    redis.call('HSET', key, 'state', 'delayed', 'attempts', 0)
    redis.call('ZADD', delayed, redis.call('HGET', key, 'not_before') or 0, id)
    redis.call('SADD', orgs .. redis.call('HGET', key, 'org'), id)
    count = count + 1
  end
end
return count
"""

# Read a record through an index in one round trip: KEYS[1] maps ARGV[1] to an id, KEYS[2]
# maps ids to documents. Callback intake looks up an org by its push key and a candidate by
# email on every request; two dependent HGETs were two round trips.
_HGET_VIA = """
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then
  return false
end
return redis.call('HGET', KEYS[2], id)
"""

P = ParamSpec("P")
R = TypeVar("R")


def _translating(
    method: Callable[Concatenate[RedisStore, P], Awaitable[R]],
) -> Callable[Concatenate[RedisStore, P], Coroutine[Any, Any, R]]:
    """Report an unreachable Redis as StoreUnavailable, a refused command as StoreError."""

    async def wrapper(self: RedisStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
            raise StoreUnavailable(
                f"Redis store {self.display_url} does not answer: {exc}"
            ) from exc
        except redis_errors.RedisError as exc:
            raise StoreError(f"Redis store {self.display_url} failed: {exc}") from exc

    update_wrapper(wrapper, method)
    return wrapper


def _mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _part(value: str) -> str:
    """One id inside a key that joins two ids with '|'."""
    return value.replace("%", "%25").replace("|", "%7C")


def _booking_member(booking: Booking) -> str:
    if booking.start is None:
        return _NO_START + booking.booking_id
    return booking.start + _BOOKING_SEPARATOR + booking.booking_id


def _booking_id_of(member: str) -> str:
    if member.startswith(_NO_START):
        return member[len(_NO_START) :]
    return member.split(_BOOKING_SEPARATOR, 1)[1]


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisStore:
    def __init__(
        self,
        url: str,
        prefix: str = "slotbot:",
        *,
        steps: tuple[RedisStep, ...] = redis_steps.STEPS,
        start_wait: float = START_WAIT,
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._steps = steps  # the migrations; tests give their own to exercise the runner
        self._start_wait = start_wait
        self._redis: aioredis.Redis | None = None
        self.display_url = _mask_password(url)
        self._queued: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Future[None]] = set()

    # keys ------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    def _job_key(self, job_id: str) -> str:
        return self._key("outbox", "job", job_id)

    @property
    def _stream(self) -> str:
        return self._key("outbox")

    @property
    def _delayed(self) -> str:
        return self._key("outbox", "delayed")

    @property
    def _dead(self) -> str:
        return self._key("outbox", "dead")

    @property
    def _job_prefix(self) -> str:
        return self._key("outbox", "job", "")

    @property
    def _org_jobs_prefix(self) -> str:
        return self._key("outbox", "org", "")

    # lifecycle -------------------------------------------------------------
    async def open(self, *, migrate: bool = True) -> None:
        """Build the client and bring the store to the current schema version (waiting up to
        `start_wait` for a Redis that is still starting); a store written by a newer Slotbot
        is refused. `migrate=False` only builds the client, which connects on first use."""
        if self._redis is not None:
            return
        self._connect()
        if not migrate:
            return
        deadline = time.monotonic() + self._start_wait
        waiting = False
        while True:
            try:
                log_migration(self.where, await self.migrate())
                return
            except StoreUnavailable:
                if time.monotonic() >= deadline:
                    await self.close()
                    raise
                if not waiting:
                    log.warning(logs.STORE_WAITING, self.where, self._start_wait)
                    waiting = True
                await asyncio.sleep(0.5)
            except BaseException:
                await self.close()
                raise

    @property
    def where(self) -> str:
        return f"Redis store {self.display_url} (prefix {self._prefix!r})"

    @_translating
    async def schema_status(self) -> SchemaStatus:
        return await redis_steps.status(self._r, self._prefix, self.where, self._steps)

    @_translating
    async def migrate(self, *, dry_run: bool = False) -> MigrationReport:
        return await redis_steps.migrate(
            self._r, self._prefix, self.where, steps=self._steps, dry_run=dry_run
        )

    def _connect(self) -> None:
        try:
            client = aioredis.Redis.from_url(
                self._url,
                decode_responses=True,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=CONNECT_TIMEOUT,
                health_check_interval=30,
                # one quick retry covers a connection that went stale (Redis restarted);
                # more would make an unreachable Redis look like a hang to /readyz
                retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
            )
        except ValueError as exc:
            raise StoreError(f"cannot use Redis store {self.display_url}: {exc}") from None
        self._redis = client
        self._apply = client.register_script(_APPLY)
        self._claim = client.register_script(_CLAIM)
        self._ack = client.register_script(_ACK)
        self._retry = client.register_script(_RETRY)
        self._dead_script = client.register_script(_DEAD)
        self._requeue = client.register_script(_REQUEUE)
        self._hget_via = client.register_script(_HGET_VIA)

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()

    @property
    def _r(self) -> aioredis.Redis:
        if self._redis is None:
            raise StoreUnavailable(f"Redis store {self.display_url} is not open")
        return self._redis

    @_translating
    async def ping(self) -> None:
        await self._r.ping()

    # commands sent together ------------------------------------------------
    async def _send(self, *command: Any) -> Any:
        """One command, sent in one pipeline with every other command queued by the tasks
        that run in the same turn of the event loop: under load, a write and a read from the
        socket for a group of callbacks rather than for each of their commands. Commands
        stay independent (no MULTI): each gets its own reply or its own error."""
        client = self._r
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        self._queued.append((command, reply))
        if len(self._queued) == 1:
            loop.call_soon(self._send_queued, client)
        return await reply

    def _send_queued(self, client: aioredis.Redis) -> None:
        group, self._queued = self._queued, []
        task = asyncio.ensure_future(self._send_group(client, group))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_group(
        self, client: aioredis.Redis, group: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]
    ) -> None:
        replies: list[Any]
        try:
            if len(group) == 1:
                replies = [await client.execute_command(*group[0][0])]  # type: ignore[no-untyped-call]
            else:
                pipe = client.pipeline(transaction=False)
                for command, _ in group:
                    pipe.execute_command(*command)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the connection failed: every command of the group did
            for _, reply in group:
                if not reply.done():
                    reply.set_exception(exc)
            return
        for (_, reply), value in zip(group, replies, strict=True):
            if reply.done():
                continue  # its caller stopped waiting
            if isinstance(value, Exception):
                reply.set_exception(value)
            else:
                reply.set_result(value)

    async def _eval(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._send("EVALSHA", script.sha, len(keys), *keys, *args)
        except redis_errors.NoScriptError:
            # Redis restarted (or flushed its scripts): the script object loads it again
            return await script(keys=keys, args=args)

    async def _run(self, ops: list[list[Any]], dedupe_key: str = "", ttl_ms: int = 0) -> bool:
        done = await self._eval(self._apply, [], [dedupe_key, ttl_ms, json.dumps(ops)])
        return bool(done)

    async def _via(self, index: str, docs: str, value: str) -> str | None:
        doc = await self._eval(self._hget_via, [index, docs], [value])
        return None if doc is None else str(doc)

    async def _hget(self, key: str, field: str) -> str | None:
        doc = await self._send("HGET", key, field)
        return None if doc is None else str(doc)

    # everything, for copies and backups (bot.store.transfer) ---------------
    async def export_records(self) -> AsyncIterator[list[Item]]:
        """Every record, kind after kind in `transfer.KINDS` order, in batches."""
        try:
            async for batch in redis_transfer.export(self):
                yield batch
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
            raise StoreUnavailable(f"{self.where} does not answer: {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"{self.where} holds a record that does not read back: {exc}"
            ) from None

    @_translating
    async def import_records(self, items: list[Item]) -> None:
        """Write the items: the records in one script call (all or none), then dead letters."""
        await redis_transfer.write_batch(self, items)

    @_translating
    async def count_records(self) -> Counts:
        return await redis_transfer.count(self)

    @_translating
    async def clear(self) -> None:
        """Delete every record (the schema version stays): `--force` copies."""
        await redis_transfer.clear(self)

    # orgs ------------------------------------------------------------------
    @_translating
    async def get_org(self, org_id: str) -> Org | None:
        doc = await self._hget(self._key("orgs"), org_id)
        return None if doc is None else from_json(Org, doc)

    @_translating
    async def get_org_by_key(self, org_key: str) -> Org | None:
        doc = await self._via(self._key("org_keys"), self._key("orgs"), org_key)
        if doc is None:
            return None
        org = from_json(Org, doc)
        return org if org.org_key == org_key else None

    def _org_ops(self, org: Org) -> list[list[Any]]:
        return [
            ["HSET", self._key("orgs"), org.org_id, to_json(org)],
            [
                "INDEX",
                self._key("org_keys"),
                self._key("org_key_of"),
                org.org_id,
                org.org_key or "",
            ],
        ]

    @_translating
    async def put_org(self, org: Org) -> None:
        await self._run(self._org_ops(org))

    @_translating
    async def list_orgs(self) -> list[Org]:
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("orgs")))
        return [from_json(Org, docs[org_id]) for org_id in sorted(docs)]

    # members ---------------------------------------------------------------
    @_translating
    async def get_member(self, org_id: str, user_id: str) -> Member | None:
        doc = await self._hget(self._key("members", org_id), user_id)
        return None if doc is None else from_json(Member, doc)

    @_translating
    async def put_member(self, member: Member) -> None:
        await self._r.hset(self._key("members", member.org_id), member.user_id, to_json(member))

    @_translating
    async def delete_member(self, org_id: str, user_id: str) -> None:
        await self._r.hdel(self._key("members", org_id), user_id)

    @_translating
    async def list_members(self, org_id: str) -> list[Member]:
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("members", org_id)))
        return [from_json(Member, docs[user_id]) for user_id in sorted(docs)]

    # candidates and their timeline ----------------------------------------
    @_translating
    async def get_candidate(self, org_id: str, candidate_id: str) -> Candidate | None:
        doc = await self._hget(self._key("candidates", org_id), candidate_id)
        return None if doc is None else from_json(Candidate, doc)

    @_translating
    async def find_candidate_by_email(self, org_id: str, email: str) -> Candidate | None:
        doc = await self._via(
            self._key("candidate_emails", org_id),
            self._key("candidates", org_id),
            email.strip().lower(),
        )
        return None if doc is None else from_json(Candidate, doc)

    def _candidate_ops(self, candidate: Candidate) -> list[list[Any]]:
        org_id = candidate.org_id
        return [
            ["HSET", self._key("candidates", org_id), candidate.candidate_id, to_json(candidate)],
            [
                "INDEX",
                self._key("candidate_emails", org_id),
                self._key("candidate_email_of", org_id),
                candidate.candidate_id,
                candidate.email.strip().lower(),
            ],
        ]

    @_translating
    async def put_candidate(self, candidate: Candidate) -> None:
        await self._run(self._candidate_ops(candidate))

    def _timeline_key(self, org_id: str, candidate_id: str) -> str:
        return self._key("timeline", f"{_part(org_id)}|{_part(candidate_id)}")

    @_translating
    async def append_timeline(self, org_id: str, candidate_id: str, entry: TimelineEntry) -> None:
        await self._r.rpush(self._timeline_key(org_id, candidate_id), to_json(entry))

    @_translating
    async def list_timeline(
        self, org_id: str, candidate_id: str, limit: int = 50
    ) -> list[TimelineEntry]:
        if limit <= 0:
            return []
        docs = cast(
            "list[str]", await self._r.lrange(self._timeline_key(org_id, candidate_id), -limit, -1)
        )
        return [from_json(TimelineEntry, doc) for doc in docs]

    # bookings --------------------------------------------------------------
    @_translating
    async def get_booking(self, org_id: str, booking_id: str) -> Booking | None:
        doc = await self._hget(self._key("bookings", org_id), booking_id)
        return None if doc is None else from_json(Booking, doc)

    def _booking_ops(self, booking: Booking) -> list[list[Any]]:
        org_id = booking.org_id
        return [
            ["HSET", self._key("bookings", org_id), booking.booking_id, to_json(booking)],
            [
                "ZINDEX",
                self._key("booking_starts", org_id),
                self._key("booking_start_of", org_id),
                booking.booking_id,
                _booking_member(booking),
            ],
        ]

    @_translating
    async def put_booking(self, booking: Booking) -> None:
        await self._run(self._booking_ops(booking))

    @_translating
    async def list_bookings(
        self, org_id: str, *, recruiter_id: str | None = None, start_after: str | None = None
    ) -> list[Booking]:
        if start_after is None:
            low, high = "-", "+"
        else:
            # after every "<start_after>\x1f<id>" member, before every later date; bookings
            # without a start ("~...") are left out, as no start sorts after anything
            low, high = "[" + start_after + chr(ord(_BOOKING_SEPARATOR) + 1), "(" + _NO_START
        members = cast(
            "list[str]", await self._r.zrangebylex(self._key("booking_starts", org_id), low, high)
        )
        if not members:
            return []
        ids = [_booking_id_of(member) for member in members]
        docs = cast("list[str | None]", await self._r.hmget(self._key("bookings", org_id), ids))
        bookings = [from_json(Booking, doc) for doc in docs if doc is not None]
        if recruiter_id is not None:
            bookings = [b for b in bookings if b.recruiter_id == recruiter_id]
        return bookings

    # tracked links ---------------------------------------------------------
    @_translating
    async def put_tracked_link(self, link: TrackedLink) -> None:
        await self._r.hset(self._key("links"), link.correlation_id, to_json(link))

    @_translating
    async def get_tracked_link(self, correlation_id: str) -> TrackedLink | None:
        doc = await self._hget(self._key("links"), correlation_id)
        return None if doc is None else from_json(TrackedLink, doc)

    # OAuth states ----------------------------------------------------------
    @_translating
    async def put_oauth_state(self, state: OAuthState) -> None:
        await self._send("SET", *self._oauth_state_args(state))

    def _oauth_state_args(self, state: OAuthState) -> tuple[str, str, str, int]:
        """SET arguments: expired states stay readable a while, to say "expired"."""
        keep = max(state.expires_at - time.time(), 0.0) + OAUTH_STATE_GRACE
        return self._key("oauth_state", state.state), to_json(state), "PX", _ms(keep)

    @_translating
    async def consume_oauth_state(self, state: str) -> OAuthState | None:
        # GETDEL reads and deletes in one command: of many concurrent callers, one gets it
        doc = await self._r.getdel(self._key("oauth_state", state))
        return None if doc is None else from_json(OAuthState, doc)

    # dedupe ----------------------------------------------------------------
    @_translating
    async def claim_once(self, key: str, ttl: float) -> bool:
        claimed = await self._r.set(self._key("once", key), "1", nx=True, px=_ms(ttl))
        return bool(claimed)

    @_translating
    async def release_claim(self, key: str) -> None:
        await self._r.delete(self._key("once", key))

    # accepted events, in one step -----------------------------------------
    @_translating
    async def commit_event(self, write: EventWrite) -> bool:
        if write.timeline is not None and write.candidate is None:
            raise ValueError("an EventWrite with a timeline entry needs its candidate")
        ops: list[list[Any]] = []
        if write.candidate is not None:
            ops += self._candidate_ops(write.candidate)
            if write.timeline is not None:
                key = self._timeline_key(write.candidate.org_id, write.candidate.candidate_id)
                ops.append(["RPUSH", key, to_json(write.timeline)])
        if write.booking is not None:
            ops += self._booking_ops(write.booking)
        ops += self._enqueue_ops(write.jobs)
        if write.audit is not None:
            ops.append(["LPUSH", self._key("audit", write.audit.org_id), to_json(write.audit)])
        args: list[Any] = [
            self._key("once", write.dedupe_key),
            _ms(write.dedupe_ttl),
            json.dumps(ops),
        ]
        booking = write.booking
        if booking is not None and write.booking_version is not None:
            args += [
                self._key("bookings", booking.org_id),
                booking.booking_id,
                write.booking_version,
            ]
        done = await self._eval(self._apply, [], args)
        if done == -1:
            raise StaleBooking(
                f"booking {booking.booking_id if booking else '-'} is no longer at version "
                f"{write.booking_version}"
            )
        return bool(done)

    # message references ----------------------------------------------------
    def _message_refs_key(self, org_id: str, booking_id: str) -> str:
        return self._key("message_refs", f"{_part(org_id)}|{_part(booking_id)}")

    @_translating
    async def put_message_ref(
        self, org_id: str, booking_id: str, target: str, ref: MessageRef
    ) -> None:
        await self._r.hset(self._message_refs_key(org_id, booking_id), target, to_json(ref))

    @_translating
    async def get_message_refs(self, org_id: str, booking_id: str) -> dict[str, MessageRef]:
        docs = cast(
            "dict[str, str]", await self._r.hgetall(self._message_refs_key(org_id, booking_id))
        )
        return {target: from_json(MessageRef, docs[target]) for target in sorted(docs)}

    # audit -----------------------------------------------------------------
    @_translating
    async def append_audit(self, entry: AuditEntry) -> None:
        await self._r.lpush(self._key("audit", entry.org_id), to_json(entry))

    @_translating
    async def list_audit(self, org_id: str, limit: int = 50) -> list[AuditEntry]:
        if limit <= 0:
            return []
        docs = cast("list[str]", await self._r.lrange(self._key("audit", org_id), 0, limit - 1))
        return [from_json(AuditEntry, doc) for doc in docs]

    # generic namespaced documents -------------------------------------------
    @_translating
    async def kv_get(self, namespace: str, key: str) -> dict[str, object] | None:
        doc = await self._hget(self._key("kv", namespace), key)
        return None if doc is None else _json_object(str(doc))

    @_translating
    async def kv_put(self, namespace: str, key: str, value: dict[str, object]) -> None:
        doc = json.dumps(value, separators=(",", ":"), sort_keys=True)
        await self._r.hset(self._key("kv", namespace), key, doc)

    @_translating
    async def kv_delete(self, namespace: str, key: str) -> None:
        await self._r.hdel(self._key("kv", namespace), key)

    @_translating
    async def kv_list(self, namespace: str, prefix: str = "") -> dict[str, dict[str, object]]:
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("kv", namespace)))
        return {key: _json_object(docs[key]) for key in sorted(docs) if key.startswith(prefix)}

    # outbox ----------------------------------------------------------------
    def _enqueue_ops(self, jobs: list[Job]) -> list[list[Any]]:
        ops: list[list[Any]] = []
        for job in jobs:
            key = self._job_key(job.job_id)
            ops += [
                ["DEL", key],
                [
                    "HSET",
                    key,
                    "doc",
                    to_json(job),
                    "attempts",
                    job.attempts,
                    "not_before",
                    repr(job.not_before),
                    "org",
                    job.org_id,
                    "state",
                    "delayed",
                ],
                ["ZADD", self._delayed, repr(job.not_before), job.job_id],
                ["SADD", self._org_jobs_prefix + job.org_id, job.job_id],
            ]
        return ops

    @_translating
    async def enqueue(self, jobs: list[Job]) -> None:
        if jobs:
            await self._run(self._enqueue_ops(jobs))

    @_translating
    async def claim_jobs(
        self, consumer: str, *, limit: int, visibility_timeout: float, now: float | None = None
    ) -> list[Job]:
        if limit <= 0:
            return []
        at = time.time() if now is None else now
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        rows: list[list[Any]] = await self._claim(
            keys=[self._stream, self._delayed],
            args=[
                CONSUMER_GROUP,
                consumer,
                repr(at),
                limit,
                _ms(visibility_timeout),
                self._job_prefix,
                MOVE_DUE_BATCH,
            ],
        )
        claimed: list[Job] = []
        for _job_id, doc, attempts in rows:
            job = from_json(Job, doc)
            job.attempts = int(attempts)
            claimed.append(job)
        return claimed

    @_translating
    async def ack_job(self, job_id: str) -> None:
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        await self._ack(
            keys=[self._stream, self._delayed],
            args=[CONSUMER_GROUP, self._job_key(job_id), job_id, self._org_jobs_prefix],
        )

    @_translating
    async def retry_job(self, job: Job, *, at: float, error: str, max_attempts: int) -> bool:
        if job.attempts >= max_attempts:
            await self._dead_letter([job], error)
            return False
        retried = dataclasses.replace(job, not_before=at, last_error=error)
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        await self._retry(
            keys=[self._stream, self._delayed],
            args=[
                CONSUMER_GROUP,
                self._job_key(job.job_id),
                job.job_id,
                to_json(retried),
                repr(at),
            ],
        )
        return True

    @_translating
    async def dead_letter_job(self, job: Job, reason: str) -> None:
        await self._dead_letter([job], reason)

    async def _dead_letter(self, jobs: list[Job], reason: str) -> int:
        args: list[Any] = [CONSUMER_GROUP, self._job_prefix, self._org_jobs_prefix, reason]
        for job in jobs:
            dead = dataclasses.replace(job, last_error=job.last_error or reason, dead_reason="")
            args += [
                "JOB",
                job.job_id,
                job.org_id,
                to_json(dead),
                job.attempts,
                repr(job.not_before),
            ]
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        count = await self._dead_script(keys=[self._stream, self._delayed, self._dead], args=args)
        return int(count)

    @_translating
    async def dead_letter_org_jobs(self, org_id: str, reason: str) -> int:
        args = [CONSUMER_GROUP, self._job_prefix, self._org_jobs_prefix, reason, "ORG", org_id]
        self._r  # noqa: B018 - raises StoreUnavailable when closed
        count = await self._dead_script(keys=[self._stream, self._delayed, self._dead], args=args)
        return int(count)

    async def _load_jobs(self, job_ids: list[str]) -> list[Job]:
        pipe = self._r.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hgetall(self._job_key(job_id))
        rows: list[dict[str, str]] = await pipe.execute()
        jobs: list[Job] = []
        for row in rows:
            if "doc" not in row:
                continue
            job = from_json(Job, row["doc"])
            job.attempts = int(row.get("attempts", job.attempts))
            job.dead_reason = row.get("dead_reason", "")
            jobs.append(job)
        return jobs

    @_translating
    async def list_dead_letters(self, org_id: str | None = None, limit: int = 100) -> list[Job]:
        # newest dead letter first: the one someone is most likely asking about
        found: list[Job] = []
        end = "+"
        while len(found) < limit:
            entries = cast(
                "list[tuple[str, dict[str, str]]]",
                await self._r.xrevrange(self._dead, max=end, min="-", count=max(limit, 100)),
            )
            if not entries:
                break
            jobs = await self._load_jobs([fields["job_id"] for _, fields in entries])
            found += [job for job in jobs if org_id is None or job.org_id == org_id]
            end = "(" + entries[-1][0]
        return found[:limit]

    @_translating
    async def requeue_dead_letters(self, job_ids: list[str] | None = None) -> int:
        if job_ids is None:
            entries = cast("list[tuple[str, dict[str, str]]]", await self._r.xrange(self._dead))
            job_ids = [fields["job_id"] for _, fields in entries]
        if not job_ids:
            return 0
        count = await self._requeue(
            keys=[self._delayed, self._dead],
            args=[self._job_prefix, self._org_jobs_prefix, *job_ids],
        )
        return int(count)

    @_translating
    async def outbox_depth(self) -> int:
        pipe = self._r.pipeline(transaction=False)
        pipe.xlen(self._stream)
        pipe.zcard(self._delayed)
        in_stream, delayed = await pipe.execute()
        return int(in_stream) + int(delayed)


def _json_object(text: str) -> dict[str, object]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise StoreError("a stored document is not a JSON object")
    return value
