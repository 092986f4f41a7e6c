"""A version-1 store, opened with the current code: every record is there, reads back right,
and the app runs on it.

The store is the fixture in tests/fixtures/store_v1/ (made by the version-1 code, see its
README): the SQLite file is copied to a temporary folder, the Redis dump loaded under the
test's own prefix. What each check expects comes from expected.json, which holds what the
version-1 code read back from the same files; fields a later version adds to a record are
not compared, fields version 1 had must read back the same.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from adapters.slack.delivery import CHANNEL_TEAMS
from adapters.slack.installations import BOTS, INSTALLATIONS, StoreInstallationStore
from adapters.slack.settings import SlackSettings
from adapters.teams.refs import NAMESPACE as TEAMS_REFS
from adapters.teams.refs import ConversationRefs
from bot.api import tokens as api_tokens
from bot.app import create_app
from bot.config import Settings
from bot.org_state import ACTIVITY, last_callback_at
from bot.outbox.lanes import LANE_NAMESPACE
from bot.outbox.lifecycle import OUTBOX
from bot.outbox.worker import SENT_NAMESPACE
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.copying import copy_store
from bot.store.migrations.renames import v2_claim_key, v2_namespace
from bot.store.records import Job
from bot.store.redis import RedisStore
from bot.store.redis import schema as redis_schema
from bot.store.sqlite import SQLiteStore
from bot.timers import reminder_key
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.base import Recorded
from tests.fakes.slack import FakeSlack
from tests.scenarios.api_support import all_events
from tests.support.redis_keys import load_keys
from tests.support.secret_watch import register_secret

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "store_v1"
EXPECTED: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
KEY = (FIXTURE / EXPECTED["key_file"]).read_text(encoding="ascii").strip()
BOX = SecretBox([KEY])
WAIT = 15.0  # an upper bound for the worker, never a timing assertion

# every kind of record the fixture must hold (a regenerated fixture without one fails here)
RECORD_KINDS = (
    "orgs",
    "members",
    "candidates",
    "bookings",
    "message_refs",
    "tracked_links",
    "pending_jobs",
    "dead_letters",
    "audit",
    "oauth_states",
    "dedupe_claims",
    "callbacks",
    "kv",
    "slack_installation",
    "teams_refs",
)


def expected_for(kind: str) -> dict[str, Any]:
    shared, own = EXPECTED["shared"], EXPECTED["by_store"][kind]
    return {**shared, **own, "kv": {**shared.get("kv", {}), **own.get("kv", {})}}


@dataclass
class V1:
    kind: str
    store: Store
    expected: dict[str, Any]

    def org(self, org_id: str) -> dict[str, Any]:
        return next(o for o in self.expected["orgs"] if o["org_id"] == org_id)


def _register_fixture_secrets() -> None:
    register_secret("fixture Fernet key", KEY)
    exp = expected_for("sqlite")
    for org in exp["orgs"]:
        register_secret("fixture Cronofy client secret", org["cronofy"]["client_secret"])
    for member in exp["members"]:
        register_secret("fixture Cronofy token", member["access_token"], member["refresh_token"])
    register_secret("fixture Slack bot token", exp["slack_installation"]["bot_token"])


STORE_KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
]


def fixture_store(request: pytest.FixtureRequest | _Param, tmp_path: Path) -> Store:
    """The fixture in a store of this test's own (not opened yet): the SQLite file copied to
    tmp_path (the committed file is never opened), the Redis dump loaded under the test's
    prefix."""
    _register_fixture_secrets()
    if request.param == "sqlite":
        copy = tmp_path / "store" / EXPECTED["sqlite_file"]
        copy.parent.mkdir()
        shutil.copyfile(FIXTURE / EXPECTED["sqlite_file"], copy)
        return SQLiteStore(str(copy))
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    dump = json.loads((FIXTURE / EXPECTED["redis_dump"]).read_text(encoding="utf-8"))
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        assert load_keys(client, dump, prefix) == len(dump["keys"])
    finally:
        client.close()
    return RedisStore(url, prefix=prefix)


# and the SQLite fixture after `store copy` to Redis and back: the copy keeps every record
COPIED = pytest.param("copied", id="sqlite-to-redis-to-sqlite", marks=pytest.mark.redis)


@pytest.fixture(params=[*STORE_KINDS, COPIED])
async def v1(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[V1]:
    """The fixture opened with the current code (migrated to its schema version)."""
    if request.param == "copied":
        store = await copied_there_and_back(request, tmp_path)
        kind = "sqlite"
    else:
        store = fixture_store(request, tmp_path)
        await store.open()
        kind = request.param
    try:
        yield V1(kind, store, expected_for(kind))
    finally:
        await store.close()


async def copied_there_and_back(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The SQLite fixture copied into Redis, and from there into a new SQLite store (open)."""
    source = fixture_store(_Param("sqlite", request), tmp_path)
    await source.open()
    middle = RedisStore(
        request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("redis_prefix")
    )
    await middle.open()
    back = SQLiteStore(str(tmp_path / "back" / "slotbot.db"))
    await back.open()
    try:
        for there in ((source, middle), (middle, back)):
            report = await copy_store(*there)
            assert report.problems == [], report.problems
    finally:
        await source.close()
        await middle.close()
    return back


@dataclass
class _Param:
    """A fixture request that asks for another store kind."""

    param: str
    request: pytest.FixtureRequest

    def getfixturevalue(self, name: str) -> Any:
        return self.request.getfixturevalue(name)


@pytest.fixture(params=STORE_KINDS)
async def unopened(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    store = fixture_store(request, tmp_path)
    try:
        yield store
    finally:
        await store.close()


def picked(record: Any, like: dict[str, Any]) -> dict[str, Any]:
    """The record's fields that `like` names (a missing one shows as "<missing>")."""
    data = asdict(record)
    return {name: data.get(name, "<missing>") for name in like}


def encrypted_marked(value: Any) -> Any:
    """Ciphertexts change with every encryption: each must decrypt with the fixture key, and is
    compared as "<encrypted>"."""
    if isinstance(value, dict):
        return {k: encrypted_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encrypted_marked(v) for v in value]
    if isinstance(value, str) and value.startswith("gAAAA"):
        BOX.decrypt(value)
        return "<encrypted>"
    return value


def job_view(job: Any) -> dict[str, Any]:
    target = job.payload.get("target") or {}
    return {
        "job_id": job.job_id,
        "org_id": job.org_id,
        "kind": job.kind,
        "target": f"{target.get('kind')}:{target.get('conversation_id') or target.get('user_id')}",
        "booking_id": job.payload.get("booking_id"),
        "seq": job.payload.get("seq"),
        "attempts": job.attempts,
        "last_error": job.last_error,
        "dead_reason": job.dead_reason,
        "created_at": job.created_at,
    }


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the fixture files themselves ----------------------------------------------------------


def test_fixture_files_are_a_version_1_store_with_every_record_kind() -> None:
    assert EXPECTED["format"] == "slotbot-store-fixture"
    assert EXPECTED["schema_version"] == 1
    for kind in ("sqlite", "redis"):
        exp = expected_for(kind)
        missing = [name for name in RECORD_KINDS if not exp.get(name)]
        assert not missing, f"{kind}: the fixture holds no {missing}"
        assert set(exp["kv"]) == set(EXPECTED["kv_namespaces"])
    # the kv namespaces of version 1 are the ones the code still reads (under their names
    # from version 2 on)
    in_code = {
        INSTALLATIONS,
        BOTS,
        CHANNEL_TEAMS,
        TEAMS_REFS,
        ACTIVITY,
        LANE_NAMESPACE,
        SENT_NAMESPACE,
    }
    assert {v2_namespace(namespace) for namespace in EXPECTED["kv_namespaces"]} <= in_code
    # one SQLite file in rollback-journal mode (header bytes 18-19 are 2 in WAL mode)
    db = FIXTURE / EXPECTED["sqlite_file"]
    header = db.read_bytes()[:100]
    assert header.startswith(b"SQLite format 3\x00") and header[18:20] == b"\x01\x01"
    assert not db.with_name(db.name + "-wal").exists()
    assert not db.with_name(db.name + "-shm").exists()
    dump = json.loads((FIXTURE / EXPECTED["redis_dump"]).read_text(encoding="utf-8"))
    assert dump["format"] == "slotbot-redis-keys" and dump["prefix"] == EXPECTED["redis_prefix"]
    total = sum(p.stat().st_size for p in FIXTURE.iterdir())
    assert total < 500_000, "the fixture should stay small"


async def test_the_fixture_reads_as_version_1_and_opens_at_the_current_version(
    unopened: Store,
) -> None:
    await unopened.open(migrate=False)
    status = await unopened.schema_status()
    assert status.store_version == EXPECTED["schema_version"] == 1
    await unopened.close()
    await unopened.open()
    assert (await unopened.schema_status()).current


# --- every record kind reads back -----------------------------------------------------------


async def test_orgs_with_their_keys_admins_and_routes(v1: V1) -> None:
    store = v1.store
    orgs = await store.list_orgs()
    assert [o.org_id for o in orgs] == [o["org_id"] for o in v1.expected["orgs"]]
    for org in orgs:
        want = v1.org(org.org_id)
        assert org.cronofy is not None
        assert BOX.decrypt(org.cronofy.client_secret_enc) == want["cronofy"]["client_secret"]
        assert {
            "client_id": org.cronofy.client_id,
            "data_center": org.cronofy.data_center,
            "configured_by": org.cronofy.configured_by,
            "configured_at": org.cronofy.configured_at,
        } == {k: v for k, v in want["cronofy"].items() if k != "client_secret"}
        plain = {k: v for k, v in want.items() if k not in ("cronofy", "last_callback_at")}
        assert picked(org, plain) == plain
        assert await last_callback_at(store, org) == want["last_callback_at"]
        by_key = await store.get_org_by_key(want["org_key"])
        assert by_key is not None and by_key.org_id == org.org_id
        assert await store.get_org(org.org_id) == org
        assert org.default_zone is None  # v1 knew no org time zone: the agenda's is UTC
        # written before the note after each interview existed: it is on, 15 minutes after
        assert (org.feedback, org.feedback_delay_minutes) == (True, 15)
        assert org.retention_days is None  # retention off until an admin sets it
        assert org.webhooks == []  # v1 knew no webhooks: none are told of anything


async def test_members_and_their_tokens(v1: V1) -> None:
    for org in v1.expected["orgs"]:
        want = [m for m in v1.expected["members"] if m["org_id"] == org["org_id"]]
        members = await v1.store.list_members(org["org_id"])
        assert [m.user_id for m in members] == [m["user_id"] for m in want]
        for member, expected in zip(members, want, strict=True):
            assert BOX.decrypt_optional(member.access_token_enc) == expected["access_token"]
            assert BOX.decrypt_optional(member.refresh_token_enc) == expected["refresh_token"]
            plain = {k: v for k, v in expected.items() if not k.endswith("_token")}
            assert picked(member, plain) == plain
            assert await v1.store.get_member(member.org_id, member.user_id) == member
            # v1 knew no day's agenda: every member reads with it off, their chat zone unknown
            assert member.agenda_at is None and member.chat_zone is None
            # version 1 knew no reminders: every member has the default, 15 minutes before
            assert "reminder_minutes" not in expected
            assert member.reminder_minutes == 15
    assert any(m["connected"] and m["access_token"] for m in v1.expected["members"])
    assert any(not m["dm_alerts"] for m in v1.expected["members"])


async def test_candidates_by_email_with_their_timelines_and_tracked_links(v1: V1) -> None:
    store = v1.store
    for want in v1.expected["candidates"]:
        # email lookups are case-insensitive
        candidate = await store.find_candidate_by_email(want["org_id"], want["email"].upper())
        assert candidate is not None, "a candidate of the fixture is gone"
        plain = {k: v for k, v in want.items() if k != "timeline"}
        assert picked(candidate, plain) == plain
        assert await store.get_candidate(want["org_id"], want["candidate_id"]) == candidate
        timeline = await store.list_timeline(want["org_id"], want["candidate_id"], limit=100)
        assert [picked(e, w) for e, w in zip(timeline, want["timeline"], strict=True)] == want[
            "timeline"
        ]
        assert len(await store.list_timeline(want["org_id"], want["candidate_id"], limit=1)) == 1
    assert any(len(c["timeline"]) >= 3 for c in v1.expected["candidates"])
    for want in v1.expected["tracked_links"]:
        link = await store.get_tracked_link(want["correlation_id"])
        assert link is not None and picked(link, want) == want


async def _org_events(store: Store, org_id: str) -> list[tuple[str, str, float]]:
    """Every timeline event of the org through the feed, two at a time."""
    seen: list[tuple[str, str, float]] = []
    after = None
    while True:
        page = await store.list_org_events(org_id, after, limit=2)
        if not page.rows:
            return seen
        seen += [(r.candidate_id, r.entry.kind, r.entry.at) for r in page.rows]
        after = page.last


async def test_the_timelines_of_version_1_are_an_orgs_events_in_order(v1: V1) -> None:
    """Schema version 4: the read API's event feed serves what version 1 stored (on Redis,
    each org's event index is backfilled by the migration)."""
    store = v1.store
    orgs = {c["org_id"] for c in v1.expected["candidates"]}
    for org_id in orgs:
        want = [
            (c["candidate_id"], e["kind"], e["at"])
            for c in v1.expected["candidates"]
            if c["org_id"] == org_id
            for e in c["timeline"]
        ]
        seen = await _org_events(store, org_id)
        assert sorted(seen) == sorted(want)
        # in the order written: by time, and each candidate's own order kept
        assert [at for _, _, at in seen] == sorted(at for _, _, at in seen)
        for c in v1.expected["candidates"]:
            if c["org_id"] == org_id:
                mine = [(k, at) for cid, k, at in seen if cid == c["candidate_id"]]
                assert mine == [(e["kind"], e["at"]) for e in c["timeline"]]
    assert sum(len(c["timeline"]) for c in v1.expected["candidates"]) >= 3
    if isinstance(store, RedisStore):
        # the backfill is safe to run again: the same index, nothing twice
        before = {org_id: await _org_events(store, org_id) for org_id in orgs}
        await redis_schema.STEPS[3].apply(store._r, store._prefix)
        assert {org_id: await _org_events(store, org_id) for org_id in orgs} == before


async def test_the_events_api_serves_the_timelines_of_version_1_in_order(
    v1: V1, aiohttp_client: Any
) -> None:
    """Over HTTP, with a token made on the migrated store: every timeline event of each org,
    a page at a time, each page checked against the OpenAPI document."""
    settings = Settings.from_env({"BOT_PUBLIC_URL": "https://slotbot.test"})
    app = create_app(settings, store=v1.store, secrets=BOX, run_worker=False, platforms=[])
    client = await aiohttp_client(app)
    for org_id in {c["org_id"] for c in v1.expected["candidates"]}:
        token = await api_tokens.create(v1.store, org_id, "fixture", actor="U1", now=1.0)
        served = await all_events(client, token, 2)
        want = [
            (c["candidate_id"], e["kind"], e["at"])
            for c in v1.expected["candidates"]
            if c["org_id"] == org_id
            for e in c["timeline"]
        ]
        got = [(e["candidate_id"], e["kind"], e["at"]) for e in served]
        assert sorted(got) == sorted(want)
        assert got == await _org_events(v1.store, org_id)
        assert [at for _, _, at in got] == sorted(at for _, _, at in got)


async def test_bookings_upcoming_and_their_message_refs(v1: V1) -> None:
    store = v1.store
    for org in v1.expected["orgs"]:
        org_id = org["org_id"]
        want = [b for b in v1.expected["bookings"] if b["org_id"] == org_id]
        # every booking of the fixture starts in 2031: still upcoming
        bookings = await store.list_bookings(org_id, start_after=iso(0))
        assert [picked(b, w) for b, w in zip(bookings, want, strict=True)] == want
        for booking in bookings:
            assert await store.get_booking(org_id, booking.booking_id) == booking
            mine = await store.list_bookings(org_id, recruiter_id=booking.recruiter_id)
            assert booking.booking_id in [b.booking_id for b in mine]
            refs = await store.get_message_refs(org_id, booking.booking_id)
            expected_refs = {
                r["target"]: r
                for r in v1.expected["message_refs"]
                if r["org_id"] == org_id and r["booking_id"] == booking.booking_id
            }
            assert sorted(refs) == sorted(expected_refs)
            for target, ref in refs.items():
                like = {
                    k: v
                    for k, v in expected_refs[target].items()
                    if k not in ("org_id", "booking_id", "target")
                }
                assert picked(ref, like) == like
    assert v1.expected["message_refs"], "the fixture's delivered messages"


async def test_outbox_pending_jobs_are_claimable_and_dead_letters_listed(v1: V1) -> None:
    store = v1.store
    exp = v1.expected
    assert await store.outbox_depth() == exp["outbox_depth"] == len(exp["pending_jobs"])
    dead = await store.list_dead_letters(limit=100)
    assert [job_view(j) for j in dead] == exp["dead_letters"]  # newest first, with reasons
    for org in exp["orgs"]:
        mine = [j["job_id"] for j in exp["dead_letters"] if j["org_id"] == org["org_id"]]
        assert [j.job_id for j in await store.list_dead_letters(org["org_id"])] == mine
    # every pending job (never tried, waiting for a retry, in flight) is found by a worker
    await asyncio.sleep(0.05)  # a Redis entry is claimable once idle longer than the timeout
    far = max(j["created_at"] for j in exp["pending_jobs"]) + 10_000_000
    claimed = await store.claim_jobs("fixture-test", limit=100, visibility_timeout=0.01, now=far)
    assert sorted((job_view(j) for j in claimed), key=lambda j: j["job_id"]) == exp["pending_jobs"]
    for job in claimed:
        await store.ack_job(job.job_id)
    assert await store.outbox_depth() == 0
    # and dead letters can still be sent again
    ids = [j["job_id"] for j in exp["dead_letters"]]
    assert await store.requeue_dead_letters(ids) == len(ids)
    again = await store.claim_jobs("fixture-test", limit=100, visibility_timeout=0.01, now=far)
    assert sorted(j.job_id for j in again) == sorted(ids)
    assert await store.list_dead_letters() == []


async def test_an_uninstall_holds_every_pending_job_of_its_org(v1: V1) -> None:
    store = v1.store
    pending = v1.expected["pending_jobs"]
    for org in v1.expected["orgs"]:
        mine = sorted(j["job_id"] for j in pending if j["org_id"] == org["org_id"])
        assert mine, f"the fixture has pending jobs for {org['platform']}"
        assert await store.dead_letter_org_jobs(org["org_id"], "app_uninstalled") == len(mine)
        held = await store.list_dead_letters(org["org_id"], limit=100)
        assert sorted(j.job_id for j in held if j.dead_reason == "app_uninstalled") == mine
    assert await store.outbox_depth() == 0
    assert await store.requeue_dead_letters([j["job_id"] for j in pending]) == len(pending)
    assert await store.outbox_depth() == len(pending)


async def test_timers_from_version_3_live_beside_the_jobs_version_1_queued(v1: V1) -> None:
    """Version 3 keys outbox jobs as timers: the jobs version 1 queued have no key, and a
    timer set, moved and cancelled on the migrated store leaves them all alone."""
    store = v1.store
    exp = v1.expected
    org_id = exp["orgs"][0]["org_id"]
    key = reminder_key(org_id, "booking-from-v3", "U-any")
    far = max(j["created_at"] for j in exp["pending_jobs"]) + 10_000_000
    first = Job(job_id="timer-1", org_id=org_id, kind="notice", not_before=far, timer_key=key)
    moved = dataclasses.replace(first, job_id="timer-2", not_before=far + 60)
    await store.enqueue([first])
    await store.enqueue([moved])
    found = await store.get_timer(key)
    assert found is not None and found.job_id == "timer-2"
    assert await store.outbox_depth() == len(exp["pending_jobs"]) + 1
    assert await store.cancel_timers([key]) == 1
    assert await store.outbox_depth() == len(exp["pending_jobs"])
    await asyncio.sleep(0.05)
    claimed = await store.claim_jobs("fixture-test", limit=100, visibility_timeout=0.01, now=far)
    assert sorted(j.job_id for j in claimed) == sorted(j["job_id"] for j in exp["pending_jobs"])
    assert all(j.timer_key == "" for j in claimed)


async def test_audit_entries_newest_first(v1: V1) -> None:
    for org_id, want in v1.expected["audit"].items():
        entries = await v1.store.list_audit(org_id, limit=100)
        assert [picked(e, w) for e, w in zip(entries, want, strict=True)] == want
        assert len(entries) == len(want)


async def test_oauth_states_are_consumed_once(v1: V1) -> None:
    for want in v1.expected["oauth_states"]:
        state = await v1.store.consume_oauth_state(want["state"])
        assert state is not None, f"OAuth state for {want['purpose']} is gone"
        assert picked(state, want) == want
        assert await v1.store.consume_oauth_state(want["state"]) is None


async def test_dedupe_claims_are_still_held(v1: V1) -> None:
    # under their names from version 2 on (the code claims those)
    for key in map(v2_claim_key, v1.expected["dedupe_claims"]):
        assert not await v1.store.claim_once(key, 60.0), f"claim {key.split(':')[0]} was lost"
    assert await v1.store.claim_once("fixture-test:never-claimed", 60.0)


async def test_kv_documents_of_every_namespace(v1: V1) -> None:
    for old_name, want in v1.expected["kv"].items():
        namespace = v2_namespace(old_name)  # its name from version 2 on
        docs = await v1.store.kv_list(namespace)
        if namespace != old_name:
            assert await v1.store.kv_list(old_name) == {}, f"{old_name} was left behind"
        assert encrypted_marked(docs) == want, namespace
        for key, doc in docs.items():
            assert await v1.store.kv_get(namespace, key) == doc


async def test_slack_installation_is_found_and_its_bot_token_decrypts(v1: V1) -> None:
    want = v1.expected["slack_installation"]
    installations = StoreInstallationStore(v1.store, BOX)
    bot = await installations.async_find_bot(enterprise_id=None, team_id=want["team_id"])
    found = await installations.async_find_installation(enterprise_id=None, team_id=want["team_id"])
    assert bot is not None and found is not None
    assert bot.bot_token == want["bot_token"]
    assert {
        "team_id": found.team_id,
        "team_name": found.team_name,
        "app_id": found.app_id,
        "user_id": found.user_id,
        "bot_token": found.bot_token,
        "bot_id": bot.bot_id,
        "bot_user_id": bot.bot_user_id,
        "bot_scopes": bot.bot_scopes,
        "installed_at": found.installed_at,
    } == want
    by_user = await installations.async_find_installation(
        enterprise_id=None, team_id=want["team_id"], user_id=want["user_id"]
    )
    assert by_user is not None and by_user.bot_token == want["bot_token"]


async def test_teams_conversation_references(v1: V1) -> None:
    want = v1.expected["teams_refs"]
    refs = ConversationRefs(v1.store)
    channel = await refs.conversation(want["channel"]["conversation_id"])
    personal = await refs.personal(want["tenant_id"], want["user_id"])
    assert channel is not None and personal is not None
    assert channel.tenant_id == personal.tenant_id == want["tenant_id"]
    assert {
        "conversation_id": channel.reference.conversation.id,
        "service_url": channel.reference.service_url,
        "kind": channel.kind,
        "team_id": channel.team_id,
        "bot_id": channel.reference.bot.id,
    } == want["channel"]
    assert {
        "conversation_id": personal.reference.conversation.id,
        "service_url": personal.reference.service_url,
        "kind": personal.kind,
    } == want["personal"]
    assert await refs.member(want["tenant_id"], want["user_id"]) == want["member"]
    assert await refs.service_url(want["tenant_id"]) == want["service_url"]
    assert await refs.tenant_has_installs(want["tenant_id"])


# --- and the app works on it ------------------------------------------------------------------


def push_headers(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Cronofy-HMAC-SHA256": base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


async def until(what: str, check: Callable[[], Awaitable[bool]]) -> None:
    async def wait() -> None:
        while not await check():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(wait(), WAIT)
    except TimeoutError:
        raise AssertionError(f"waited {WAIT}s for: {what}") from None


async def test_the_app_on_a_v1_store_updates_the_messages_it_posted_before(
    v1: V1, fake_slack: FakeSlack, aiohttp_client: Any
) -> None:
    store, exp = v1.store, v1.expected
    plan = EXPECTED["reschedule"]
    org = v1.org(plan["org_id"])
    install = exp["slack_installation"]
    booking = next(b for b in exp["bookings"] if b["booking_id"] == plan["booking_id"])
    refs = {
        r["target"]: r
        for r in exp["message_refs"]
        if r["org_id"] == plan["org_id"] and r["booking_id"] == plan["booking_id"]
    }
    channel, dm = refs[plan["channel_target"]], refs[plan["dm_target"]]
    timeline_before = next(c for c in exp["candidates"] if c["email"] == plan["candidate_email"])[
        "timeline"
    ]

    # multi-workspace: the only token Slack accepts is the one in the stored installation
    fake_slack.add_token(
        install["bot_token"],
        team_id=install["team_id"],
        user_id=install["bot_user_id"],
        bot_id=install["bot_id"],
    )
    settings = Settings.from_env(
        {
            "BOT_PUBLIC_URL": "https://slotbot.test",
            "SLACK_SIGNING_SECRET": "fixture-test-signing-secret",
            "SLACK_CLIENT_ID": "1111111111.2222222222",
            "SLACK_CLIENT_SECRET": "fixture-test-client-secret",
            "SLACK_API_URL": fake_slack.api_url,
        }
    )
    slack = SlackSettings.from_env(settings.env)
    assert slack.multi_workspace and not slack.bot_token
    app = create_app(settings, store=store, secrets=BOX, run_worker=True)
    app[OUTBOX].worker_options = {"poll_interval": 0.02, "base_delay": 0.05}
    client = await aiohttp_client(app)

    # Cronofy delivering an accepted callback again changes nothing
    for callback in exp["callbacks"]:
        secret = v1.org(callback["org_id"])["cronofy"]["client_secret"]
        body = callback["body"].encode()
        response = await client.post(
            f"/cronofy/push/{v1.org(callback['org_id'])['org_key']}{callback['query']}",
            data=body,
            headers=push_headers(secret, body),
        )
        assert response.status == 200, await response.text()
        assert (await response.json())["status"] == "duplicate"

    # the candidate moves the stored booking again, later than anything seen for it
    start, end = "2031-03-06T09:00:00Z", "2031-03-06T09:45:00Z"
    body = json.dumps(
        time_chosen(
            request_id=plan["booking_id"],
            correlation_id=plan["correlation_id"],
            email=plan["candidate_email"],
            name=plan["candidate_name"],
            start=start,
            end=end,
            triggered_at=iso(booking["last_triggered_at"] + 86400),
        )
    ).encode()
    response = await client.post(
        f"/cronofy/push/{org['org_key']}",
        data=body,
        headers=push_headers(org["cronofy"]["client_secret"], body),
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["status"] == "accepted"

    def update_of(ref: dict[str, Any]) -> Callable[[Recorded], bool]:
        return lambda r: (
            r.name == "chat.update"
            and r.args.get("channel") == ref["conversation_id"]
            and r.args.get("ts") == ref["message_id"]
        )

    def reply_under(ref: dict[str, Any]) -> Callable[[Recorded], bool]:
        return lambda r: (
            r.name == "chat.postMessage"
            and r.args.get("channel") == ref["conversation_id"]
            and r.args.get("thread_ts") == (ref["thread_id"] or ref["message_id"])
        )

    sent: list[Recorded] = []
    for matcher in (update_of(channel), reply_under(channel), update_of(dm), reply_under(dm)):
        sent += await fake_slack.wait_for(matcher, timeout=WAIT)
    assert all(r.status == 200 and r.response["ok"] for r in sent), [r.response for r in sent]
    assert {r.bearer for r in sent} == {install["bot_token"]}
    moved = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ")
    for ref in (channel, dm):
        text = json.dumps(fake_slack.updates(ref["conversation_id"])[-1])
        assert "rescheduled" in text and f"{moved.day} {moved:%b %Y}" in text, text

    after = await store.get_booking(plan["org_id"], plan["booking_id"])
    assert after is not None
    assert (after.state, after.start, after.version) == (
        "rescheduled",
        start,
        booking["version"] + 1,
    )

    async def refs_moved_on() -> bool:
        now = await store.get_message_refs(plan["org_id"], plan["booking_id"])
        return all(t in now and now[t].seq == after.version for t in refs)

    await until("the message references to show the new booking version", refs_moved_on)
    now = await store.get_message_refs(plan["org_id"], plan["booking_id"])
    # (the deleted channel works again on the fake Slack: it gets a message of its own)
    assert {t: (now[t].conversation_id, now[t].message_id) for t in refs} == {
        t: (r["conversation_id"], r["message_id"]) for t, r in refs.items()
    }, "the same messages, updated in place"
    timeline = await store.list_timeline(plan["org_id"], after.candidate_id or "", limit=100)
    assert [e.kind for e in timeline] == [e["kind"] for e in timeline_before] + ["rescheduled"]
    assert timeline[-1].previous_start == booking["start"]
