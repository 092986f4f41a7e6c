"""`store copy`: SQLite → Redis → SQLite gives back every record, secrets still decrypt, the
copied jobs still deliver; a non-empty target is refused unless forced; a copy cut short is
run again with --force to the same end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.errors import TransferError
from bot.secrets import SecretBox
from bot.store.copying import copy_store
from bot.store.records import Org
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore
from bot.store.transfer import KINDS
from tests.bot.store.populate import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    ORGS,
    populate,
    snapshot,
)

pytestmark = pytest.mark.redis

BOX = SecretBox([Fernet.generate_key().decode()])


@pytest.fixture
async def sqlite_source(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(str(tmp_path / "source.db"))
    await store.open()
    await populate(store, BOX)
    yield store
    await store.close()


@pytest.fixture
async def redis_target(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_url, prefix=redis_prefix)
    await store.open()
    yield store
    await store.close()


async def test_sqlite_to_redis_and_back_round_trips_every_record(
    sqlite_source: SQLiteStore, redis_target: RedisStore, tmp_path: Path
) -> None:
    to_redis = await copy_store(sqlite_source, redis_target)
    assert to_redis.problems == []
    assert all(to_redis.copied[kind] > 0 for kind in KINDS), to_redis.copied
    assert to_redis.target == to_redis.source

    back = SQLiteStore(str(tmp_path / "back.db"))
    await back.open()
    try:
        to_sqlite = await copy_store(redis_target, back)
        assert to_sqlite.problems == []
        assert to_sqlite.copied == to_redis.copied

        original = await snapshot(sqlite_source)
        assert await snapshot(redis_target) == original
        assert await snapshot(back) == original

        for copy in (redis_target, back):
            await works_as_the_source_did(copy)
    finally:
        await back.close()


async def works_as_the_source_did(store: SQLiteStore | RedisStore) -> None:
    """What the copy is for: secrets decrypt with the same keys, lookups by index work,
    queued jobs (the held one too) are delivered, dead letters replay, claims still hold."""
    org = await store.get_org_by_key("pushkey-copy-0")
    assert org is not None and org.cronofy is not None
    assert BOX.decrypt(org.cronofy.client_secret_enc) == CLIENT_SECRET
    member = await store.get_member(ORGS[0], "U0")
    assert member is not None and BOX.decrypt_optional(member.access_token_enc) == ACCESS_TOKEN
    candidate = await store.find_candidate_by_email(ORGS[1], "C2@example.com")
    assert candidate is not None
    timeline = await store.list_timeline(ORGS[1], candidate.candidate_id)
    assert [e.kind for e in timeline] == ["booked", "rescheduled", "rescheduled"]
    assert [b.booking_id for b in await store.list_bookings(ORGS[0], start_after="2031")] == [
        "book-0-0",
        "book-0-1",
        "book-0-2",
    ]
    refs = await store.get_message_refs(ORGS[0], "book-0-1")
    assert set(refs) == {"channel:C1", "dm:U0"}
    assert [a.action for a in await store.list_audit(ORGS[0], limit=2)] == [
        "cronofy.setup",
        "cronofy.callback",
    ]
    assert await store.claim_once("slack_request:copy-1", 60) is False
    state = await store.consume_oauth_state("state-copy-1")
    assert state is not None and await store.consume_oauth_state("state-copy-1") is None
    assert (await store.kv_get("teams_refs", "tenant:1")) == {
        "service_url": "https://smba.example/"
    }

    dead = await store.list_dead_letters()
    assert [(j.job_id, j.dead_reason) for j in dead] == [
        ("job-dead-2", "channel_not_found"),
        ("job-dead-1", "app_uninstalled"),
        ("job-dead-0", "channel_not_found"),
    ]
    queued = await store.claim_jobs("worker-2", limit=100, visibility_timeout=60, now=2e9)
    assert sorted(j.job_id for j in queued) == sorted(
        ["job-held"] + [f"job-{o}-0-{e}" for o in range(2) for e in range(3)]
    )
    for job in queued:
        await store.ack_job(job.job_id)
    assert await store.outbox_depth() == 0
    assert await store.requeue_dead_letters(["job-dead-1"]) == 1
    [replayed] = await store.claim_jobs("worker-2", limit=10, visibility_timeout=60, now=2e9)
    assert replayed.job_id == "job-dead-1"


async def test_a_target_that_holds_records_is_refused_unless_forced(
    sqlite_source: SQLiteStore, redis_target: RedisStore
) -> None:
    await redis_target.put_org(Org(org_id="slack:TOTHER", platform="slack", org_key="other"))
    with pytest.raises(TransferError, match=r"not empty .*1 org.*--force"):
        await copy_store(sqlite_source, redis_target)
    assert await redis_target.get_org("slack:TOTHER") is not None, "nothing was touched"
    assert await redis_target.get_org(ORGS[0]) is None

    forced = await copy_store(sqlite_source, redis_target, force=True)
    assert forced.problems == []
    assert await redis_target.get_org("slack:TOTHER") is None, "replaced, not merged"
    assert await redis_target.get_org_by_key("other") is None


class CutShort(Exception):
    pass


async def test_a_copy_cut_short_is_run_again_with_force_to_the_same_end(
    sqlite_source: SQLiteStore, redis_target: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = 0

    def stop_after_two_batches(_counts: dict[str, int]) -> None:
        nonlocal written
        written += 1
        if written == 2:
            raise CutShort

    # small pages, so that the copy is cut with some kinds written and others not
    monkeypatch.setattr("bot.store.sqlite.transfer.PAGE", 5)
    with pytest.raises(CutShort):
        await copy_store(sqlite_source, redis_target, on_batch=stop_after_two_batches)
    monkeypatch.undo()
    partial = await redis_target.count_records()
    assert 0 < sum(partial.values()) < sum((await sqlite_source.count_records()).values())

    with pytest.raises(TransferError, match="not empty"):
        await copy_store(sqlite_source, redis_target)
    again = await copy_store(sqlite_source, redis_target, force=True)
    assert again.problems == []
    assert await snapshot(redis_target) == await snapshot(sqlite_source)


async def test_a_source_at_an_older_schema_version_is_refused(
    sqlite_source: SQLiteStore, redis_target: RedisStore, tmp_path: Path
) -> None:
    from tests.bot.store.migration_steps import sqlite_plus

    newer_code = SQLiteStore(str(tmp_path / "target.db"), steps=sqlite_plus("adds"))
    await newer_code.open()
    # the source is at today's version, which is older than this "newer" Slotbot's
    older = SQLiteStore(sqlite_source._path, steps=sqlite_plus("adds"))
    await older.open(migrate=False)
    try:
        with pytest.raises(TransferError, match="Migrate it first"):
            await copy_store(older, newer_code)
    finally:
        await older.close()
        await newer_code.close()
