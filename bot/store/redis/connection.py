"""The Redis store's connection and lifecycle: the client (built on open, connecting on first
use), the key names under the store's prefix, the durability check (`durability`), the schema
version (`schema`), commands sent together in pipelines, the Lua scripts (`scripts`); and the
decorators that report a Redis failure as the store error callers expect (`translating`)
and confirm a write is on disk before it counts as done (`writing`)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import update_wrapper
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript

from bot import jsonio, logs
from bot.errors import StoreError, StoreNotDurable, StoreUnavailable
from bot.store.migrations import MigrationReport, SchemaStatus, log_migration
from bot.store.redis import durability, schema, scripts
from bot.store.redis.durability import RELAXED, STRICT
from bot.store.redis.schema import RedisStep

log = logging.getLogger(__name__)

SOCKET_TIMEOUT = 5.0  # seconds: an unreachable Redis fails a call, it does not hang it
CONNECT_TIMEOUT = 3.0
# At start, how long to wait for a Redis that does not answer yet (it may be starting beside
# Slotbot) before giving up: its schema version must be known before anything is served.
START_WAIT = 30.0

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="RedisBase")


def translating(
    method: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Report an unreachable Redis as StoreUnavailable, a refused command as StoreError."""

    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
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


def writing(
    method: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """`translating`, for a method that changes what the store holds: it returns only once
    its writes are on disk. Where Redis fsyncs before it answers (appendfsync always) that is
    already so; where the store waits for each write (`durability`, Redis 7.2+), it waits
    here, after the method, whatever the method answered (a callback refused as a duplicate
    is answered 200 too, so the first one's writes must be on disk by then)."""

    async def confirmed(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        result = await method(self, *args, **kwargs)
        await self._confirm_written()
        return result

    update_wrapper(confirmed, method)
    wrapper = translating(confirmed)
    wrapper.confirms_writes = True  # type: ignore[attr-defined]
    return wrapper


def mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def part(value: str) -> str:
    """One id inside a key that joins two ids with '|'."""
    return value.replace("%", "%25").replace("|", "%7C")


def ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def json_object(text: str) -> dict[str, object]:
    value = jsonio.loads(text)
    if not isinstance(value, dict):
        raise StoreError("a stored document is not a JSON object")
    return value


class RedisBase:
    """The client, the key names and the schema: opening, migrating, closing, and sending
    commands (grouped into pipelines) and scripts. The operations themselves are mixins
    (`orgs`, `profiles`, `events`, `outbox`, `housekeeping`) combined into `RedisStore`."""

    def __init__(
        self,
        url: str,
        prefix: str = "slotbot:",
        *,
        steps: tuple[RedisStep, ...] = schema.STEPS,
        start_wait: float = START_WAIT,
        durability: str = STRICT,
    ) -> None:
        if durability not in (STRICT, RELAXED):
            raise ValueError(f"durability must be strict or relaxed, not {durability!r}")
        self._url = url
        self._prefix = prefix
        self._steps = steps  # the migrations; tests give their own to exercise the runner
        self._start_wait = start_wait
        self._durability = durability
        # decided at open: whether each write waits for WAITAOF (`durability`)
        self._wait_each_write = False
        self._confirming: asyncio.Future[None] | None = None
        self._redis: aioredis.Redis | None = None
        self.display_url = mask_password(url)
        self._queued: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Future[None]] = set()

    # keys ------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    def _job_key(self, job_id: str) -> str:
        return self._key("outbox", "job", job_id)

    def _message_refs_key(self, org_id: str, booking_id: str) -> str:
        return self._key("message_refs", f"{part(org_id)}|{part(booking_id)}")

    @property
    def _stream(self) -> str:
        return self._key("outbox")

    @property
    def _delayed(self) -> str:
        return self._key("outbox", "delayed")

    @property
    def _timers(self) -> str:
        # timer key -> the id of its pending job
        return self._key("outbox", "timers")

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
        """Build the client, check that what Redis acknowledges is on disk (`durability`:
        StoreNotDurable, unless relaxed) and bring the store to the current schema version
        (waiting up to `start_wait` for a Redis that is still starting); a store written by
        a newer Slotbot is refused. `migrate=False` only builds the client, which connects
        on first use (and checks nothing)."""
        if self._redis is not None:
            return
        self._connect()
        if not migrate:
            return
        deadline = time.monotonic() + self._start_wait
        waiting = False
        checked = False
        while True:
            try:
                if not checked:
                    self._enforce(await self.check_durability())
                    checked = True
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

    @translating
    async def check_durability(self) -> durability.Verdict:
        """What a write this store acknowledges is worth on this Redis (for doctor too)."""
        return durability.assess(await durability.probe(self._r))

    def _enforce(self, verdict: durability.Verdict) -> None:
        if verdict.durable:
            self._wait_each_write = verdict.wait_each_write
            log.info(logs.STORE_DURABLE, self.where, verdict.summary)
            return
        self._wait_each_write = False
        if self._durability == RELAXED:
            log.warning(logs.STORE_NOT_DURABLE, self.where, verdict.problem)
            return
        raise StoreNotDurable(
            f"{self.where} would acknowledge writes a crash of Redis can lose: {verdict.refusal()}"
        )

    async def _confirm_written(self) -> None:
        """Return once every write this store was answered for so far is on disk: one MARK
        and WAITAOF for all the writes that finished in the same turn of the event loop,
        sent on a connection of their own (a read queued meanwhile does not wait for it)."""
        if not self._wait_each_write:
            return
        if self._confirming is None:
            loop = asyncio.get_running_loop()
            self._confirming = loop.create_future()
            loop.call_soon(self._start_confirming, self._r, self._confirming)
        await asyncio.shield(self._confirming)

    def _start_confirming(self, client: aioredis.Redis, done: asyncio.Future[None]) -> None:
        self._confirming = None  # writes finishing from now on need a later confirmation
        task = asyncio.ensure_future(self._confirm(client, done))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _confirm(self, client: aioredis.Redis, done: asyncio.Future[None]) -> None:
        try:
            pipe = client.pipeline(transaction=False)
            pipe.eval(durability.MARK, 1, self._key("durability_mark"))
            pipe.execute_command(*durability.WAITAOF)
            _, waited = await pipe.execute()
            if durability.local_fsyncs(waited) < 1:
                raise StoreUnavailable(
                    f"{self.where} did not confirm within "
                    f"{durability.WAITAOF_TIMEOUT_MS / 1000:g}s that a write reached its "
                    "append-only file on disk (WAITAOF)"
                )
        except asyncio.CancelledError:
            done.cancel()
            raise
        except Exception as exc:
            if not done.done():
                done.set_exception(exc)
                done.exception()  # retrieved: a caller that stopped waiting is not an error
            return
        if not done.done():
            done.set_result(None)

    @translating
    async def schema_status(self) -> SchemaStatus:
        return await schema.status(self._r, self._prefix, self.where, self._steps)

    @writing
    async def migrate(self, *, dry_run: bool = False) -> MigrationReport:
        return await schema.migrate(
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
        self._apply = client.register_script(scripts.APPLY)
        self._claim = client.register_script(scripts.CLAIM)
        self._ack = client.register_script(scripts.ACK)
        self._extend = client.register_script(scripts.EXTEND)
        self._retry = client.register_script(scripts.RETRY)
        self._dead_script = client.register_script(scripts.DEAD)
        self._requeue = client.register_script(scripts.REQUEUE)
        self._hget_via = client.register_script(scripts.HGET_VIA)
        self._lease = client.register_script(scripts.LEASE)
        self._feed = client.register_script(scripts.FEED)

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()

    @property
    def _r(self) -> aioredis.Redis:
        if self._redis is None:
            raise StoreUnavailable(f"Redis store {self.display_url} is not open")
        return self._redis

    @translating
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
