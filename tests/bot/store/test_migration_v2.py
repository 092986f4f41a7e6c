"""Schema version 2: kv namespaces and claim keys renamed into the store's one key style.

A store written at version 1 (by the real step 1 alone) under the old names, then opened with
today's code: every document is found under its new namespace and every claim under its new
key with the time it had left, the old names are gone, and a claim written under an old name
still blocks the replay it guards. SQLite renames in the migration's one transaction; the
Redis step is safe to run again, also over a run that was cut short.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
import redis
import redis.asyncio as aioredis

from adapters.slack.delivery import CHANNEL_TEAMS
from adapters.slack.installations import BOTS, INSTALLATIONS
from adapters.teams.refs import NAMESPACE as TEAMS_REFS
from adapters.teams.refs import ConversationRefs
from bot.alerts.intake import DEDUPE_TTL, dedupe_key
from bot.config import Settings
from bot.cronofy import connect
from bot.errors import MigrationFailed
from bot.org_state import ACTIVITY
from bot.outbox.lanes import LANE_NAMESPACE
from bot.outbox.worker import SENT_NAMESPACE
from bot.runtime import Services
from bot.secrets import SecretBox, generate_key
from bot.store.backup import backup_sqlite, restore, write_dump
from bot.store.base import Store
from bot.store.migrations import SCHEMA_VERSION
from bot.store.migrations.renames import (
    NAMESPACE,
    V2_CLAIM_PREFIXES,
    V2_KV_NAMESPACES,
    v2_claim_key,
)
from bot.store.records import EventWrite
from bot.store.redis import RedisStore
from bot.store.redis import schema as redis_schema
from bot.store.sqlite import SQLiteStore
from bot.store.sqlite import schema as sqlite_schema
from bot.store.transfer import ClaimItem
from tests.adapters.slack.support import event_body, make_app, post_signed, slack_settings
from tests.bot.store.migration_steps import sqlite_plus
from tests.fakes.slack import FakeSlack
from tests.support.redis_keys import dump_keys

HOUR = 3600.0
ORG = "slack:T1"
CALLBACK_BODY = b'{"notification": {"type": "smart_invite_changed"}}'
CONNECT_STATE = "s" * 43  # the shape of a state Slotbot makes

# documents version 1 kept under "teams.refs"
TEAMS_DOCS: dict[str, dict[str, object]] = {
    "tenant:t1": {"service_url": "https://smba.example/"},
    "member:t1:u1": {"name": "Tina"},
}


def v1_claim_keys() -> dict[str, float]:
    """A claim of every kind version 1 wrote under a name that changed -> hours it had left."""
    digest = hashlib.sha256(ORG.encode() + b"\n" + CALLBACK_BODY).hexdigest()
    used = hashlib.sha256(CONNECT_STATE.encode()).hexdigest()
    return {
        f"cronofy:{digest}": 72.0,
        f"cronofy-state-used:{used}": 24.0,
        "slack:request:1790000000:v0=abc": 0.5,
        "slack:event:EvOld1": 1.0,
        "teams.activity:19:c1@thread.tacv2:a1": 2.0,
        "alerts:invite:slack:T1:C0GONE": 168.0,
    }


STORE_KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
]

Fill = Callable[[Store], Awaitable[None]]


@pytest.fixture(params=STORE_KINDS)
async def upgraded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[Fill], Awaitable[Store]]]:
    """Makes a version-1 store, fills it, and opens it with today's code (migrated)."""
    opened: list[Store] = []

    def at(steps_upto: int | None) -> Store:
        if request.param == "sqlite":
            steps = sqlite_schema.STEPS[:steps_upto]
            return SQLiteStore(str(tmp_path / "store" / "slotbot.db"), steps=steps)
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        return RedisStore(url, prefix=prefix, steps=redis_schema.STEPS[:steps_upto])

    async def make(fill: Fill) -> Store:
        old = at(1)
        await old.open()
        assert (await old.schema_status()).store_version == 1
        try:
            await fill(old)
        finally:
            await old.close()
        today = at(None)
        opened.append(today)
        await today.open()
        assert (await today.schema_status()).store_version == SCHEMA_VERSION
        return today

    try:
        yield make
    finally:
        for store in opened:
            await store.close()


async def claims_of(store: Store) -> dict[str, float]:
    """Every live claim and when it expires, as a copy reads them."""
    found: dict[str, float] = {}
    async for batch in store.export_records():
        found.update({i.key: i.expires_at for i in batch if isinstance(i, ClaimItem)})
    return found


# the style itself ---------------------------------------------------------------------------


def test_every_kv_namespace_and_claim_key_of_the_code_follows_the_style() -> None:
    namespaces = {INSTALLATIONS, BOTS, CHANNEL_TEAMS, TEAMS_REFS, ACTIVITY}
    namespaces |= {LANE_NAMESPACE, SENT_NAMESPACE}
    assert [n for n in namespaces if not NAMESPACE.fullmatch(n)] == []
    # what version 2 renamed to is what the code uses now, and nothing uses the old names
    assert set(V2_KV_NAMESPACES.values()) <= namespaces
    assert not set(V2_KV_NAMESPACES) & namespaces
    made = [dedupe_key(ORG, CALLBACK_BODY)]
    for key in made:
        namespace = key.split(":", 1)[0]
        assert NAMESPACE.fullmatch(namespace), key
        assert v2_claim_key(key) == key, f"{key} would be renamed"
    assert {key.split(":", 1)[0] + ":" for key in made} <= set(V2_CLAIM_PREFIXES.values())


# both stores --------------------------------------------------------------------------------


async def test_kv_documents_move_to_their_new_namespace(
    upgraded: Callable[[Fill], Awaitable[Store]],
) -> None:
    async def fill(store: Store) -> None:
        for key, doc in TEAMS_DOCS.items():
            await store.kv_put("teams.refs", key, doc)
        await store.kv_put(BOTS, "none:T1", {"sealed": "x"})

    store = await upgraded(fill)
    assert await store.kv_list(TEAMS_REFS) == TEAMS_DOCS
    assert await store.kv_list("teams.refs") == {}, "the old namespace is gone"
    assert await store.kv_list(BOTS) == {"none:T1": {"sealed": "x"}}, "others stay as they were"
    assert await ConversationRefs(store).service_url("t1") == "https://smba.example/"


async def test_claims_move_to_their_new_keys_with_the_time_they_had_left(
    upgraded: Callable[[Fill], Awaitable[Store]],
) -> None:
    old = v1_claim_keys()
    lease = f"{LANE_NAMESPACE}:slack:T1|channel:C1:0"  # already in the style

    async def fill(store: Store) -> None:
        for key, hours in old.items():
            assert await store.claim_once(key, hours * HOUR)
        assert await store.claim_once(lease, HOUR)

    written = time.time()
    store = await upgraded(fill)
    held = await claims_of(store)
    assert sorted(held) == sorted([*map(v2_claim_key, old), lease])
    for key, hours in old.items():
        assert held[v2_claim_key(key)] == pytest.approx(written + hours * HOUR, abs=30)
    for key in old:
        assert not await store.claim_once(v2_claim_key(key), HOUR), f"{key} was lost"
        assert await store.claim_once(key, HOUR), f"{key} is still held under its old name"
    assert not await store.claim_once(lease, HOUR)


async def test_where_both_names_exist_the_new_one_keeps_what_it_holds(
    upgraded: Callable[[Fill], Awaitable[Store]],
) -> None:
    """Both names, as when a newer Slotbot wrote beside an older one still running: the new
    name's documents stay and the old name's others join them; a claim held under both is
    held until the later of its two expiries."""

    async def fill(store: Store) -> None:
        await store.kv_put("teams.refs", "tenant:a", {"from": "old"})
        await store.kv_put("teams.refs", "tenant:b", {"from": "old"})
        await store.kv_put(TEAMS_REFS, "tenant:b", {"from": "new"})
        await store.kv_put(TEAMS_REFS, "tenant:c", {"from": "new"})
        await store.claim_once("slack:event:E1", 2 * HOUR)
        await store.claim_once("slack_event:E1", HOUR)
        await store.claim_once("slack:event:E2", HOUR)
        await store.claim_once("slack_event:E2", 2 * HOUR)

    written = time.time()
    store = await upgraded(fill)
    assert await store.kv_list(TEAMS_REFS) == {
        "tenant:a": {"from": "old"},
        "tenant:b": {"from": "new"},
        "tenant:c": {"from": "new"},
    }
    assert await store.kv_list("teams.refs") == {}
    held = await claims_of(store)
    assert sorted(held) == ["slack_event:E1", "slack_event:E2"]
    for key in held:
        assert held[key] == pytest.approx(written + 2 * HOUR, abs=30)


async def test_an_old_named_claim_still_blocks_the_replay_it_guards(
    upgraded: Callable[[Fill], Awaitable[Store]],
) -> None:
    async def fill(store: Store) -> None:
        for key, hours in v1_claim_keys().items():
            await store.claim_once(key, hours * HOUR)

    store = await upgraded(fill)
    # Cronofy delivering an accepted callback again: the store reports a duplicate
    replay = EventWrite(
        dedupe_key=dedupe_key(ORG, CALLBACK_BODY), dedupe_ttl=DEDUPE_TTL, org_id=ORG
    )
    assert await store.commit_event(replay) is False
    # a connect link used before the upgrade is still refused (consumed then, so now it is
    # one Slotbot does not know: nothing is written for it)
    services = Services(Settings.from_env({}), store, SecretBox([generate_key()]))
    before = await store.count_records()
    page = await connect.handle_callback(services, {"state": CONNECT_STATE, "code": "c1"})
    assert page.status == 400 and "Run /schedule connect again" in page.message
    assert await store.count_records() == before


@pytest.mark.parametrize("kind", STORE_KINDS)
async def test_a_slack_event_seen_before_the_upgrade_is_not_run_again(
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    aiohttp_client: Any,
    fake_slack: FakeSlack,
) -> None:
    store: Store
    if kind == "sqlite":
        path = str(tmp_path / "slotbot.db")
        old: Store = SQLiteStore(path, steps=sqlite_schema.STEPS[:1])
        store = SQLiteStore(path)
    else:
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
        old = RedisStore(url, prefix=prefix, steps=redis_schema.STEPS[:1])
        store = RedisStore(url, prefix=prefix)
    await old.open()
    await old.claim_once("slack:event:EvOld1", HOUR)  # as version 1 claimed it
    await old.close()
    await store.open()
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))

    home = {"type": "app_home_opened", "user": "U1", "tab": "home"}
    retry = await post_signed(
        client,
        event_body(home, event_id="EvOld1"),
        "application/json",
        extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert retry.status == 200 and retry.headers.get("X-Slack-No-Retry") == "1"
    # a new event runs: only the one seen before was refused
    other = {"type": "app_home_opened", "user": "U2", "tab": "home"}
    await post_signed(client, event_body(other, event_id="EvNew1"), "application/json")
    published = await fake_slack.wait_for("views.publish")
    assert [r.args["user_id"] for r in published] == ["U2"]


@pytest.mark.parametrize("backup_kind", ["sqlite", "dump"])
async def test_a_version_1_backup_restores_under_the_new_names(
    backup_kind: str, store: Store, tmp_path: Path
) -> None:
    """Either kind of backup taken at version 1, restored into today's store (of either
    kind): migrated on the way, like the store it came from would have been."""
    path, backup = tmp_path / "v1.db", tmp_path / f"v1.{backup_kind}"
    old = SQLiteStore(str(path), steps=sqlite_schema.STEPS[:1])
    await old.open()
    try:
        for key, doc in TEAMS_DOCS.items():
            await old.kv_put("teams.refs", key, doc)
        for key, hours in v1_claim_keys().items():
            await old.claim_once(key, hours * HOUR)
        if backup_kind == "dump":
            info = await write_dump(old, backup)
    finally:
        await old.close()
    if backup_kind == "sqlite":
        info = backup_sqlite(path, backup)
    assert info.schema_version == 1
    assert (await restore(backup, store)).problems == []
    assert await store.kv_list(TEAMS_REFS) == TEAMS_DOCS
    assert await store.kv_list("teams.refs") == {}
    assert sorted(await claims_of(store)) == sorted(map(v2_claim_key, v1_claim_keys()))


# SQLite: in the migration's one transaction -------------------------------------------------


async def test_sqlite_renames_roll_back_with_a_later_step_that_fails(tmp_path: Path) -> None:
    path = tmp_path / "slotbot.db"
    old = SQLiteStore(str(path), steps=sqlite_schema.STEPS[:1])
    await old.open()
    await old.kv_put("teams.refs", "tenant:t1", {"service_url": "https://smba.example/"})
    await old.claim_once("slack:event:Ev1", HOUR)
    await old.close()
    with pytest.raises(MigrationFailed, match="still at schema version 1"):
        await SQLiteStore(str(path), steps=sqlite_plus("fails")).open()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        assert db.execute("SELECT DISTINCT namespace FROM kv").fetchall() == [("teams.refs",)]
        assert db.execute("SELECT key FROM dedupe").fetchall() == [("slack:event:Ev1",)]


# Redis: a step safe to run again ------------------------------------------------------------


async def fill_v1_redis(url: str, prefix: str) -> None:
    old = RedisStore(url, prefix=prefix, steps=redis_schema.STEPS[:1])
    await old.open()
    try:
        for key, doc in TEAMS_DOCS.items():
            await old.kv_put("teams.refs", key, doc)
        await old.kv_put(TEAMS_REFS, "tenant:t2", {"from": "new"})
        for key, hours in v1_claim_keys().items():
            await old.claim_once(key, hours * HOUR)
        for n in range(40):  # enough claims for several batches
            await old.claim_once(f"slack:event:Ev{n:03}", HOUR)
            await old.claim_once(f"cronofy:{n:064x}", 72 * HOUR)
        await old.claim_once("slack_event:Ev000", 2 * HOUR)  # both names
    finally:
        await old.close()


def snapshot(client: redis.Redis, prefix: str) -> list[dict[str, Any]]:
    """Every key under the prefix with its value, times to live to the minute."""
    keys = dump_keys(client, prefix)["keys"]
    for key in keys:
        if key["pttl"] > 0:
            key["pttl"] = round(key["pttl"] / 60_000)
    return cast("list[dict[str, Any]]", keys)


class CutShort:
    """A client whose pipelines fail after `works` of them ran: a step cut short midway."""

    def __init__(self, client: aioredis.Redis, works: int) -> None:
        self._client = client
        self._left = works

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def pipeline(self, **options: Any) -> Any:
        pipe = self._client.pipeline(**options)
        execute = pipe.execute

        async def cut(**kwargs: Any) -> Any:
            if self._left <= 0:
                raise redis.ConnectionError("connection lost")
            self._left -= 1
            return await execute(**kwargs)

        pipe.execute = cut  # type: ignore[method-assign]
        return pipe


@pytest.fixture
async def aclient(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


STEP_2 = redis_schema.STEPS[1]


@pytest.mark.redis
async def test_redis_step_run_twice_ends_the_same(
    redis_url: str, redis_prefix: str, aclient: aioredis.Redis
) -> None:
    assert STEP_2.info.version == 2
    await fill_v1_redis(redis_url, redis_prefix)
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await STEP_2.apply(aclient, redis_prefix)
        once = snapshot(raw, redis_prefix)
        await STEP_2.apply(aclient, redis_prefix)
        assert snapshot(raw, redis_prefix) == once
    finally:
        raw.close()
    names = [key["key"] for key in once]
    assert "kv:teams_refs" in names and "kv:teams.refs" not in names
    assert not [n for n in names if n.startswith("once:") and v2_claim_key(n[5:]) != n[5:]]


@pytest.mark.redis
async def test_redis_step_cut_short_then_run_again_ends_as_one_whole_run(
    redis_url: str,
    redis_prefix: str,
    aclient: aioredis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole, cut = redis_prefix + "whole:", redis_prefix + "cut:"
    await fill_v1_redis(redis_url, whole)
    await fill_v1_redis(redis_url, cut)
    await STEP_2.apply(aclient, whole)

    monkeypatch.setattr("bot.store.redis.schema._MOVE_BATCH", 7)  # many round trips
    with pytest.raises(redis.ConnectionError):
        await STEP_2.apply(cast("aioredis.Redis", CutShort(aclient, works=4)), cut)
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        halfway = [key["key"] for key in snapshot(raw, cut)]
        moved = [n for n in halfway if n.startswith("once:") and v2_claim_key(n[5:]) == n[5:]]
        left = [n for n in halfway if n.startswith("once:") and v2_claim_key(n[5:]) != n[5:]]
        assert moved and left, "the run was cut with some claims moved and others not"
        await STEP_2.apply(aclient, cut)
        assert snapshot(raw, cut) == snapshot(raw, whole)
    finally:
        raw.close()
