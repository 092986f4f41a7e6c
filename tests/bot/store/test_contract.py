"""One contract, every store: each test runs unchanged against SQLite and Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from bot.errors import StaleBooking, StoreUnavailable
from bot.store.base import Store
from bot.store.lease import claim_key
from bot.store.records import (
    AlertRoute,
    AuditEntry,
    Booking,
    BookingMessage,
    Candidate,
    CronofyConfig,
    EventWrite,
    Job,
    Member,
    MessageRef,
    OAuthState,
    Org,
    TimelineEntry,
    TrackedLink,
)

ORG = "slack:T1"
OTHER_ORG = "teams:tenant-2"
HOUR = 3600.0


def make_org(org_id: str = ORG, org_key: str | None = "key-1") -> Org:
    return Org(
        org_id=org_id,
        platform=org_id.split(":")[0],
        name="Acme",
        org_key=org_key,
        cronofy=CronofyConfig(
            client_id="cid",
            client_secret_enc="gAAAA-ciphertext",
            data_center="uk",
            configured_by="U1",
            configured_at=1_700_000_000.5,
        ),
        admins=["U1"],
        routes=[AlertRoute(conversation_id="C1", kinds=["booked"], name="#hiring")],
        type_overrides={"smart_invite.accepted": "booked"},
        created_at=1_700_000_000.0,
    )


def make_job(job_id: str, *, org_id: str = ORG, not_before: float = 0.0) -> Job:
    return Job(
        job_id=job_id,
        org_id=org_id,
        kind="alert",
        payload={"booking_id": "b1", "n": 1},
        not_before=not_before,
        created_at=not_before,
    )


def booking(booking_id: str, start: str | None, recruiter: str = "U1") -> Booking:
    return Booking(org_id=ORG, booking_id=booking_id, recruiter_id=recruiter, start=start)


def event_write(key: str, *, booking_id: str = "b1", job_id: str = "j1") -> EventWrite:
    return EventWrite(
        dedupe_key=key,
        dedupe_ttl=HOUR,
        org_id=ORG,
        candidate=Candidate(org_id=ORG, candidate_id="c1", email="ann@example.com", name="Ann"),
        timeline=TimelineEntry(kind="booked", at=10.0, booking_id=booking_id),
        booking=booking(booking_id, "2030-01-01T10:00:00Z"),
        jobs=[make_job(job_id)],
        audit=AuditEntry(org_id=ORG, actor="system", action="cronofy.callback", at=10.0),
    )


# orgs ----------------------------------------------------------------------------------
async def test_org_round_trip_keeps_nested_records(store: Store) -> None:
    org = make_org()
    await store.put_org(org)
    assert await store.get_org(ORG) == org
    assert await store.get_org_by_key("key-1") == org
    assert await store.get_org("slack:nobody") is None
    assert await store.get_org_by_key("no-such-key") is None


async def test_changing_org_key_releases_the_old_one(store: Store) -> None:
    await store.put_org(make_org(org_key="old"))
    await store.put_org(make_org(org_key="new"))
    assert await store.get_org_by_key("old") is None
    found = await store.get_org_by_key("new")
    assert found is not None and found.org_id == ORG


async def test_removing_org_key_releases_it(store: Store) -> None:
    await store.put_org(make_org(org_key="k"))
    await store.put_org(make_org(org_key=None))
    assert await store.get_org_by_key("k") is None
    assert (await store.get_org(ORG)) is not None


async def test_list_orgs(store: Store) -> None:
    await store.put_org(make_org(ORG, "k1"))
    await store.put_org(make_org(OTHER_ORG, "k2"))
    assert sorted(o.org_id for o in await store.list_orgs()) == [ORG, OTHER_ORG]


# members -------------------------------------------------------------------------------
async def test_members(store: Store) -> None:
    alice = Member(org_id=ORG, user_id="U1", display_name="Alice", access_token_enc="enc")
    bob = Member(org_id=ORG, user_id="U2", display_name="Bob")
    await store.put_member(alice)
    await store.put_member(bob)
    await store.put_member(Member(org_id=OTHER_ORG, user_id="U1"))
    assert await store.get_member(ORG, "U1") == alice
    assert [m.user_id for m in await store.list_members(ORG)] == ["U1", "U2"]
    await store.delete_member(ORG, "U1")
    assert await store.get_member(ORG, "U1") is None
    assert await store.list_members(ORG) == [bob]
    assert await store.get_member(OTHER_ORG, "U1") is not None


# candidates and timeline ---------------------------------------------------------------
async def test_candidate_email_lookup_is_case_insensitive(store: Store) -> None:
    ann = Candidate(org_id=ORG, candidate_id="c1", email="ann@example.com", name="Ann")
    await store.put_candidate(ann)
    assert await store.get_candidate(ORG, "c1") == ann
    assert await store.find_candidate_by_email(ORG, "Ann@Example.COM") == ann
    assert await store.find_candidate_by_email(OTHER_ORG, "ann@example.com") is None
    assert await store.find_candidate_by_email(ORG, "bob@example.com") is None


async def test_candidate_email_change_moves_the_lookup(store: Store) -> None:
    await store.put_candidate(Candidate(org_id=ORG, candidate_id="c1", email="old@example.com"))
    await store.put_candidate(Candidate(org_id=ORG, candidate_id="c1", email="new@example.com"))
    assert await store.find_candidate_by_email(ORG, "old@example.com") is None
    found = await store.find_candidate_by_email(ORG, "new@example.com")
    assert found is not None and found.candidate_id == "c1"


async def test_timeline_is_oldest_first_and_keeps_the_last_entries(store: Store) -> None:
    for n in range(5):
        await store.append_timeline(ORG, "c1", TimelineEntry(kind="booked", at=float(n)))
    await store.append_timeline(ORG, "c2", TimelineEntry(kind="other", at=99.0))
    assert [e.at for e in await store.list_timeline(ORG, "c1")] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [e.at for e in await store.list_timeline(ORG, "c1", limit=2)] == [3.0, 4.0]
    assert await store.list_timeline(ORG, "nobody") == []


# bookings ------------------------------------------------------------------------------
async def test_bookings_soonest_first_by_recruiter_and_start(store: Store) -> None:
    await store.put_booking(booking("late", "2030-03-01T09:00:00Z"))
    await store.put_booking(booking("early", "2030-01-01T09:00:00Z"))
    await store.put_booking(booking("middle", "2030-02-01T09:00:00Z", recruiter="U2"))
    await store.put_booking(Booking(org_id=OTHER_ORG, booking_id="x", start="2030-01-01"))
    ids = [b.booking_id for b in await store.list_bookings(ORG)]
    assert ids == ["early", "middle", "late"]
    mine = await store.list_bookings(ORG, recruiter_id="U1")
    assert [b.booking_id for b in mine] == ["early", "late"]
    after = await store.list_bookings(ORG, start_after="2030-01-01T09:00:00Z")
    assert [b.booking_id for b in after] == ["middle", "late"]
    both = await store.list_bookings(ORG, recruiter_id="U1", start_after="2030-01-15")
    assert [b.booking_id for b in both] == ["late"]


async def test_rescheduled_booking_moves_in_the_order(store: Store) -> None:
    await store.put_booking(booking("a", "2030-01-01T09:00:00Z"))
    await store.put_booking(booking("b", "2030-02-01T09:00:00Z"))
    moved = booking("a", "2030-03-01T09:00:00Z")
    moved.state = "rescheduled"
    await store.put_booking(moved)
    assert await store.get_booking(ORG, "a") == moved
    assert [b.booking_id for b in await store.list_bookings(ORG)] == ["b", "a"]
    later = await store.list_bookings(ORG, start_after="2030-02-15")
    assert [b.booking_id for b in later] == ["a"]
    assert await store.get_booking(ORG, "missing") is None


# tracked links and OAuth states --------------------------------------------------------
async def test_tracked_links(store: Store) -> None:
    link = TrackedLink(correlation_id="corr-1", org_id=ORG, member_id="U1", candidate_id="c1")
    await store.put_tracked_link(link)
    assert await store.get_tracked_link("corr-1") == link
    assert await store.get_tracked_link("corr-2") is None


async def test_oauth_state_is_single_use_and_returned_when_expired(store: Store) -> None:
    expired = OAuthState(
        state="s1",
        purpose="cronofy_connect",
        org_id=ORG,
        member_id="U1",
        expires_at=time.time() - 60,
        data={"return_to": "dm"},
    )
    await store.put_oauth_state(expired)
    assert await store.consume_oauth_state("s1") == expired
    assert await store.consume_oauth_state("s1") is None
    assert await store.consume_oauth_state("never-issued") is None


async def test_concurrent_consumes_of_one_state_have_one_winner(store: Store) -> None:
    state = OAuthState(
        state="race",
        purpose="slack_install",
        org_id=ORG,
        member_id="U1",
        expires_at=time.time() + 600,
    )
    await store.put_oauth_state(state)
    results = await asyncio.gather(*(store.consume_oauth_state("race") for _ in range(20)))
    assert [r for r in results if r is not None] == [state]


# dedupe --------------------------------------------------------------------------------
async def test_claim_once_is_true_once_within_ttl(store: Store) -> None:
    assert await store.claim_once("ev-1", HOUR) is True
    assert await store.claim_once("ev-1", HOUR) is False
    assert await store.claim_once("ev-2", HOUR) is True


async def test_claim_once_can_be_claimed_again_after_ttl(store: Store) -> None:
    assert await store.claim_once("short", 0.05) is True
    await asyncio.sleep(0.2)  # well past the ttl: expiry is the only way this passes
    assert await store.claim_once("short", 0.05) is True


async def test_released_claim_can_be_claimed_again_at_once(store: Store) -> None:
    assert await store.claim_once("failed-work", HOUR) is True
    await store.release_claim("failed-work")
    assert await store.claim_once("failed-work", HOUR) is True
    assert await store.claim_once("failed-work", HOUR) is False
    await store.release_claim("never-claimed")  # nothing to forget is not an error


async def test_concurrent_claims_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim_once("same", HOUR) for _ in range(20)))
    assert results.count(True) == 1


# leases handed on through a kv document -------------------------------------------------
async def test_a_lease_is_taken_once_per_generation_and_handed_on_by_the_document(
    store: Store,
) -> None:
    first = await store.take_lease("lanes", "slack:T1|C1", HOUR)
    assert first.taken and first.doc == {} and first.gen == 0
    again = await store.take_lease("lanes", "slack:T1|C1", HOUR)
    assert not again.taken  # generation 0 is held
    assert (await store.take_lease("lanes", "slack:T1|C2", HOUR)).taken  # another lane
    # the holder hands it on: the next generation is free, with the document as left
    handed = {"gen": 1, "pending": {"j1": {"until": 5.0, "order": [1.0, "j1"]}}}
    await store.kv_put("lanes", "slack:T1|C1", handed)
    after = await store.take_lease("lanes", "slack:T1|C1", HOUR)
    assert after.taken and after.gen == 1 and after.doc == handed
    # the same claim a `claim_once` would take: the two agree on who holds it
    assert not await store.claim_once(claim_key("lanes", "slack:T1|C1", 1), HOUR)
    assert await store.claim_once(claim_key("lanes", "slack:T1|C1", 2), HOUR)


async def test_a_lease_of_a_document_without_a_whole_generation_is_generation_zero(
    store: Store,
) -> None:
    for n, gen in enumerate(["7", 1.5, True, None]):
        await store.kv_put("lanes", f"odd{n}", {"gen": gen})
        lease = await store.take_lease("lanes", f"odd{n}", HOUR)
        assert lease.taken and lease.gen == 0, gen
        assert not await store.claim_once(claim_key("lanes", f"odd{n}", 0), HOUR)


async def test_a_lease_has_one_holder_among_racing_callers(store: Store) -> None:
    await store.kv_put("lanes", "race", {"gen": 3})
    leases = await asyncio.gather(*(store.take_lease("lanes", "race", HOUR) for _ in range(20)))
    assert [lease.taken for lease in leases].count(True) == 1
    assert {lease.gen for lease in leases} == {3}


async def test_a_lease_expires_with_its_time_to_live(store: Store) -> None:
    assert (await store.take_lease("lanes", "short", 0.05)).taken
    await asyncio.sleep(0.2)  # a holder that died: its lease is free again
    assert (await store.take_lease("lanes", "short", 0.05)).taken


# commit_event --------------------------------------------------------------------------
async def test_commit_event_writes_everything(store: Store) -> None:
    assert await store.commit_event(event_write("delivery-1")) is True
    assert await store.get_candidate(ORG, "c1") is not None
    assert [e.booking_id for e in await store.list_timeline(ORG, "c1")] == ["b1"]
    assert await store.get_booking(ORG, "b1") is not None
    assert [a.action for a in await store.list_audit(ORG)] == ["cronofy.callback"]
    assert await store.outbox_depth() == 1
    claimed = await store.claim_jobs("w1", limit=10, visibility_timeout=60)
    assert [j.job_id for j in claimed] == ["j1"]


async def test_replayed_event_writes_nothing_more(store: Store) -> None:
    assert await store.commit_event(event_write("delivery-1")) is True
    replay = event_write("delivery-1", booking_id="b2", job_id="j2")
    assert await store.commit_event(replay) is False
    assert len(await store.list_timeline(ORG, "c1")) == 1
    assert await store.get_booking(ORG, "b2") is None
    assert len(await store.list_audit(ORG)) == 1
    assert await store.outbox_depth() == 1


async def test_commit_event_key_is_shared_with_claim_once(store: Store) -> None:
    assert await store.claim_once("delivery-9", HOUR) is True
    assert await store.commit_event(event_write("delivery-9")) is False
    assert await store.get_candidate(ORG, "c1") is None
    assert await store.outbox_depth() == 0


async def test_concurrent_commits_of_one_event_write_once(store: Store) -> None:
    results = await asyncio.gather(*(store.commit_event(event_write("same")) for _ in range(10)))
    assert results.count(True) == 1
    assert len(await store.list_timeline(ORG, "c1")) == 1
    assert await store.outbox_depth() == 1


async def test_commit_event_with_only_jobs(store: Store) -> None:
    write = EventWrite(
        dedupe_key="k", dedupe_ttl=HOUR, org_id=ORG, jobs=[make_job("a"), make_job("b")]
    )
    assert await store.commit_event(write) is True
    assert await store.outbox_depth() == 2


def versioned_write(key: str, expected: int, start: str) -> EventWrite:
    write = event_write(key, job_id=f"job-{key}")
    write.booking = dataclasses.replace(
        booking("b1", start), version=expected + 1, last_triggered_at=float(expected)
    )
    write.booking_version = expected
    return write


async def test_commit_event_compares_the_booking_version_before_writing(store: Store) -> None:
    assert await store.commit_event(versioned_write("first", 0, "2030-01-01T10:00:00Z"))
    # decided on a read from before "first": refused whole, its dedupe key left unclaimed
    with pytest.raises(StaleBooking):
        await store.commit_event(versioned_write("late", 0, "2030-01-02T10:00:00Z"))
    stored = await store.get_booking(ORG, "b1")
    assert stored is not None
    assert (stored.version, stored.start, stored.last_triggered_at) == (
        1,
        "2030-01-01T10:00:00Z",
        0.0,
    )
    assert len(await store.list_timeline(ORG, "c1")) == 1
    assert await store.outbox_depth() == 1
    # decided again on the fresh read: written
    assert await store.commit_event(versioned_write("late", 1, "2030-01-02T10:00:00Z"))
    stored = await store.get_booking(ORG, "b1")
    assert stored is not None and (stored.version, stored.start) == (2, "2030-01-02T10:00:00Z")
    # a replay is a replay, whatever version it expected
    assert await store.commit_event(versioned_write("first", 0, "2030-01-01T10:00:00Z")) is False


async def test_concurrent_versioned_commits_have_one_winner(store: Store) -> None:
    writes = [versioned_write(f"push-{i}", 0, f"2030-01-0{i + 1}T10:00:00Z") for i in range(5)]
    results = await asyncio.gather(*(store.commit_event(w) for w in writes), return_exceptions=True)
    assert sum(r is True for r in results) == 1
    assert sum(isinstance(r, StaleBooking) for r in results) == 4
    assert await store.outbox_depth() == 1


# message refs, audit, kv ---------------------------------------------------------------
async def test_message_refs(store: Store) -> None:
    channel = MessageRef(platform="slack", conversation_id="C1", message_id="1700.1")
    dm = MessageRef(platform="slack", conversation_id="D1", message_id="1700.2", thread_id="1700.0")
    await store.put_message_ref(ORG, "b1", "channel:C1", channel)
    await store.put_message_ref(ORG, "b1", "dm:U1", dm)
    assert await store.get_message_refs(ORG, "b1") == {"channel:C1": channel, "dm:U1": dm}
    updated = MessageRef(platform="slack", conversation_id="C1", message_id="1700.9")
    await store.put_message_ref(ORG, "b1", "channel:C1", updated)
    assert (await store.get_message_refs(ORG, "b1"))["channel:C1"] == updated
    assert await store.get_message_refs(ORG, "b2") == {}


async def test_audit_is_newest_first(store: Store) -> None:
    for n in range(4):
        await store.append_audit(
            AuditEntry(org_id=ORG, actor="U1", action=f"a{n}", detail={"n": n}, at=float(n))
        )
    await store.append_audit(AuditEntry(org_id=OTHER_ORG, actor="U9", action="other"))
    assert [a.action for a in await store.list_audit(ORG)] == ["a3", "a2", "a1", "a0"]
    assert [a.action for a in await store.list_audit(ORG, limit=2)] == ["a3", "a2"]
    assert (await store.list_audit(ORG))[0].detail == {"n": 3}


async def test_kv(store: Store) -> None:
    await store.kv_put("slack_installation", "T1", {"bot_token_enc": "x", "n": 1, "ok": True})
    await store.kv_put("slack_installation", "T2", {"n": 2})
    await store.kv_put("slack_installation", "E1", {"n": 3})
    await store.kv_put("teams_reference", "T1", {"n": 4})
    assert await store.kv_get("slack_installation", "T1") == {
        "bot_token_enc": "x",
        "n": 1,
        "ok": True,
    }
    assert await store.kv_get("slack_installation", "nope") is None
    assert set(await store.kv_list("slack_installation")) == {"T1", "T2", "E1"}
    assert await store.kv_list("slack_installation", prefix="T") == {
        "T1": {"bot_token_enc": "x", "n": 1, "ok": True},
        "T2": {"n": 2},
    }
    assert await store.kv_list("slack_installation", prefix="%") == {}
    await store.kv_delete("slack_installation", "T1")
    assert await store.kv_get("slack_installation", "T1") is None
    assert await store.kv_get("teams_reference", "T1") == {"n": 4}


# outbox --------------------------------------------------------------------------------
async def test_claim_holds_a_job_until_acked(store: Store) -> None:
    now = time.time()
    await store.enqueue([make_job("j1", not_before=now), make_job("j2", not_before=now)])
    assert await store.outbox_depth() == 2
    first = await store.claim_jobs("w1", limit=1, visibility_timeout=60, now=now)
    assert len(first) == 1 and first[0].attempts == 1
    assert first[0].payload == {"booking_id": "b1", "n": 1}
    second = await store.claim_jobs("w2", limit=10, visibility_timeout=60, now=now)
    assert [j.job_id for j in second] == [j for j in ("j1", "j2") if j != first[0].job_id]
    assert await store.claim_jobs("w3", limit=10, visibility_timeout=60, now=now) == []
    assert await store.outbox_depth() == 2  # in flight still counts
    await store.ack_job(first[0].job_id)
    await store.ack_job(second[0].job_id)
    assert await store.outbox_depth() == 0
    assert await store.claim_jobs("w1", limit=10, visibility_timeout=0.01, now=now + HOUR) == []


async def test_an_ack_changes_its_kv_documents_in_the_same_write(store: Store) -> None:
    now = time.time()
    await store.enqueue([make_job("j1", not_before=now)])
    await store.kv_put("outbox_sent", "j1", {"at": 1.0})
    await store.kv_put("outbox_lanes", "L", {"gen": 1})
    [job] = await store.claim_jobs("w1", limit=1, visibility_timeout=60, now=now)
    await store.ack_job(
        job.job_id,
        kv_deletes=[("outbox_sent", "j1")],
        kv_puts=[("outbox_lanes", "L", {"gen": 2, "pending": {}})],
    )
    assert await store.outbox_depth() == 0
    assert await store.kv_get("outbox_sent", "j1") is None
    assert await store.kv_get("outbox_lanes", "L") == {"gen": 2, "pending": {}}
    # a job already gone (acked by another worker): its kv changes are made all the same
    await store.ack_job("j1", kv_puts=[("outbox_lanes", "L", {"gen": 3})])
    assert await store.kv_get("outbox_lanes", "L") == {"gen": 3}


async def test_an_ack_records_its_booking_messages_in_the_same_write(store: Store) -> None:
    now = time.time()
    await store.enqueue([make_job("j1", not_before=now)])
    older = MessageRef("slack", "C1", "1.0001", seq=1)
    await store.put_message_ref("o1", "bk|1", "channel:C1", older)
    [job] = await store.claim_jobs("w1", limit=1, visibility_timeout=60, now=now)
    newer = MessageRef("slack", "C1", "2.0002", thread_id="1.0001", seq=2)
    dm = MessageRef("slack", "D1", "3.0003", seq=2)
    await store.ack_job(
        job.job_id,
        messages=[
            BookingMessage("o1", "bk|1", "channel:C1", newer),
            BookingMessage("o1", "bk|1", "dm:U1", dm),
        ],
    )
    assert await store.outbox_depth() == 0
    assert await store.get_message_refs("o1", "bk|1") == {"channel:C1": newer, "dm:U1": dm}
    assert await store.get_message_refs("o1", "bk") == {}


async def test_unacked_job_is_claimed_again_after_visibility_timeout(store: Store) -> None:
    await store.enqueue([make_job("j1")])
    held = await store.claim_jobs("crashed", limit=10, visibility_timeout=60)
    assert [j.attempts for j in held] == [1]
    assert await store.claim_jobs("w2", limit=10, visibility_timeout=60) == []
    # Redis measures idle time on its own clock, so wait past a short timeout rather than
    # moving `now`: the job has then been idle longer than 0.1 s on every clock
    await asyncio.sleep(0.3)
    again = await store.claim_jobs("w2", limit=10, visibility_timeout=0.1)
    assert [(j.job_id, j.attempts) for j in again] == [("j1", 2)]
    await store.ack_job("j1")
    assert await store.outbox_depth() == 0


async def test_job_not_due_is_not_claimed(store: Store) -> None:
    now = time.time()
    await store.enqueue([make_job("later", not_before=now + 100)])
    assert await store.claim_jobs("w", limit=10, visibility_timeout=60, now=now) == []
    assert await store.outbox_depth() == 1
    due = await store.claim_jobs("w", limit=10, visibility_timeout=60, now=now + 100)
    assert [j.job_id for j in due] == ["later"]


async def test_retry_waits_until_its_time_and_keeps_the_count(store: Store) -> None:
    now = time.time()
    await store.enqueue([make_job("j1", not_before=now)])
    [job] = await store.claim_jobs("w", limit=10, visibility_timeout=60, now=now)
    assert await store.retry_job(job, at=now + 30, error="HTTP 500", max_attempts=3) is True
    assert await store.claim_jobs("w", limit=10, visibility_timeout=60, now=now + 29) == []
    assert await store.outbox_depth() == 1
    [again] = await store.claim_jobs("w", limit=10, visibility_timeout=60, now=now + 30)
    assert again.attempts == 2
    assert again.last_error == "HTTP 500"
    assert again.not_before == now + 30


async def test_job_is_dead_lettered_after_max_attempts(store: Store) -> None:
    now = time.time()
    await store.enqueue([make_job("j1", not_before=now)])
    at = now
    for attempt in (1, 2):
        [job] = await store.claim_jobs("w", limit=10, visibility_timeout=60, now=at)
        assert job.attempts == attempt
        at += 10
        assert await store.retry_job(job, at=at, error=f"fail {attempt}", max_attempts=3)
    [job] = await store.claim_jobs("w", limit=10, visibility_timeout=60, now=at)
    assert job.attempts == 3
    assert await store.retry_job(job, at=at + 10, error="fail 3", max_attempts=3) is False
    assert await store.outbox_depth() == 0
    assert await store.claim_jobs("w", limit=10, visibility_timeout=60, now=at + HOUR) == []
    [dead] = await store.list_dead_letters()
    assert (dead.job_id, dead.attempts, dead.dead_reason) == ("j1", 3, "fail 3")


async def test_dead_letters_listed_by_org_and_requeued(store: Store) -> None:
    now = time.time()
    await store.enqueue(
        [
            make_job("a", not_before=now),
            make_job("b", not_before=now),
            make_job("c", org_id=OTHER_ORG, not_before=now),
        ]
    )
    claimed = {
        j.job_id: j for j in await store.claim_jobs("w", limit=10, visibility_timeout=60, now=now)
    }
    await store.dead_letter_job(claimed["a"], "channel_not_found")
    await store.dead_letter_job(claimed["c"], "bot not in team")
    assert await store.outbox_depth() == 1
    assert [j.job_id for j in await store.list_dead_letters()] == ["c", "a"]  # newest first
    [a] = await store.list_dead_letters(ORG)
    assert (a.job_id, a.dead_reason, a.attempts) == ("a", "channel_not_found", 1)
    assert len(await store.list_dead_letters(limit=1)) == 1

    assert await store.requeue_dead_letters(["a", "unknown"]) == 1
    assert [j.job_id for j in await store.list_dead_letters()] == ["c"]
    assert await store.outbox_depth() == 2
    again = await store.claim_jobs("w", limit=10, visibility_timeout=60, now=now)
    assert [(j.job_id, j.attempts, j.dead_reason) for j in again] == [("a", 1, "")]

    assert await store.requeue_dead_letters() == 1
    assert await store.list_dead_letters() == []
    assert await store.outbox_depth() == 3


async def test_dead_letter_org_jobs(store: Store) -> None:
    now = time.time()
    await store.enqueue(
        [
            make_job("due", not_before=now),
            make_job("later", not_before=now + HOUR),
            make_job("held", not_before=now),
            make_job("theirs", org_id=OTHER_ORG, not_before=now),
        ]
    )
    # one job of the org is in flight, one waits, one is queued
    [held] = await store.claim_jobs("w", limit=1, visibility_timeout=60, now=now)
    assert await store.dead_letter_org_jobs(ORG, "app uninstalled") == 3
    assert await store.outbox_depth() == 1
    dead = await store.list_dead_letters(ORG)
    assert sorted(j.job_id for j in dead) == ["due", "held", "later"]
    assert {j.dead_reason for j in dead} == {"app uninstalled"}
    left = await store.claim_jobs("w", limit=10, visibility_timeout=0.01, now=now + 2 * HOUR)
    assert [j.job_id for j in left] == ["theirs"]
    # a late ack from the worker that held a dead-lettered job does not revive or drop it
    await store.ack_job(held.job_id)
    assert len(await store.list_dead_letters(ORG)) == 3
    assert await store.dead_letter_org_jobs(ORG, "again") == 0


# health --------------------------------------------------------------------------------
async def test_ping_answers_while_open(store: Store) -> None:
    await store.ping()


async def test_closed_store_is_unavailable(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()
    with pytest.raises(StoreUnavailable):
        await store.get_org(ORG)


async def test_concurrent_workers_never_claim_the_same_job(store: Store) -> None:
    now = time.time()
    await store.enqueue([make_job(f"j{n}", not_before=now) for n in range(12)])
    batches = await asyncio.gather(
        *(store.claim_jobs(f"w{n}", limit=3, visibility_timeout=60, now=now) for n in range(6))
    )
    claimed = [job.job_id for batch in batches for job in batch]
    assert sorted(claimed) == sorted(f"j{n}" for n in range(12))


async def test_booking_without_a_start_is_listed_last_and_never_after_a_date(store: Store) -> None:
    await store.put_booking(booking("unknown", None))
    await store.put_booking(booking("known", "2030-01-01T09:00:00Z"))
    assert [b.booking_id for b in await store.list_bookings(ORG)] == ["known", "unknown"]
    after = await store.list_bookings(ORG, start_after="2000-01-01")
    assert [b.booking_id for b in after] == ["known"]
    await store.put_booking(booking("unknown", "2029-06-01T09:00:00Z"))
    assert [b.booking_id for b in await store.list_bookings(ORG)] == ["unknown", "known"]


# erasure (bot.store.erasure) -----------------------------------------------------------
def _timer(job_id: str, key: str, payload: dict[str, object]) -> Job:
    return Job(
        job_id=job_id,
        org_id=ORG,
        kind="feedback",
        payload=payload,
        not_before=1e12,
        timer_key=key,
    )


async def _ann_with_everything(store: Store) -> None:
    """Ann (c1, two bookings, a link, a timer, an alert, a dead letter) and Bob (c2)."""
    ann = Candidate(org_id=ORG, candidate_id="c1", email="Ann@Example.com", name="Ann Lee")
    bob = Candidate(org_id=ORG, candidate_id="c2", email="bob@example.com", name="Bob")
    for c in (ann, bob):
        await store.put_candidate(c)
        await store.append_timeline(ORG, c.candidate_id, TimelineEntry(kind="booked", at=1.0))
    for b, who in (("b1", "c1"), ("b2", "c1"), ("b3", "c2")):
        await store.put_booking(
            dataclasses.replace(booking(b, "2030-01-01T10:00:00Z"), candidate_id=who)
        )
        await store.put_message_ref(ORG, b, "channel:C1", MessageRef("slack", "C1", f"ts-{b}"))
    await store.put_tracked_link(TrackedLink("corr-ann", ORG, "U1", "c1"))
    await store.put_tracked_link(TrackedLink("corr-bob", ORG, "U1", "c2"))
    await store.enqueue(
        [
            _timer("t-ann", f"feedback|{ORG}|b2|U1", {"n": 1}),
            _timer("t-bob", f"feedback|{ORG}|b3|U1", {"n": 1}),
            Job("alert-ann", ORG, "alert", {"facts": {"candidate_name": "Ann Lee"}}),
            Job("alert-bob", ORG, "alert", {"facts": {"candidate_name": "Bob"}}),
            Job("notice-ann", ORG, "notice", {"text": "about ann@example.com today"}),
            Job("other-org", OTHER_ORG, "alert", {"booking_id": "b1"}),
        ]
    )
    await store.enqueue([Job("dead-ann", ORG, "alert", {"booking_id": "b1"})])
    await store.dead_letter_job(Job("dead-ann", ORG, "alert", {"booking_id": "b1"}), "gone")


async def test_erase_candidate_removes_them_and_nothing_else(store: Store) -> None:
    await _ann_with_everything(store)
    removed = [Job("removed-1", ORG, "alert_removed", {"target": "x"})]
    counts = await store.erase_candidate(ORG, "c1", jobs=removed)
    assert counts.to_dict() == {
        "candidates": 1,
        "timeline": 1,
        "bookings": 2,
        "message_refs": 2,
        "links": 1,
        "jobs": 4,
    }
    assert await store.get_candidate(ORG, "c1") is None
    assert await store.find_candidate_by_email(ORG, "ann@example.com") is None
    assert await store.list_timeline(ORG, "c1") == []
    assert await store.get_booking(ORG, "b1") is None and await store.get_booking(ORG, "b2") is None
    assert await store.get_message_refs(ORG, "b1") == {}
    assert await store.get_tracked_link("corr-ann") is None
    assert await store.get_timer(f"feedback|{ORG}|b2|U1") is None
    assert [b.booking_id for b in await store.list_bookings(ORG)] == ["b3"]
    assert await store.list_dead_letters(ORG) == []
    # Bob, his timer, his alert, the other org's job and the job queued with the erasure stay
    assert await store.find_candidate_by_email(ORG, "bob@example.com") is not None
    assert len(await store.list_timeline(ORG, "c2")) == 1
    assert await store.get_tracked_link("corr-bob") is not None
    assert await store.get_timer(f"feedback|{ORG}|b3|U1") is not None
    claimed = await store.claim_jobs("w", limit=50, visibility_timeout=60, now=1e13)
    assert sorted(j.job_id for j in claimed) == ["alert-bob", "other-org", "removed-1", "t-bob"]
    # again: nothing left to remove
    assert (await store.erase_candidate(ORG, "c1")).total == 0


async def test_erase_older_than_keeps_what_is_newer(store: Store) -> None:
    await store.put_candidate(Candidate(org_id=ORG, candidate_id="c1", email="a@example.com"))
    for at in (100.0, 200.0, 300.0):
        await store.append_timeline(ORG, "c1", TimelineEntry(kind="booked", at=at))
    old = dataclasses.replace(
        booking("old", "1970-01-01T00:02:00Z"), end="1970-01-01T00:02:30Z", candidate_id="c1"
    )
    new = dataclasses.replace(
        booking("new", "1970-01-01T00:04:00Z"), end="1970-01-01T00:05:00Z", candidate_id="c1"
    )
    for b in (old, new):
        await store.put_booking(b)
        await store.put_message_ref(ORG, b.booking_id, "dm:U1", MessageRef("slack", "D1", "1"))
    await store.put_booking(dataclasses.replace(booking("elsewhere", None), org_id=OTHER_ORG))
    # c2 has nothing on record but a link sent long ago: erased; c3 is new; c4 has a booking
    for cid, created in (("c2", 100.0), ("c3", 260.0), ("c4", 100.0)):
        await store.put_candidate(
            Candidate(org_id=ORG, candidate_id=cid, email=f"{cid}@x.com", created_at=created)
        )
    await store.put_tracked_link(TrackedLink("corr-c2", ORG, "U1", "c2"))
    await store.put_booking(
        dataclasses.replace(booking("c4-next", "2030-01-01T00:00:00Z"), candidate_id="c4")
    )
    counts = await store.erase_older_than(ORG, 250.0)
    assert counts.to_dict() == {
        "candidates": 1,
        "timeline": 2,
        "bookings": 1,
        "message_refs": 1,
        "links": 1,
        "jobs": 0,
    }
    assert await store.find_candidate_by_email(ORG, "c2@x.com") is None
    assert await store.get_tracked_link("corr-c2") is None
    for kept in ("c1", "c3", "c4"):
        assert await store.get_candidate(ORG, kept) is not None
    assert [e.at for e in await store.list_timeline(ORG, "c1")] == [300.0]
    assert [b.booking_id for b in await store.list_bookings(ORG)] == ["new", "c4-next"]
    assert await store.get_message_refs(ORG, "old") == {}
    assert await store.get_booking(OTHER_ORG, "elsewhere") is not None
    assert (await store.erase_older_than(ORG, 250.0)).total == 0
