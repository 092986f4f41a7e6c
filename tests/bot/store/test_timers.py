"""Timers on every store: jobs with a key and a due time, replaced, cancelled and fired once."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from bot.store.base import Store
from bot.store.records import Candidate, EventWrite, Job
from bot.timers import reminder_key

ORG = "slack:T1"
NOW = 1_800_000_000.0
KEY = reminder_key(ORG, "booking-1", "U1")


def timer(job_id: str, due: float, key: str = KEY, text: str = "") -> Job:
    return Job(
        job_id=job_id,
        org_id=ORG,
        kind="notice",
        payload={"text": text or job_id},
        not_before=due,
        created_at=NOW,
        timer_key=key,
    )


async def claim(store: Store, now: float, consumer: str = "w1") -> list[Job]:
    return await store.claim_jobs(consumer, limit=10, visibility_timeout=7200.0, now=now)


async def test_a_timer_fires_at_its_due_time_and_not_before(store: Store) -> None:
    await store.enqueue([timer("t1", NOW + 900)])
    assert await claim(store, NOW + 899) == []
    [fired] = await claim(store, NOW + 900)
    assert fired.job_id == "t1" and fired.timer_key == KEY
    await store.ack_job("t1")
    assert await store.get_timer(KEY) is None and await store.outbox_depth() == 0


async def test_setting_a_key_again_moves_its_timer(store: Store) -> None:
    await store.enqueue([timer("t1", NOW + 900), timer("other", NOW + 900, key="agenda|x|U2")])
    await store.enqueue([timer("t2", NOW + 1800)])  # the interview was moved
    found = await store.get_timer(KEY)
    assert found is not None and found.job_id == "t2" and found.not_before == NOW + 1800
    assert [j.job_id for j in await claim(store, NOW + 1000)] == ["other"]
    assert [j.job_id for j in await claim(store, NOW + 1800)] == ["t2"]
    assert await store.outbox_depth() == 2  # t2 and "other", both claimed; t1 is gone


async def test_cancelled_timers_never_fire(store: Store) -> None:
    await store.enqueue([timer("t1", NOW + 10), timer("t2", NOW + 10, key="agenda|x|U2")])
    assert await store.cancel_timers([KEY, "feedback|never|set"]) == 1
    assert await store.get_timer(KEY) is None
    assert [j.job_id for j in await claim(store, NOW + 20)] == ["t2"]
    assert await store.cancel_timers([]) == 0


async def test_a_timer_cancelled_while_a_worker_sends_it_is_not_sent_again(store: Store) -> None:
    await store.enqueue([timer("t1", NOW)])
    [held] = await claim(store, NOW)
    assert await store.cancel_timers([KEY]) == 1
    # the worker's send went out (once); its retry and its ack find nothing to bring back
    assert await store.retry_job(held, at=NOW + 5, error="busy", max_attempts=5) in (True, False)
    await store.ack_job(held.job_id)
    assert await claim(store, NOW + 9000, consumer="w2") == []
    assert await store.outbox_depth() == 0 and await store.list_dead_letters() == []


async def test_a_timer_moved_while_its_old_job_is_in_flight_keeps_the_new_one(
    store: Store,
) -> None:
    await store.enqueue([timer("t1", NOW)])
    [held] = await claim(store, NOW)
    await store.enqueue([timer("t2", NOW + 600)])  # moved while t1 is being sent
    await store.ack_job(held.job_id)  # t1's worker finishes: t2 must stay
    found = await store.get_timer(KEY)
    assert found is not None and found.job_id == "t2"
    assert [j.job_id for j in await claim(store, NOW + 600, consumer="w2")] == ["t2"]


async def test_two_workers_fire_a_timer_once(store: Store) -> None:
    await store.enqueue([timer(f"t{n}", NOW + n, key=f"reminder|{ORG}|b{n}|U1") for n in range(20)])
    first = await claim(store, NOW + 30, consumer="w1")
    second = await claim(store, NOW + 30, consumer="w2")
    ids = [j.job_id for j in first + second]
    assert sorted(ids) == sorted(f"t{n}" for n in range(20)) and len(set(ids)) == 20


async def test_an_event_cancels_and_sets_timers_with_its_write(store: Store) -> None:
    await store.enqueue([timer("t1", NOW + 900)])
    candidate = Candidate(org_id=ORG, candidate_id="c1", email="jane@example.com")
    write = EventWrite(
        dedupe_key="cronofy_callback:abc",
        dedupe_ttl=60.0,
        org_id=ORG,
        candidate=candidate,
        cancel_timers=[KEY],
        jobs=[timer("t9", NOW + 50, key=reminder_key(ORG, "booking-2", "U1"))],
    )
    assert await store.commit_event(write)
    assert await store.get_timer(KEY) is None
    found = await store.get_timer(reminder_key(ORG, "booking-2", "U1"))
    assert found is not None and found.job_id == "t9"
    # a replay of the same callback changes nothing: the timer it set stays as it is
    assert not await store.commit_event(dataclasses.replace(write, jobs=[]))
    assert await store.get_timer(reminder_key(ORG, "booking-2", "U1")) is not None


async def test_due_lag_is_how_long_the_oldest_due_job_has_waited(store: Store) -> None:
    assert await store.due_lag(NOW) == 0.0
    await store.enqueue([timer("t1", NOW - 30), timer("t2", NOW + 60, key="agenda|x|U2")])
    assert await store.due_lag(NOW) == 30.0
    await claim(store, NOW)
    assert await store.due_lag(NOW + 5) == 0.0  # claimed: a worker has it


async def test_timers_survive_a_reopen(store: Store) -> None:
    await store.enqueue([timer("t1", NOW + 900)])
    await store.close()
    await store.open()
    found = await store.get_timer(KEY)
    assert found is not None and found.not_before == NOW + 900


async def test_a_claim_extended_by_its_holder_is_not_handed_to_another(store: Store) -> None:
    await store.enqueue([timer("t1", time.time() - 5)])
    start = time.time()
    [held] = await store.claim_jobs("w1", limit=10, visibility_timeout=1.0, now=start)
    await asyncio.sleep(0.6)
    await store.extend_claims("w1", [held.job_id], now=time.time())
    await store.extend_claims("w9", [held.job_id], now=time.time() + 100)  # not its claim
    await asyncio.sleep(0.6)  # past the first claim's timeout, not the extended one's
    assert await store.claim_jobs("w2", limit=10, visibility_timeout=1.0, now=time.time()) == []
    await asyncio.sleep(0.6)  # nobody extends it any more: the next worker gets it
    [again] = await store.claim_jobs("w2", limit=10, visibility_timeout=1.0, now=time.time())
    assert again.job_id == "t1"
