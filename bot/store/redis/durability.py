"""Whether a write the Redis store acknowledges is on disk, and how Slotbot makes sure of it.

Slotbot answers Cronofy 200 (and tells a member "done") once the store has said OK; Cronofy
does not resend a callback answered 200. So an OK from Redis must mean the write survives a
crash of Redis (`kill -9`, a power cut). With `appendfsync everysec`, Redis's default, it
does not: Redis answers OK while the write is still in memory and fsyncs the append-only file
about once a second, in the background. The store therefore accepts a Redis only when one of
these holds:

1. `appendonly yes` and `appendfsync always`: Redis fsyncs the append-only file before it
   answers. Read with CONFIG GET.
2. Redis 7.2 or later with the append-only file on: after each write the store sends
   `WAITAOF 1 0 <timeout>`, which answers once the write is fsynced on this Redis (up to
   the next fsync, about a second with `everysec`). Found from INFO's redis_version and a
   WAITAOF probe, so it also works where CONFIG is hidden (managed Redis services).

Otherwise, with BOT_REDIS_DURABILITY=strict (the default) the store refuses to open, saying
what to set; with `relaxed` it opens with a loud warning. `python -m bot doctor` says the same
(`assess` is the one judgement both use).

WAITAOF waits for the last write of the connection it is sent on, and the store's commands
go through a pool of connections; so the confirmation is one pipeline, on one connection: a
write of its own (`MARK`, which leaves no key behind) followed by WAITAOF. Redis's
append-only file is one sequence, so once that later write is on disk, every write the
store was answered for before it is too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

# The persistence settings Slotbot asks of Redis, as redis.conf lines (`appendonly yes`):
# what the README says to run, and what the tests' and the benchmarks' redis-server run.
REDIS_CONF = {"appendonly": "yes", "appendfsync": "always"}

STRICT = "strict"
RELAXED = "relaxed"
WAITAOF_SINCE = (7, 2)
# How long a write waits for WAITAOF before it is reported as failed (ms): below the client's
# socket timeout, above the one second `everysec` takes between two fsyncs.
WAITAOF_TIMEOUT_MS = 4000
PROBE_TIMEOUT_MS = 1000
# Sent after MARK: waits until this connection's writes are fsynced on this Redis (1 local
# append-only file, 0 replicas); answers [local, replicas].
WAITAOF = ("WAITAOF", 1, 0, WAITAOF_TIMEOUT_MS)

# A write that leaves nothing behind, so the WAITAOF after it on the same connection waits
# for everything Redis had acknowledged before it.
MARK = "redis.call('SET', KEYS[1], '1') redis.call('DEL', KEYS[1]) return 1"

FIX = (
    "run `CONFIG SET appendonly yes` and `CONFIG SET appendfsync always`, then "
    "`CONFIG REWRITE` so a restart keeps them (or put `appendonly yes` and "
    "`appendfsync always` in redis.conf)"
)
RELAX = (
    "or, to start anyway and accept that a crash of Redis may lose writes Slotbot already "
    "acknowledged, set BOT_REDIS_DURABILITY=relaxed"
)


@dataclass(frozen=True)
class Probe:
    """What Redis told about itself; None where it refused to say."""

    version: str | None = None  # INFO server's redis_version
    appendonly: str | None = None  # CONFIG GET appendonly: "yes" / "no"
    appendfsync: str | None = None  # CONFIG GET appendfsync: "always" / "everysec" / "no"
    config_error: str | None = None  # why CONFIG GET was refused
    # WAITAOF on a connection with no write of its own: "ok" (answered, the append-only file
    # is on), "aof_off" (refused because it is off), "missing" (older Redis, renamed or not
    # allowed), None (not tried: Redis older than 7.2)
    waitaof: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What an acknowledged write is worth on this Redis."""

    durable: bool
    wait_each_write: bool  # confirm each write with WAITAOF
    summary: str  # what holds, in words
    problem: str | None = None  # what is wrong and how to fix it
    # how to opt out (BOT_REDIS_DURABILITY=relaxed), said after the problem
    opt_out: str = RELAX

    def refusal(self) -> str:
        """The problem and both ways out: fix Redis, or opt out."""
        return f"{self.problem}; {self.opt_out}"


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    """ "7.0.15" -> (7, 0, 15); None for what is not a version."""
    if version is None or not re.fullmatch(r"\d+(\.\d+)*", version.strip()):
        return None
    return tuple(int(part) for part in version.strip().split("."))


def has_waitaof(version: str | None) -> bool | None:
    """True from Redis 7.2 on, False before, None when the version is unknown."""
    parsed = version_tuple(version)
    return None if parsed is None else parsed[:2] >= WAITAOF_SINCE


def assess(probe: Probe) -> Verdict:
    """The one judgement of a Redis's durability: for the store's open and for doctor."""
    redis_version = f"Redis {probe.version}" if probe.version else "this Redis"
    aof_off = (
        "appendonly is no: Redis keeps writes in memory only, so a crash or restart loses "
        "what Slotbot already acknowledged (Cronofy does not resend a callback answered 200); "
        + FIX
    )
    if probe.appendonly == "no" or probe.waitaof == "aof_off":
        return Verdict(False, False, "no append-only file", aof_off)
    if probe.appendonly == "yes" and probe.appendfsync == "always":
        return Verdict(
            True,
            False,
            "append-only file with appendfsync always: each write is on disk before Redis answers",
        )
    if probe.waitaof == "ok":
        fsync = probe.appendfsync or "not readable"
        return Verdict(
            True,
            True,
            f"{redis_version} with the append-only file on (appendfsync {fsync}): Slotbot "
            "waits with WAITAOF until each write is on disk",
        )
    no_waitaof = (
        f"{redis_version} is older than 7.2 (no WAITAOF)"
        if has_waitaof(probe.version) is False
        else f"{redis_version} does not allow WAITAOF"
    )
    if probe.appendonly == "yes":
        return Verdict(
            False,
            False,
            f"appendfsync {probe.appendfsync}",
            f"appendfsync is {probe.appendfsync} and {no_waitaof}: Redis answers OK before "
            "a write is on disk, so a crash can lose writes Slotbot already acknowledged; "
            "run `CONFIG SET appendfsync always`, then `CONFIG REWRITE` so a restart keeps "
            "it (or put `appendfsync always` in redis.conf); on Redis 7.2 or later, "
            "`appendonly yes` is enough, as Slotbot then waits for each write with WAITAOF",
        )
    refused = f" ({probe.config_error})" if probe.config_error else ""
    return Verdict(
        False,
        False,
        "cannot be checked",
        f"durability cannot be checked: this Redis refuses CONFIG GET{refused}, as managed "
        f"Redis services often do, and {no_waitaof}. Turn on AOF persistence with an fsync "
        "on every write (appendfsync always) in the provider's console, or use Redis 7.2 or "
        "later with AOF on, whose WAITAOF Slotbot checks itself",
        opt_out=(
            "Slotbot cannot see the console's setting, so once it is on, set "
            "BOT_REDIS_DURABILITY=relaxed to start (with a warning)"
        ),
    )


async def probe(client: aioredis.Redis) -> Probe:
    """Ask Redis for its version, its persistence settings and whether WAITAOF works.

    A refused INFO or CONFIG leaves its fields None; a Redis that does not answer raises
    the client's connection error, as any command would."""
    version: str | None = None
    try:
        info: dict[str, Any] = await client.info("server")
        found = info.get("redis_version")
        version = None if found is None else str(found)
    except redis_errors.ResponseError:
        pass
    settings: dict[str, str | None] = {"appendonly": None, "appendfsync": None}
    config_error: str | None = None
    try:
        for name in settings:
            reply = cast("dict[str, Any]", await client.config_get(name))
            value = reply.get(name)
            settings[name] = None if value is None else str(value).lower()
    except redis_errors.ResponseError as exc:
        settings = {"appendonly": None, "appendfsync": None}
        config_error = _first_line(exc)
    waitaof: str | None = None
    if has_waitaof(version) is not False:
        waitaof = await _probe_waitaof(client)
    return Probe(
        version=version,
        appendonly=settings["appendonly"],
        appendfsync=settings["appendfsync"],
        config_error=config_error,
        waitaof=waitaof,
    )


async def _probe_waitaof(client: aioredis.Redis) -> str:
    try:
        reply = await client.execute_command(  # type: ignore[no-untyped-call]
            "WAITAOF", 1, 0, PROBE_TIMEOUT_MS
        )
    except redis_errors.ResponseError as exc:
        return "aof_off" if "appendonly" in str(exc).lower() else "missing"
    return "ok" if local_fsyncs(reply) >= 1 else "missing"


def local_fsyncs(reply: Any) -> int:
    """WAITAOF's first number: how many local append-only files hold the write (0 or 1)."""
    try:
        return int(reply[0])
    except (TypeError, ValueError, IndexError):
        return 0


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
