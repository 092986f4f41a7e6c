"""The Redis store opens only on a Redis that keeps what it acknowledges (or says loudly that
it does not, when BOT_REDIS_DURABILITY=relaxed); doctor says the same.

The judgement itself (`assess`) is pure and covered for every case, Redis 7.2's WAITAOF
included; this machine's redis-server is older than 7.2, so the store's WAITAOF path runs
here against a stand-in command with WAITAOF's reply, on a real Redis.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import exceptions as redis_errors

from bot.config import Settings
from bot.doctor import check_services
from bot.errors import StoreNotDurable, StoreUnavailable
from bot.secrets import generate_key
from bot.store.base import Store
from bot.store.records import EventWrite, Job, Org
from bot.store.redis import RedisStore, durability
from bot.store.redis.durability import Probe, assess, has_waitaof, probe, version_tuple
from tests.support.redis_server import RedisServer, private_redis

pytestmark = pytest.mark.redis

EVERYSEC = {"appendfsync": "everysec"}
NO_AOF = {"appendonly": "no"}
HIDDEN_CONFIG = ("--rename-command", "CONFIG", "")  # as managed Redis services do


# the judgement -------------------------------------------------------------------------


def test_fsync_always_is_durable_without_waiting() -> None:
    verdict = assess(Probe(version="7.0.15", appendonly="yes", appendfsync="always"))
    assert verdict.durable and not verdict.wait_each_write and verdict.problem is None


def test_everysec_before_7_2_is_refused_with_what_to_set() -> None:
    verdict = assess(Probe(version="7.0.15", appendonly="yes", appendfsync="everysec"))
    assert not verdict.durable
    assert verdict.problem is not None
    for words in (
        "appendfsync is everysec",
        "older than 7.2",
        "CONFIG SET appendfsync always",
        "on Redis 7.2 or later, `appendonly yes` is enough",
        "CONFIG REWRITE",
        "`appendfsync always` in redis.conf",
    ):
        assert words in verdict.problem


def test_no_append_only_file_is_refused_with_what_to_set() -> None:
    verdict = assess(Probe(version="7.0.15", appendonly="no", appendfsync="everysec"))
    assert not verdict.durable
    assert verdict.problem is not None
    assert "appendonly is no" in verdict.problem
    assert "CONFIG SET appendonly yes" in verdict.problem
    assert "CONFIG SET appendfsync always" in verdict.problem


@pytest.mark.parametrize(
    ("appendonly", "appendfsync"), [("yes", "everysec"), ("yes", "no"), (None, None)]
)
def test_redis_7_2_with_an_append_only_file_is_durable_by_waiting_for_each_write(
    appendonly: str | None, appendfsync: str | None
) -> None:
    verdict = assess(
        Probe(version="7.2.4", appendonly=appendonly, appendfsync=appendfsync, waitaof="ok")
    )
    assert verdict.durable and verdict.wait_each_write
    assert "WAITAOF" in verdict.summary


def test_redis_7_2_without_an_append_only_file_is_refused_even_with_config_hidden() -> None:
    verdict = assess(Probe(version="7.2.4", config_error="ERR unknown command", waitaof="aof_off"))
    assert not verdict.durable
    assert verdict.problem is not None and "appendonly is no" in verdict.problem


@pytest.mark.parametrize(
    ("version", "waitaof", "why"),
    [
        ("7.0.15", None, "older than 7.2 (no WAITAOF)"),
        ("7.2.4", "missing", "does not allow WAITAOF"),
        (None, "missing", "this Redis does not allow WAITAOF"),
    ],
)
def test_hidden_config_gets_a_clear_answer(
    version: str | None, waitaof: str | None, why: str
) -> None:
    verdict = assess(
        Probe(version=version, config_error="ERR unknown command 'config'", waitaof=waitaof)
    )
    assert not verdict.durable
    for words in (
        "durability cannot be checked",
        "refuses CONFIG GET (ERR unknown command 'config')",
        why,
        "provider's console",
        "appendfsync always",
        "Redis 7.2 or later",
        "once it is on, set BOT_REDIS_DURABILITY=relaxed",
    ):
        assert words in verdict.refusal()
    assert verdict.refusal().count("BOT_REDIS_DURABILITY") == 1


@pytest.mark.parametrize(
    ("version", "parsed", "waitaof"),
    [
        ("7.0.15", (7, 0, 15), False),
        ("6.2.14", (6, 2, 14), False),
        ("7.2.0", (7, 2, 0), True),
        ("7.2.4", (7, 2, 4), True),
        ("8.0.1", (8, 0, 1), True),
        ("255.255.255", (255, 255, 255), True),  # an unstable build
        ("", None, None),
        ("7.2-rc1", None, None),
        (None, None, None),
    ],
)
def test_version_detection(
    version: str | None, parsed: tuple[int, ...] | None, waitaof: bool | None
) -> None:
    assert version_tuple(version) == parsed
    assert has_waitaof(version) is waitaof


# asking Redis --------------------------------------------------------------------------


class FakeClient:
    """What `probe` asks of a client, answered as a Redis of the given version would."""

    def __init__(self, version: str, config: dict[str, str] | None, waitaof: Any) -> None:
        self.version = version
        self.config = config
        self.waitaof = waitaof
        self.commands: list[tuple[Any, ...]] = []

    async def info(self, section: str) -> dict[str, Any]:
        return {"redis_version": self.version}

    async def config_get(self, name: str) -> dict[str, str]:
        if self.config is None:
            raise redis_errors.ResponseError("NOPERM this user has no permissions to run it")
        return {name: self.config[name]}

    async def execute_command(self, *command: Any) -> Any:
        self.commands.append(command)
        if isinstance(self.waitaof, Exception):
            raise self.waitaof
        return self.waitaof


async def test_probe_of_a_redis_7_2_uses_waitaof() -> None:
    client = FakeClient("7.2.4", None, [1, 0])
    found = await probe(client)  # type: ignore[arg-type]
    assert found == Probe(
        version="7.2.4",
        config_error="NOPERM this user has no permissions to run it",
        waitaof="ok",
    )
    assert client.commands == [("WAITAOF", 1, 0, durability.PROBE_TIMEOUT_MS)]
    assert assess(found).wait_each_write


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            redis_errors.ResponseError(
                "WAITAOF cannot be used when numlocal is set but appendonly is disabled."
            ),
            "aof_off",
        ),
        (redis_errors.ResponseError("ERR unknown command 'WAITAOF'"), "missing"),
        ([0, 0], "missing"),
    ],
)
async def test_probe_reads_what_waitaof_refused(answer: Any, expected: str) -> None:
    client = FakeClient("7.2.4", {"appendonly": "yes", "appendfsync": "everysec"}, answer)
    assert (await probe(client)).waitaof == expected  # type: ignore[arg-type]


async def test_probe_of_an_older_redis_does_not_try_waitaof() -> None:
    client = FakeClient("7.0.15", {"appendonly": "yes", "appendfsync": "always"}, [1, 0])
    found = await probe(client)  # type: ignore[arg-type]
    assert found == Probe(version="7.0.15", appendonly="yes", appendfsync="always")
    assert client.commands == []


async def test_probe_of_this_machines_redis(redis_url: str) -> None:
    store = RedisStore(redis_url)
    await store.open(migrate=False)
    try:
        verdict = await store.check_durability()
    finally:
        await store.close()
    assert verdict.durable, verdict.problem  # the tests' Redis runs as the README says


# the store's open ----------------------------------------------------------------------


@pytest.fixture
def everysec(tmp_path: Path) -> Iterator[RedisServer]:
    with private_redis(tmp_path / "everysec", EVERYSEC) as server:
        yield server


@pytest.fixture
def hidden_config(tmp_path: Path) -> Iterator[RedisServer]:
    with private_redis(tmp_path / "hidden", args=HIDDEN_CONFIG) as server:
        yield server


async def _refused(url: str) -> str:
    store = RedisStore(url)
    with pytest.raises(StoreNotDurable) as caught:
        await store.open()
    with pytest.raises(StoreUnavailable, match="not open"):
        await store.ping()  # closed again
    return str(caught.value)


async def test_strict_refuses_everysec_naming_what_to_set(everysec: RedisServer) -> None:
    message = await _refused(everysec.url)
    assert "redis://127.0.0.1:" in message
    assert "appendfsync is everysec and Redis 7.0.15 is older than 7.2 (no WAITAOF)" in message
    assert "CONFIG SET appendfsync always" in message
    assert "BOT_REDIS_DURABILITY=relaxed" in message


async def test_strict_refuses_a_redis_without_an_append_only_file(tmp_path: Path) -> None:
    with private_redis(tmp_path / "no-aof", NO_AOF) as server:
        message = await _refused(server.url)
    assert "appendonly is no" in message and "CONFIG SET appendonly yes" in message


async def test_strict_refuses_a_redis_that_hides_config_saying_what_to_do(
    hidden_config: RedisServer,
) -> None:
    message = await _refused(hidden_config.url)
    assert "durability cannot be checked" in message
    assert "provider's console" in message
    assert "BOT_REDIS_DURABILITY=relaxed" in message


@pytest.mark.parametrize("server", ["everysec", "hidden_config"])
async def test_relaxed_starts_with_a_loud_warning(
    request: pytest.FixtureRequest, server: str, caplog: pytest.LogCaptureFixture
) -> None:
    redis: RedisServer = request.getfixturevalue(server)
    caplog.set_level(logging.INFO, logger="bot.store.redis.connection")
    store = RedisStore(redis.url, durability="relaxed")
    await store.open()
    try:
        await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k"))
        assert await store.get_org_by_key("k") is not None
    finally:
        await store.close()
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "NOT DURABLE and BOT_REDIS_DURABILITY=relaxed" in warning.getMessage()
    assert "callbacks Cronofy was already answered 200 for" in warning.getMessage()


async def test_a_durable_redis_opens_and_says_why(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.store.redis.connection")
    store = RedisStore(redis_url, prefix=redis_prefix)
    await store.open()
    await store.close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(
        "durable: append-only file with appendfsync always" in r.getMessage()
        for r in caplog.records
    )


def test_an_unknown_durability_is_refused() -> None:
    with pytest.raises(ValueError, match="strict or relaxed"):
        RedisStore("redis://127.0.0.1:6379/0", durability="lenient")


# each write confirmed, where Redis 7.2 lets the store wait ------------------------------

# Protocol methods that only read, or whose loss in a crash of Redis loses nothing (see their
# comments in bot/store/redis/outbox.py): everything else must wait for its write.
NOT_CONFIRMED = {
    "open",
    "close",
    "ping",
    "where",
    "schema_status",
    "export_records",
    "count_records",
    "get_org",
    "get_org_by_key",
    "list_orgs",
    "get_member",
    "list_members",
    "get_candidate",
    "find_candidate_by_email",
    "list_timeline",
    "get_booking",
    "list_bookings",
    "get_tracked_link",
    "get_message_refs",
    "list_audit",
    "kv_get",
    "kv_list",
    "claim_jobs",
    "list_dead_letters",
    "outbox_depth",
    "get_timer",
    "extend_claims",
    "list_org_events",
    "list_audit_after",
    "due_lag",
    "claim_once",
    "take_lease",
}


def test_every_method_that_writes_waits_for_its_write() -> None:
    protocol = {
        name
        for name, _ in inspect.getmembers(Store)
        if not name.startswith("_") and name not in ("where",)
    }
    assert NOT_CONFIRMED - {"where"} <= protocol
    writers = sorted(protocol - NOT_CONFIRMED)
    assert "commit_event" in writers and "release_claim" in writers
    unconfirmed = [
        n for n in writers if not getattr(getattr(RedisStore, n), "confirms_writes", False)
    ]
    assert unconfirmed == []
    confirmed = [
        n for n in NOT_CONFIRMED if getattr(getattr(RedisStore, n, None), "confirms_writes", False)
    ]
    assert confirmed == []


@pytest.fixture
async def waiting_store(redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The store as it runs on Redis 7.2 with `everysec`: each write followed by MARK and
    WAITAOF on one connection. WAITAOF is stood in for by a script with its reply, counted."""
    store = RedisStore(redis_url, prefix=redis_prefix)
    await store.open()
    store._wait_each_write = True
    counter = f"{redis_prefix}waitaof_calls"
    monkeypatch.setattr(
        durability,
        "WAITAOF",
        ("EVAL", "redis.call('INCR', KEYS[1]) return {1, 0}", 1, counter),
    )
    try:
        yield store, counter
    finally:
        await store.close()


async def test_writes_wait_for_waitaof_and_share_it(waiting_store: Any) -> None:
    store, counter = waiting_store
    await store.put_org(Org(org_id="slack:T1", platform="slack", org_key="k"))
    writes = [
        EventWrite(
            dedupe_key=f"d{i}",
            dedupe_ttl=60,
            org_id="slack:T1",
            jobs=[Job(job_id=f"j{i}", org_id="slack:T1", kind="alert")],
        )
        for i in range(20)
    ]
    assert await asyncio.gather(*(store.commit_event(w) for w in writes)) == [True] * 20
    assert await store.commit_event(writes[0]) is False  # a duplicate waits too
    calls = int(await store._r.get(counter))
    assert 3 <= calls < 22, "one WAITAOF for the writes that finish together"
    await store.get_org("slack:T1")
    await store.claim_once("c", 60)
    assert int(await store._r.get(counter)) == calls, "reads and claims do not wait"
    assert await store._r.exists(store._key("durability_mark")) == 0, "MARK leaves no key"


async def test_a_write_redis_does_not_confirm_is_unavailable(
    waiting_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = waiting_store
    monkeypatch.setattr(durability, "WAITAOF", ("EVAL", "return {0, 0}", 0))
    with pytest.raises(StoreUnavailable, match=r"did not confirm .* append-only file"):
        await store.put_org(Org(org_id="slack:T1", platform="slack"))


async def test_a_write_on_a_redis_without_waitaof_fails_as_a_store_error(
    waiting_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = waiting_store
    monkeypatch.setattr(durability, "WAITAOF", ("WAITAOF", 1, 0, 100))  # unknown on 7.0
    with pytest.raises(Exception, match="WAITAOF") as caught:
        await store.put_org(Org(org_id="slack:T1", platform="slack"))
    assert type(caught.value).__name__ == "StoreError"


# doctor --------------------------------------------------------------------------------


def _settings(url: str, **env: str) -> Settings:
    return Settings.from_env({"BOT_STORE_URL": url, "BOT_SECRET_KEYS": generate_key(), **env})


async def test_doctor_names_a_redis_that_may_lose_acknowledged_writes(
    everysec: RedisServer,
) -> None:
    found = await check_services(_settings(everysec.url))
    assert found.warnings == []
    [problem] = found.problems
    assert problem.startswith("store: Redis may lose writes Slotbot acknowledged")
    assert "`serve` will not start on it" in problem
    assert "CONFIG SET appendfsync always" in problem
    assert "BOT_REDIS_DURABILITY=relaxed" in problem


async def test_doctor_warns_when_relaxed(everysec: RedisServer) -> None:
    found = await check_services(_settings(everysec.url, BOT_REDIS_DURABILITY="relaxed"))
    assert found.problems == []
    [warning] = found.warnings
    assert "NOT DURABLE and BOT_REDIS_DURABILITY=relaxed" in warning
    assert "CONFIG SET appendfsync always" in warning


async def test_doctor_answers_a_redis_that_hides_config(hidden_config: RedisServer) -> None:
    found = await check_services(_settings(hidden_config.url))
    [problem] = found.problems
    assert "durability cannot be checked" in problem
    assert "provider's console" in problem


async def test_doctor_has_nothing_to_say_of_a_durable_redis(redis_server: RedisServer) -> None:
    url = redis_server.url.rsplit("/", 1)[0] + "/11"  # an empty database
    found = await check_services(_settings(url))
    assert found.problems == [] and found.warnings == []
