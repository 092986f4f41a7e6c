"""The outbox worker: claims jobs of every kind and sees each done at least once.

claim → parse the payload (`bot.outbox.jobs`) → the kind's handler (`bot.outbox.kinds`) →
record what it did → ack. The worker knows no kind by name: it retries, dead-letters and acks;
the handler does the job. A job is never acked before its side effect is recorded, so a
worker that dies mid-delivery leaves the job to be reclaimed after the visibility timeout.

Sent twice? Right after the side effect the handler records it, one of two ways. A kind whose
side effect is its last act (a post, an update) has it recorded by the job's ack itself,
which writes what the side effect made (the booking's message reference) in the same store
write (`Attempt.sent`). A kind that writes or sends more after its side effect has the worker
write a per-job "sent" marker first (`Attempt.record_sent`): a reclaimed job whose marker
exists is finished by its kind without being done again. Either way one window is left, one
store write long: a worker stopped (killed, or its store write failed) after the platform
took the message and before that write. What happens next depends on the platform:

- Slack (an adapter that implements `bot.chat.FindsSentMessages`): every message a job posts
  is labelled with the job's id, and a job tried again that may have posted already (it was
  claimed before) first looks for its labelled message in the conversation (or thread) and
  uses it instead of posting again. So one job makes one message — unless Slack cannot show
  the conversation's history to Slotbot (a private channel it was never invited to, an
  install without the history permission, more than a page of newer messages), which is
  logged, and then the message is posted again.
- Teams (and any adapter without it): the job is posted again, so its message can appear
  twice. The window is one store write long; a worker that stops cleanly (Ctrl-C, SIGTERM)
  finishes the job in hand first, so only a crash, a failing store, or a job still
  unfinished when the stop's wait runs out opens it.

A post whose answer was lost (a timeout after the platform took it) is the same case on
Slack: the retry finds the message instead of posting it again.

Failures. A handler raises `DeliveryError`, whose `failure` (`bot.chat.DeliveryFailure`) says
what happened in neutral terms: a rate limit or a transient failure is tried again with
jittered exponential backoff, never before the platform's Retry-After; anything that trying
again cannot fix (gone, not a member, credentials, a refused message) is dead-lettered at once,
and the job's kind may act on it (an alert asks the admins to add Slotbot). A payload that
does not parse is dead-lettered as a bad job; any other error is tried again.

Order per conversation. Every job with a target goes through that conversation's "lane" (a
document in the store, `bot.outbox.lanes`): a worker sends to a conversation only while it
holds the lane's lease (`Store.take_lease`: a claim of the lane's current generation, read
and taken with the document in one store call, so one worker at a time across every
process), and the lane lists the jobs for it that were tried and failed, or were held back.
A job is not sent while an older job (created earlier) for the same conversation is listed
there: it is postponed to just after that job's next try, without using up one of its
attempts. So after an outage, or any failed send, the messages of a conversation arrive in
the order their callbacks were accepted. A worker handles a batch's jobs for up to `lanes`
conversations at once (OUTBOX_LANES), each conversation's one at a time in the order
claimed, under one lease while it is young; a job done is acked, its sent marker dropped and
the lease handed on (or, with another job of the batch to follow, kept for it) in one store
write (`Store.ack_job`). What is not promised: two jobs for one conversation that are both
tried for the first time at the same moment by two workers go out one after the other, but
in either order; a job whose worker died holds its place only once it has been reclaimed;
and a worker that dies mid-send holds its conversation's lease until the lease expires (the
visibility timeout). The message of a booking shows its newest state whatever
the order (see `bot.outbox.kinds.alert`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot import logs
from bot.errors import DeliveryError, SlotbotError
from bot.outbox.attempt import Attempt, tried_before
from bot.outbox.jobs import BadJob, Delivered, JobKind, Payload, SentMarker
from bot.outbox.kinds import job_kinds
from bot.outbox.lanes import LANE_NAMESPACE, LANE_STEP, HeldLane, lane_key
from bot.runtime import Services
from bot.store.records import BookingMessage, Job, MessageRef

log = logging.getLogger(__name__)

SENT_NAMESPACE = "outbox_sent"
# the share of a claim's visibility timeout after which the rest of a batch is given back
CLAIM_FENCE = 0.5
GIVEN_BACK_STEP = 0.001
DeliveryObserver = Callable[[str, str], None]  # (platform, result)


@dataclasses.dataclass(frozen=True)
class _Parsed:
    kind: JobKind[Any]
    payload: Payload


class OutboxWorker:
    def __init__(
        self,
        services: Services,
        *,
        consumer: str,
        max_attempts: int = 8,
        base_delay: float = 2.0,
        max_delay: float = 900.0,
        visibility_timeout: float = 60.0,
        poll_interval: float = 0.5,
        batch_size: int = 10,
        lanes: int = 1,
        on_delivery: DeliveryObserver | None = None,
        rng: Callable[[], float] = random.random,
        kinds: Mapping[str, JobKind[Any]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.visibility_timeout = visibility_timeout
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.lanes = lanes  # conversations a batch is handled in at once
        self.on_delivery = on_delivery
        self.kinds = job_kinds() if kinds is None else kinds
        self._rng = rng
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self._stopping = False

    # lifecycle ---------------------------------------------------------------------------

    def wake(self) -> None:
        """New work was enqueued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the job in hand, then return from `run`."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        log.info(logs.WORKER_STARTED, self.consumer)
        failures = 0
        try:
            while not self._stopping:
                try:
                    handled = await self.run_once()
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the store is down (or worse): back off, never spin
                    failures += 1
                    handled = 0
                    log.warning(logs.WORKER_STORE_ERROR, self.consumer, exc)
                    await asyncio.sleep(min(self.poll_interval * 2**failures, 10.0))
                    continue
                if handled == 0 and not self._stopping:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                    self._wake.clear()
        finally:
            log.info(logs.WORKER_STOPPED, self.consumer)

    async def run_once(self) -> int:
        """Claim one batch and handle each job; returns how many were claimed.

        The batch's jobs are grouped by conversation (their lane): each group is handled one
        job at a time, in the order claimed, and up to `lanes` groups at once, so a slow
        conversation (or a store write waiting for the disk) does not hold up the others.
        `lanes=1` handles the whole batch one job at a time."""
        started = self._monotonic()
        jobs = await self.services.store.claim_jobs(
            self.consumer,
            limit=self.batch_size,
            visibility_timeout=self.visibility_timeout,
            now=self.services.clock(),
        )
        # a batch is handled one job at a time (per conversation); a job still waiting when
        # half its claim has run out (in real time, which is what claims expire by) is given
        # back rather than sent, since another worker may reclaim it (and send it) once the
        # claim expires, while this one is still on its way to it
        fence = started + self.visibility_timeout * CLAIM_FENCE
        held = {job.job_id for job in jobs}
        done = asyncio.Event()
        keeper = asyncio.create_task(self._keep_claims(held, done)) if jobs else None
        try:
            if self.lanes <= 1 or len(jobs) <= 1:
                await self._handle_in_turn(
                    held, [(job, None) for job in jobs], fence, one_lane=False
                )
                return len(jobs)
            groups: dict[str, list[tuple[Job, _Parsed | BadJob]]] = {}
            for job in jobs:
                try:
                    parsed: _Parsed | BadJob = self._parse(job)
                except BadJob as exc:
                    parsed = exc
                target = parsed.payload.target if isinstance(parsed, _Parsed) else None
                lane = job.job_id if target is None else lane_key(job, target)
                groups.setdefault(lane, []).append((job, parsed))
            if len(groups) == 1:
                await self._handle_in_turn(held, next(iter(groups.values())), fence)
                return len(jobs)
            room = asyncio.Semaphore(self.lanes)

            async def one_lane(group: list[tuple[Job, _Parsed | BadJob]]) -> None:
                async with room:
                    await self._handle_in_turn(held, group, fence)

            await asyncio.gather(*(one_lane(group) for group in groups.values()))
            return len(jobs)
        finally:
            done.set()
            if keeper is not None:
                await keeper

    async def _handle_in_turn(
        self,
        held: set[str],
        jobs: Sequence[tuple[Job, _Parsed | BadJob | None]],
        fence: float,
        *,
        one_lane: bool = True,
    ) -> None:
        """Handle `jobs` one after the other; past the fence, give the rest back. When they
        are all for one conversation (`one_lane`) and one of them has to wait (another worker
        is sending to it, or an older job for it is to be tried again first), the rest wait
        behind it, in their order, without each asking again: one write apiece, so a backlog
        claimed ahead of the job it waits for is moved behind that job quickly; while this
        worker sends to it, its lease is kept from one job to the next."""
        kept: HeldLane | None = None
        try:
            for index, (job, parsed) in enumerate(jobs):
                if self._stopping:
                    break  # the rest are reclaimed by the next worker after the timeout
                # never before the first: each run of jobs makes progress, however slow
                if index > 0 and self._monotonic() >= fence:
                    rest = jobs[index:]
                    now = self.services.clock()
                    for offset, (late, _parsed) in enumerate(rest):
                        # due at once, a step apart, so they are claimed again in their order
                        await self._postpone(late, now - (len(rest) - offset) * GIVEN_BACK_STEP)
                    log.info(logs.JOBS_GIVEN_BACK, self.consumer, len(rest))
                    break
                keep = one_lane and index + 1 < len(jobs)
                busy_until, kept = await self._handle_job(job, parsed, kept, keep=keep)
                held.discard(job.job_id)
                if busy_until is not None and one_lane:
                    for offset, (later, _parsed) in enumerate(jobs[index + 1 :], start=1):
                        await self._postpone(later, busy_until + offset * GIVEN_BACK_STEP)
                    break
        finally:
            if kept is not None and not kept.left:
                await self._hand_on(kept)

    async def _keep_claims(self, held: set[str], done: asyncio.Event) -> None:
        """While the batch is being handled, start its claims' visibility timeout again every
        third of it: a send that takes long (a slow platform, a loaded machine) never lets
        another worker reclaim the job and send it a second time. It stops when `done` is
        set, never in the middle of a store call (a store client cancelled mid-command may
        be left unusable)."""
        while held and not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self.visibility_timeout / 3)
                return
            try:
                await self.services.store.extend_claims(
                    self.consumer, sorted(held), now=self.services.clock()
                )
            except Exception as exc:  # the fence and the visibility timeout still hold
                log.warning(logs.WORKER_STORE_ERROR, self.consumer, exc)

    # one job -----------------------------------------------------------------------------

    async def handle(self, job: Job, parsed: _Parsed | BadJob | None = None) -> float | None:
        """Do one job (`parsed`: its payload, when the batch parsed it already). Returns when
        it is tried again if it had to wait for its conversation (else None)."""
        busy_until, _kept = await self._handle_job(job, parsed, None, keep=False)
        return busy_until

    async def _handle_job(
        self, job: Job, parsed: _Parsed | BadJob | None, kept: HeldLane | None, *, keep: bool
    ) -> tuple[float | None, HeldLane | None]:
        """`handle`, given the lease the job before left to it (`kept`, for the same
        conversation). With `keep` (the next job is for the same conversation) the job
        leaves the lease to that job, while the lease is young: returned, not handed on."""
        try:
            if isinstance(parsed, BadJob):
                raise parsed
            if parsed is None:
                parsed = self._parse(job)
        except BadJob as exc:
            await self._dead(job, "-", f"bad job: {exc}")
            return None, kept
        target = parsed.payload.target
        if target is None:  # posts nowhere itself: no conversation to keep in order
            await self._handle(job, parsed)
            return None, kept
        held = await self._enter_lane(lane_key(job, target), job, parsed.payload, kept)
        if isinstance(held, float):
            # postponed: another worker is sending to the conversation, or an older job for
            # it is to be tried again first
            return held, None
        held.keep = keep and held.young(self._monotonic(), self.visibility_timeout)
        next_try: float | None = None
        try:
            next_try = await self._handle(job, parsed, held)
        except BaseException:
            held.keep = False  # nothing more is done here: hand the lease on
            raise
        finally:
            if not held.written:  # (a job done writes its entry with its ack)
                await self._leave_lane(held, job, parsed.payload, next_try)
        return None, (None if held.left else held)

    def _parse(self, job: Job) -> _Parsed:
        kind = self.kinds.get(job.kind)
        if kind is None:
            raise BadJob(f"unknown job kind {job.kind!r}")
        return _Parsed(kind, kind.parse(job.payload))

    async def _handle(
        self, job: Job, parsed: _Parsed, held: HeldLane | None = None
    ) -> float | None:
        """Do, retry or dead-letter one job; returns when it is tried next (None: done).
        A job done is acked, its sent marker dropped and the conversation's lease (`held`)
        handed on, in one store write."""
        kind, payload = parsed.kind, parsed.payload
        platform = payload.target.platform if payload.target is not None else "-"
        attempt = Attempt(self, job)
        try:
            # a job claimed for the first time was never tried: no marker to look for
            marker = await self._sent_marker(job) if tried_before(job) else None
            if marker is None:
                delivered = await kind.deliver(attempt, payload)
            elif kind.finish_sent is not None:
                delivered = await kind.finish_sent(attempt, payload, marker)
            else:
                delivered = _already_done(kind, payload)
        except asyncio.CancelledError:
            raise
        except BadJob as exc:
            await self._dead(job, platform, f"bad job: {exc}")
        except DeliveryError as exc:
            if not exc.permanent:
                return await self._retry(
                    job, platform, exc.reason, exc.retry_after, kind.max_attempts
                )
            job.last_error = str(exc)  # the reason is a code; the message says what to do
            await self._dead(job, platform, exc.reason)
            if kind.undeliverable is not None:
                await kind.undeliverable(attempt, payload, exc)
        except SlotbotError as exc:
            return await self._retry(
                job, platform, type(exc).__name__ + ": " + str(exc), None, kind.max_attempts
            )
        except Exception as exc:
            # a bug must not lose the job: keep it for another try, and say where it failed
            log.exception(logs.JOB_CRASHED, job.job_id)
            return await self._retry(job, platform, type(exc).__name__, None, kind.max_attempts)
        else:
            entry = None if held is None else held.entry(job, payload, None)
            await self._ack(job, [] if entry is None else [entry], attempt.messages)
            if held is not None and entry is not None:
                held.wrote(entry)
            self._observe(delivered.platform, delivered.result)
            log.info(logs.JOB_DELIVERED, job.job_id, delivered.detail)
        return None

    # order per conversation --------------------------------------------------------------

    async def _enter_lane(
        self, lane: str, job: Job, payload: Payload, kept: HeldLane | None
    ) -> HeldLane | float:
        """The conversation's lease (`kept`, when the job before left it to this one), when
        no older job for it is waiting and no other worker holds it; else the job is
        postponed (without using up an attempt) and the time it was postponed to returned:
        the batch's later jobs for the conversation go behind it without asking again."""
        now = self.services.clock()
        if kept is not None and not kept.left and kept.lane == lane:
            held = kept
        else:
            if kept is not None and not kept.left:
                await self._hand_on(kept)
            # the lane's document and the lease of its generation, in one store call
            store = self.services.store
            lease = await store.take_lease(LANE_NAMESPACE, lane, self.visibility_timeout)
            if not lease.taken:
                # another worker is sending to this conversation right now
                at = now + max(self.poll_interval, LANE_STEP)
                await self._postpone(job, at)
                return at
            # the entries as the lease holder before us left them
            pending = lease.doc.get("pending")
            held = HeldLane(
                lane, lease.gen, pending if isinstance(pending, dict) else {}, self._monotonic()
            )
        held.start(job, now=now, visibility_timeout=self.visibility_timeout)
        after = held.wait_until(job, payload, now=now)
        if after is None:
            return held
        await self._leave_lane(held, job, payload, after)
        await self._postpone(job, after)
        return after

    async def _leave_lane(
        self, held: HeldLane, job: Job, payload: Payload, next_try: float | None
    ) -> None:
        """Write the job's entry (listing it if it is to be tried again): the lease handed
        on (next generation), or kept for the next job."""
        entry = held.entry(job, payload, next_try)
        await self.services.store.kv_put(*entry)
        held.wrote(entry)

    async def _hand_on(self, held: HeldLane) -> None:
        """A lease kept for a job that will not use it: handed on (next generation)."""
        await self.services.store.kv_put(*held.handed_on())
        held.left = True

    async def _postpone(self, job: Job, at: float) -> None:
        """Try again at `at`; counted as a free try, so waiting never dead-letters a job."""
        # the count lives in the stored payload, beside the kind's own fields, which the
        # kinds' parsers leave alone
        payload = dict(job.payload)
        payload["free_tries"] = _free_tries(job) + 1
        await self.services.store.retry_job(
            dataclasses.replace(job, payload=payload),
            at=at,
            error=job.last_error,
            max_attempts=job.attempts + 1,
        )

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential, jittered (between half and all of it), never before Retry-After."""
        delay: float = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempts - 1))
        delay *= 0.5 + 0.5 * float(self._rng())
        if retry_after is not None and retry_after > delay:
            delay = retry_after
        return delay

    async def _retry(
        self,
        job: Job,
        platform: str,
        error: str,
        retry_after: float | None,
        max_attempts: int | None = None,
    ) -> float | None:
        """Schedule the next try; returns its time, or None when the job was dead-lettered.
        `max_attempts`: the kind's own limit, when it has one (else the worker's)."""
        # tries spent waiting for an older job of the same conversation are not attempts
        free = _free_tries(job)
        attempts = job.attempts - free
        delay = self.backoff(attempts, retry_after)
        at = self.services.clock() + delay
        limit = max_attempts if max_attempts is not None else self.max_attempts
        retried = await self.services.store.retry_job(
            job, at=at, error=error, max_attempts=limit + free
        )
        if retried:
            self._observe(platform, "retried")
            log.warning(logs.JOB_RETRY, job.job_id, attempts, error, delay)
            return at
        self._observe(platform, "dead")
        log.error(logs.JOB_DEAD, job.job_id, error)
        return None

    async def _dead(self, job: Job, platform: str, reason: str) -> None:
        await self.services.store.dead_letter_job(job, reason)
        self._observe(platform, "dead")
        log.error(logs.JOB_DEAD, job.job_id, reason)

    def _observe(self, platform: str, result: str) -> None:
        if self.on_delivery is not None:
            self.on_delivery(platform, result)

    async def _ack(
        self,
        job: Job,
        lane: list[tuple[str, str, dict[str, object]]],
        messages: list[BookingMessage],
    ) -> None:
        """The job done, in one store write: acked, its sent marker (if any) dropped, the
        conversation's lease handed on (`lane`) and its booking messages recorded."""
        await self.services.store.ack_job(
            job.job_id, kv_deletes=[(SENT_NAMESPACE, job.job_id)], kv_puts=lane, messages=messages
        )

    # sent markers ------------------------------------------------------------------------

    async def _sent_marker(self, job: Job) -> SentMarker | None:
        doc = await self.services.store.kv_get(SENT_NAMESPACE, job.job_id)
        return SentMarker.from_dict(doc) if doc is not None else None

    async def _mark_sent(self, job: Job, ref: MessageRef | None, reply: MessageRef | None) -> None:
        marker = SentMarker(at=self.services.clock(), ref=ref, reply=reply)
        await self.services.store.kv_put(SENT_NAMESPACE, job.job_id, marker.to_dict())


def _already_done(kind: JobKind[Any], payload: Payload) -> Delivered:
    target = payload.target
    if target is None:
        return Delivered("-", f"{kind.name}, already done")
    return Delivered(target.platform, f"{target.key}, already sent")


def _free_tries(job: Job) -> int:
    free = job.payload.get("free_tries")
    return free if isinstance(free, int) and 0 <= free <= job.attempts else 0
