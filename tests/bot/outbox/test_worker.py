import asyncio
import dataclasses
import time
from typing import Any

from cryptography.fernet import Fernet

from bot.chat import DeliveryTarget
from bot.config import Settings
from bot.errors import DeliveryError
from bot.outbox import notice_job
from bot.outbox.attempt import Attempt
from bot.outbox.jobs import Delivered
from bot.outbox.kinds.notice import KIND as NOTICE
from bot.outbox.kinds.notice import Notice
from bot.outbox.lanes import LANE_NAMESPACE
from bot.outbox.worker import SENT_NAMESPACE, OutboxWorker
from bot.runtime import Services
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.lease import Lease
from bot.store.records import Job
from cards.errors import notice
from tests.bot.alerts.recording import RecordingAdapter


def _services(store: Store) -> tuple[Services, RecordingAdapter]:
    services = Services(
        settings=Settings.from_env({}),
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        clock=lambda: 1_800_000_000.0,
    )
    adapter = RecordingAdapter("teams")
    services.delivery["teams"] = adapter
    return services, adapter


def _counting_leases(store: Store) -> list[str]:
    asked: list[str] = []
    take_lease = store.take_lease

    async def counting_lease(namespace: str, key: str, ttl: float) -> Lease:
        asked.append(key)
        return await take_lease(namespace, key, ttl)

    store.take_lease = counting_lease  # type: ignore[method-assign]
    return asked


async def _three_and_one(store: Store) -> tuple[DeliveryTarget, DeliveryTarget]:
    """Three notices to one member ("Hi 0" to "Hi 2", in that order) and one to another."""
    dm = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    other = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-2")
    await store.enqueue(
        [notice_job("teams:tenant", dm, notice(f"Hi {n}", "-"), now=1.0 + n) for n in range(3)]
        + [notice_job("teams:tenant", other, notice("Other", "-"), now=5.0)]
    )
    return dm, other


def test_backoff_is_exponential_jittered_capped_and_honours_retry_after() -> None:
    low = OutboxWorker.__new__(OutboxWorker)
    low.base_delay, low.max_delay, low._rng = 2.0, 60.0, lambda: 0.0
    high = OutboxWorker.__new__(OutboxWorker)
    high.base_delay, high.max_delay, high._rng = 2.0, 60.0, lambda: 1.0
    assert [low.backoff(n, None) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert [high.backoff(n, None) for n in (1, 2, 3, 10)] == [2.0, 4.0, 8.0, 60.0]
    assert low.backoff(1, 45.0) == 45.0  # never earlier than the platform asked
    assert high.backoff(3, 1.0) == 8.0


async def test_notice_jobs_are_delivered_to_their_platform(store: Store) -> None:
    services, adapter = _services(store)
    target = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue([notice_job("teams:tenant", target, notice("Hi", "there"), now=1.0)])
    worker = OutboxWorker(services, consumer="t")
    assert await worker.run_once() == 1
    [sent] = adapter.sent
    assert sent.target == target and sent.card.title == "Hi"
    assert await store.outbox_depth() == 0


async def test_malformed_jobs_are_dead_lettered_at_once(store: Store) -> None:
    services, adapter = _services(store)
    await store.enqueue(
        [
            Job(job_id="j-kind", org_id="teams:tenant", kind="mystery", payload={}),
            Job(job_id="j-target", org_id="teams:tenant", kind="notice", payload={"target": 3}),
            Job(
                job_id="j-card",
                org_id="teams:tenant",
                kind="notice",
                payload={
                    "target": {
                        "platform": "teams",
                        "org_id": "teams:tenant",
                        "kind": "dm",
                        "user_id": "u",
                    },
                    "card": {"blocks": [{"type": "nope"}]},
                },
            ),
        ]
    )
    results: list[tuple[str, str]] = []
    worker = OutboxWorker(services, consumer="t", on_delivery=lambda p, r: results.append((p, r)))
    assert await worker.run_once() == 3
    dead = {job.job_id: job for job in await store.list_dead_letters()}
    assert set(dead) == {"j-kind", "j-target", "j-card"}
    assert all(job.attempts == 1 and "bad job" in job.dead_reason for job in dead.values())
    assert adapter.sent == [] and [r for _p, r in results] == ["dead"] * 3


async def test_missing_adapter_is_retried_not_lost(store: Store) -> None:
    services, _adapter = _services(store)
    services.delivery.clear()
    target = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue([notice_job("teams:tenant", target, notice("Hi", "there"), now=1.0)])
    assert await OutboxWorker(services, consumer="t").run_once() == 1
    assert await store.outbox_depth() == 1 and await store.list_dead_letters() == []


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_one_conversation_keeps_its_order_across_workers(store: Store) -> None:
    """A failed job holds back the newer jobs of its conversation, whichever worker has them;
    waiting uses up none of their attempts; other conversations are not held back."""
    services, adapter = _services(store)
    clock = _Clock(1_800_000_000.0)
    services.clock = clock
    dm = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    other = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-2")
    first = notice_job("teams:tenant", dm, notice("First", "-"), now=clock.now - 2)
    second = notice_job("teams:tenant", dm, notice("Second", "-"), now=clock.now - 1)
    elsewhere = notice_job("teams:tenant", other, notice("Elsewhere", "-"), now=clock.now)
    await store.enqueue([first, second, elsewhere])
    adapter.fail_for(dm.key, *[DeliveryError("busy", reason="internal_error")] * 3)
    options: dict[str, Any] = {"batch_size": 1, "max_attempts": 4, "rng": lambda: 1.0}
    worker_a, worker_b = (OutboxWorker(services, consumer=name, **options) for name in "ab")

    async def run_until_idle() -> None:
        while any([await worker_a.run_once(), await worker_b.run_once()]):
            pass

    await run_until_idle()  # "First" fails; "Second" waits behind it; "Elsewhere" goes
    assert [s.card.title for s in adapter.sent] == ["Elsewhere"]
    for _ in range(2):  # "First" fails twice more; "Second" waits each time
        clock.now += 10
        await run_until_idle()
    assert [s.card.title for s in adapter.sent] == ["Elsewhere"]
    clock.now += 10
    assert await worker_a.run_once() == 1  # "First" goes at last
    assert [s.card.title for s in adapter.sent] == ["Elsewhere", "First"]
    # "Second" is claimed for the fourth time and fails: waiting used up none of its four
    # attempts, so it is tried again rather than dead-lettered
    adapter.fail_for(dm.key, DeliveryError("busy", reason="internal_error"))
    assert await worker_b.run_once() == 1
    assert await store.list_dead_letters() == [] and await store.outbox_depth() == 1
    clock.now += 10
    await run_until_idle()
    assert [s.card.title for s in adapter.sent] == ["Elsewhere", "First", "Second"]
    assert await store.outbox_depth() == 0 and await store.list_dead_letters() == []


async def test_a_backlog_claimed_ahead_of_the_job_it_waits_for_goes_behind_it(
    store: Store,
) -> None:
    """The conversation's first job failed and waits for its next try; the jobs that came
    in meanwhile are claimed before it (they were due first). The first of them lists itself
    in the lane behind it; the rest follow in their order without each taking the lane and
    listing itself; then all go, in order."""
    services, adapter = _services(store)
    clock = _Clock(1_800_000_000.0)
    services.clock = clock
    dm = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    first = notice_job("teams:tenant", dm, notice("First", "-"), now=clock.now - 10)
    await store.enqueue([first])
    adapter.fail_for(dm.key, DeliveryError("busy", reason="internal_error"))
    worker = OutboxWorker(services, consumer="a", max_attempts=4, rng=lambda: 1.0, lanes=4)
    assert await worker.run_once() == 1  # "First" fails: tried again in 2 s
    backlog = [
        notice_job("teams:tenant", dm, notice(f"Later {n}", "-"), now=clock.now - 5 + n)
        for n in range(4)
    ]
    await store.enqueue(backlog)
    assert await worker.run_once() == 4  # the backlog only: "First" is not due yet
    assert adapter.sent == []
    lane = await store.kv_get(LANE_NAMESPACE, f"teams:tenant|{dm.key}")
    assert lane is not None and set(lane["pending"]) == {first.job_id, backlog[0].job_id}
    clock.now += 10
    while await worker.run_once():
        pass
    assert [s.card.title for s in adapter.sent] == ["First"] + [f"Later {n}" for n in range(4)]
    assert await store.outbox_depth() == 0 and await store.list_dead_letters() == []


async def test_a_conversation_another_worker_is_sending_to_is_not_sent_to(store: Store) -> None:
    services, adapter = _services(store)
    dm = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue([notice_job("teams:tenant", dm, notice("Hi", "-"), now=1.0)])
    # the lease of the conversation's lane, as a worker in the middle of a send holds it
    assert await store.claim_once(f"{LANE_NAMESPACE}:teams:tenant|{dm.key}:0", 60.0)
    worker = OutboxWorker(services, consumer="t", max_attempts=1)
    assert await worker.run_once() == 1
    assert adapter.sent == [] and await store.list_dead_letters() == []
    assert await store.outbox_depth() == 1


async def test_a_batch_whose_claim_is_half_gone_is_given_back_not_sent(store: Store) -> None:
    """Sends that take a while leave the rest of a batch to run out its claim, when another
    worker may reclaim and send it: past half the visibility timeout the rest is given back
    (without using up an attempt) and sent by the next claim, each job once."""
    services, adapter = _services(store)
    clock = _Clock(1_800_000_000.0)
    services.clock = clock
    targets = [DeliveryTarget("teams", "teams:tenant", "dm", user_id=f"aad-{n}") for n in "123"]
    await store.enqueue(
        [
            notice_job("teams:tenant", target, notice(f"Hi {n}", "-"), now=clock.now - 3 + n)
            for n, target in enumerate(targets)
        ]
    )
    real_send = adapter.send

    elapsed = _Clock(0.0)  # real time, which claims run out by

    async def slow_send(target: DeliveryTarget, card: Any) -> Any:
        elapsed.now += 6  # more than half of the 10 s claim
        return await real_send(target, card)

    adapter.send = slow_send  # type: ignore[method-assign]
    worker = OutboxWorker(
        services, consumer="a", visibility_timeout=10.0, max_attempts=1, monotonic=elapsed
    )
    assert await worker.run_once() == 3
    assert [s.card.title for s in adapter.sent] == ["Hi 0"]
    assert await store.outbox_depth() == 2
    assert await worker.run_once() == 2
    assert await worker.run_once() == 1
    assert [s.card.title for s in adapter.sent] == ["Hi 0", "Hi 1", "Hi 2"]
    assert await store.outbox_depth() == 0 and await store.list_dead_letters() == []


async def test_a_send_longer_than_the_claim_keeps_it_from_other_workers(store: Store) -> None:
    """A worker still sending keeps its claim alive: another worker polling meanwhile, past
    the visibility timeout, finds nothing to reclaim, and the message goes out once."""
    services, adapter = _services(store)
    services.clock = time.time
    dm = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue([notice_job("teams:tenant", dm, notice("Hi", "-"), now=time.time() - 1)])
    adapter.hold_sends()
    slow = OutboxWorker(services, consumer="slow", visibility_timeout=0.6)
    other = OutboxWorker(services, consumer="other", visibility_timeout=0.6)
    sending = asyncio.create_task(slow.run_once())
    await adapter.send_started.wait()
    for _ in range(4):  # 1.6 s: well past the 0.6 s the claim had
        await asyncio.sleep(0.4)
        # (a reclaimed job would wait on the held send: the time limit makes that a failure)
        assert await asyncio.wait_for(other.run_once(), 2.0) == 0
    adapter.release()
    assert await sending == 1
    assert [s.card.title for s in adapter.sent] == ["Hi"]
    assert await store.outbox_depth() == 0


async def test_a_batch_goes_to_several_conversations_at_once_each_in_its_order(
    store: Store,
) -> None:
    """With lanes, a conversation whose send is slow holds up only its own next messages:
    the other conversation's messages go meanwhile, and each conversation's go in order."""
    services, adapter = _services(store)
    slow = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-slow")
    quick = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-quick")
    await store.enqueue(
        [
            notice_job("teams:tenant", slow, notice("Slow 1", "-"), now=1.0),
            notice_job("teams:tenant", quick, notice("Quick 1", "-"), now=2.0),
            notice_job("teams:tenant", slow, notice("Slow 2", "-"), now=3.0),
            notice_job("teams:tenant", quick, notice("Quick 2", "-"), now=4.0),
        ]
    )
    real_send = adapter.send
    gate = asyncio.Event()

    async def send(target: DeliveryTarget, card: Any) -> Any:
        if target == slow and card.title == "Slow 1":
            await gate.wait()
        return await real_send(target, card)

    adapter.send = send  # type: ignore[method-assign]
    worker = OutboxWorker(services, consumer="t", lanes=4)
    running = asyncio.create_task(worker.run_once())
    for _ in range(200):
        if len(adapter.sent) == 2:
            break
        await asyncio.sleep(0.01)
    assert [s.card.title for s in adapter.sent] == ["Quick 1", "Quick 2"]
    gate.set()
    assert await running == 4
    assert [s.card.title for s in adapter.sent] == ["Quick 1", "Quick 2", "Slow 1", "Slow 2"]
    assert await store.outbox_depth() == 0


async def test_a_first_claim_reads_no_sent_marker_a_replayed_dead_letter_does(
    store: Store,
) -> None:
    services, adapter = _services(store)
    target = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    job = notice_job("teams:tenant", target, notice("Hi", "-"), now=1.0)
    await store.enqueue([job])
    await store.dead_letter_job(job, "gone")  # after it was sent (its marker stays)
    await store.kv_put(SENT_NAMESPACE, job.job_id, {"at": 1.0})
    await store.requeue_dead_letters([job.job_id])  # its count of attempts starts again
    reads: list[str] = []
    kv_get = store.kv_get

    async def counting_get(namespace: str, key: str) -> Any:
        reads.append(namespace)
        return await kv_get(namespace, key)

    store.kv_get = counting_get  # type: ignore[method-assign]
    worker = OutboxWorker(services, consumer="t")
    assert await worker.run_once() == 1
    assert adapter.sent == [] and SENT_NAMESPACE in reads  # finished, not sent again
    fresh = notice_job("teams:tenant", target, notice("New", "-"), now=2.0)
    await store.enqueue([fresh])
    reads.clear()
    assert await worker.run_once() == 1
    assert [s.card.title for s in adapter.sent] == ["New"] and SENT_NAMESPACE not in reads


async def test_a_conversation_held_elsewhere_is_asked_once_per_batch(store: Store) -> None:
    """Its other jobs in the batch wait behind the first, in order, without asking again."""
    services, adapter = _services(store)
    dm, _other = await _three_and_one(store)
    assert await store.claim_once(f"{LANE_NAMESPACE}:teams:tenant|{dm.key}:0", 60.0)
    asked = _counting_leases(store)
    worker = OutboxWorker(services, consumer="t", lanes=4, max_attempts=1)
    assert await worker.run_once() == 4
    assert [s.card.title for s in adapter.sent] == ["Other"]
    assert sum(dm.key in key for key in asked) == 1
    assert await store.outbox_depth() == 3 and await store.list_dead_letters() == []
    waiting = await store.claim_jobs("t2", limit=10, visibility_timeout=60, now=2e9)
    assert [j.payload["card"]["blocks"][0]["text"] for j in waiting] == ["Hi 0", "Hi 1", "Hi 2"]


async def test_a_job_recorded_with_its_ack_writes_no_sent_marker(store: Store) -> None:
    """A notice's post is its last act: the ack records it, and no marker is written."""
    services, adapter = _services(store)
    target = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue([notice_job("teams:tenant", target, notice("Hi", "-"), now=1.0)])
    puts: list[str] = []
    kv_put = store.kv_put

    async def counting_put(namespace: str, key: str, value: dict[str, object]) -> None:
        puts.append(namespace)
        await kv_put(namespace, key, value)

    store.kv_put = counting_put  # type: ignore[method-assign]
    assert await OutboxWorker(services, consumer="t").run_once() == 1
    assert [s.card.title for s in adapter.sent] == ["Hi"]
    assert SENT_NAMESPACE not in puts and await store.outbox_depth() == 0


async def test_a_kind_that_sends_after_its_record_with_the_ack_is_a_bug(store: Store) -> None:
    """What follows `Attempt.sent` would not be covered by the ack's record: refused, and
    the job kept for another try rather than acked."""

    async def sends_twice(attempt: Attempt, notice_: Notice) -> Delivered:
        adapter = attempt.adapter(notice_.target.platform)
        await adapter.send(notice_.target, notice_.card)
        attempt.sent()
        await attempt.adapter(notice_.target.platform).send(notice_.target, notice_.card)
        return Delivered(notice_.target.platform, "twice")

    services, adapter = _services(store)
    kinds = {NOTICE.name: dataclasses.replace(NOTICE, deliver=sends_twice)}
    target = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue([notice_job("teams:tenant", target, notice("Hi", "-"), now=1.0)])
    assert await OutboxWorker(services, consumer="t", kinds=kinds).run_once() == 1
    assert len(adapter.sent) == 1  # the second send never happened
    [job] = await store.claim_jobs("w", limit=1, visibility_timeout=60, now=1e12)
    assert job.last_error == "RuntimeError"


async def test_a_conversations_lease_is_kept_through_its_jobs_of_a_batch(store: Store) -> None:
    """Taken once for the batch's three jobs to one conversation, handed on after the last."""
    services, adapter = _services(store)
    dm, other = await _three_and_one(store)
    asked = _counting_leases(store)
    assert await OutboxWorker(services, consumer="t", lanes=4).run_once() == 4
    assert [s.card.title for s in adapter.sent_to(dm.key)] == ["Hi 0", "Hi 1", "Hi 2"]
    assert sorted(asked) == sorted(f"teams:tenant|{t.key}" for t in (dm, other))
    assert await store.kv_get(LANE_NAMESPACE, f"teams:tenant|{dm.key}") == {"gen": 1, "pending": {}}
    # handed on: the next worker to send to the conversation takes it at once
    lease = await store.take_lease(LANE_NAMESPACE, f"teams:tenant|{dm.key}", 60.0)
    assert lease.taken and lease.gen == 1


class _ClockedAdapter(RecordingAdapter):
    """Each send takes `step` seconds of the worker's monotonic clock."""

    def __init__(self, clock: list[float], step: float) -> None:
        super().__init__("teams")
        self.clock, self.step = clock, step

    async def send(self, target: DeliveryTarget, card: Any) -> Any:
        self.clock[0] += self.step
        return await super().send(target, card)


async def test_a_kept_lease_past_its_share_of_its_time_is_handed_on_and_taken_again(
    store: Store,
) -> None:
    """The lease lives 200 s; kept only while younger than 50 s (KEEP_LEASE), each send
    taking 30 s: jobs 1-3 under the first lease, job 4 under a new one."""
    services, _ = _services(store)
    clock = [0.0]
    adapter = _ClockedAdapter(clock, 30.0)
    services.delivery["teams"] = adapter
    dm = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue(
        [notice_job("teams:tenant", dm, notice(f"Hi {n}", "-"), now=1.0 + n) for n in range(4)]
    )
    asked = _counting_leases(store)
    worker = OutboxWorker(
        services, consumer="t", lanes=4, visibility_timeout=200.0, monotonic=lambda: clock[0]
    )
    assert await worker.run_once() == 4
    assert [s.card.title for s in adapter.sent] == ["Hi 0", "Hi 1", "Hi 2", "Hi 3"]
    assert len(asked) == 2
    assert await store.kv_get(LANE_NAMESPACE, f"teams:tenant|{dm.key}") == {"gen": 2, "pending": {}}


async def test_a_kept_lease_is_handed_on_when_the_batch_stops_early(store: Store) -> None:
    """Past the claim's fence the rest of the batch is given back: the lease kept for the
    next job is handed on, not left to lapse."""
    services, _ = _services(store)
    clock = [0.0]
    services.delivery["teams"] = _ClockedAdapter(clock, 110.0)
    dm = DeliveryTarget("teams", "teams:tenant", "dm", user_id="aad-1")
    await store.enqueue(
        [notice_job("teams:tenant", dm, notice(f"Hi {n}", "-"), now=1.0 + n) for n in range(3)]
    )
    worker = OutboxWorker(
        services, consumer="t", lanes=4, visibility_timeout=200.0, monotonic=lambda: clock[0]
    )
    assert await worker.run_once() == 3
    assert await store.outbox_depth() == 2  # one sent; at 110 s, past the fence (100 s)
    lease = await store.take_lease(LANE_NAMESPACE, f"teams:tenant|{dm.key}", 60.0)
    assert lease.taken
