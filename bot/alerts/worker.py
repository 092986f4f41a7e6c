"""The outbox worker: delivers "alert", "notice" and "profile_disconnected" jobs at least once.

claim → render → send through `services.delivery[platform]` → record where the message went →
ack. A job is never acked before its side effect is recorded, so a worker that dies
mid-delivery leaves the job to be reclaimed after the visibility timeout. Before acking, the
worker writes a per-job "sent" marker: a reclaimed job whose marker exists is finished without
sending again, so one job never produces two messages.

Order per conversation. Every job with a target goes through that conversation's "lane" (a
document in the store, `LANE_NAMESPACE`): a worker sends to a conversation only while it holds
the lane's lease (a `claim_once` on the lane's current generation, so one worker at a time
across every process), and the lane lists the jobs for it that were tried and failed, or were
held back. A job is not sent while an older job (created earlier) for the same conversation is
listed there: it is postponed to just after that job's next try, without using up one of its
attempts. So after an outage, or any failed send, the messages of a conversation arrive in the
order their callbacks were accepted. What is not promised: two jobs for one conversation that
are both tried for the first time at the same moment by two workers go out one after the
other, but in either order; a job whose worker died holds its place only once it has been
reclaimed; and a worker that dies mid-send holds its conversation's lease until the lease
expires (the visibility timeout). The message of a booking shows its newest state whatever the order (below).

Current state. An alert job carries `seq`, the booking version its event produced, and each
stored message reference the version the message shows: the message is drawn from the
booking as it stands now, and a job older than what the message shows changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Callable
from typing import Any

from bot import logs
from bot.alerts.intake import DISCONNECTED_JOB
from bot.alerts.render import (
    AlertFacts,
    Audience,
    alert_card,
    follow_up_card,
)
from bot.alerts.routing import ALERT_JOB
from bot.chat import DeliveryAdapter, DeliveryTarget
from bot.errors import DeliveryError, SlotbotError
from bot.outbox import notice_job, target_from_dict
from bot.runtime import Services
from bot.store.records import Booking, Job, MessageRef, from_dict
from cards.alerts import error_invite_bot
from cards.model import card_from_dict

log = logging.getLogger(__name__)

SENT_NAMESPACE = "outbox_sent"
LANE_NAMESPACE = "outbox_lanes"
# a postponed job is tried this long after the job it waits for, in its order
LANE_STEP = 0.01
INVITE_NOTICE_TTL = 7 * 24 * 3600.0
DeliveryObserver = Callable[[str, str], None]  # (platform, result)


class BadJob(SlotbotError):
    """A job whose payload cannot be delivered as written: dead-lettered at once."""


@dataclasses.dataclass(frozen=True)
class Delivered:
    platform: str
    detail: str


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
        on_delivery: DeliveryObserver | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.services = services
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.visibility_timeout = visibility_timeout
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.on_delivery = on_delivery
        self._rng = rng
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
        """Claim one batch and handle each job; returns how many were claimed."""
        jobs = await self.services.store.claim_jobs(
            self.consumer,
            limit=self.batch_size,
            visibility_timeout=self.visibility_timeout,
            now=self.services.clock(),
        )
        for job in jobs:
            if self._stopping:
                break  # the rest are reclaimed by the next worker after the timeout
            await self.handle(job)
        return len(jobs)

    # one job -----------------------------------------------------------------------------

    async def handle(self, job: Job) -> None:
        lane = _lane_key(job)
        if lane is None:
            await self._handle(job)
            return
        held = await self._enter_lane(lane, job)
        if held is None:
            return  # postponed: an older job for the conversation goes first
        next_try: float | None = None
        try:
            next_try = await self._handle(job)
        finally:
            await self._leave_lane(held, job, next_try)

    async def _handle(self, job: Job) -> float | None:
        """Deliver, retry or dead-letter one job; returns when it is tried next (None: done)."""
        target = job.payload.get("target")
        platform = str(target.get("platform") or "-") if isinstance(target, dict) else "-"
        try:
            delivered = await self._deliver(job)
        except asyncio.CancelledError:
            raise
        except BadJob as exc:
            await self._dead(job, platform, f"bad job: {exc}")
        except DeliveryError as exc:
            if exc.permanent:
                job.last_error = str(exc)  # the reason is a code; the message says what to do
                await self._dead(job, platform, exc.reason)
                await self._tell_admins(job, exc)
            else:
                return await self._retry(job, platform, exc.reason, exc.retry_after)
        except SlotbotError as exc:
            return await self._retry(job, platform, type(exc).__name__ + ": " + str(exc), None)
        except Exception as exc:
            # a bug must not lose the job: keep it for another try, and say where it failed
            log.exception(logs.JOB_CRASHED, job.job_id)
            return await self._retry(job, platform, type(exc).__name__, None)
        else:
            await self.services.store.ack_job(job.job_id)
            await self.services.store.kv_delete(SENT_NAMESPACE, job.job_id)
            self._observe(delivered.platform, "delivered")
            log.info(logs.JOB_DELIVERED, job.job_id, delivered.detail)
        return None

    # order per conversation --------------------------------------------------------------

    async def _enter_lane(self, lane: str, job: Job) -> _HeldLane | None:
        """The conversation's lease, when no older job for it is waiting; else None, and the
        job is postponed (without using up an attempt)."""
        store = self.services.store
        now = self.services.clock()
        doc = await store.kv_get(LANE_NAMESPACE, lane) or {}
        generation = doc.get("gen")
        gen = generation if isinstance(generation, int) else 0
        if not await store.claim_once(f"{LANE_NAMESPACE}:{lane}:{gen}", self.visibility_timeout):
            # another worker is sending to this conversation right now
            await self._postpone(job, now + max(self.poll_interval, LANE_STEP))
            return None
        # the live entries, as the lease holder before us left them
        stale_before = now - self.visibility_timeout - LANE_GRACE
        pending: dict[str, dict[str, Any]] = {}
        raw = doc.get("pending")
        for job_id, entry in (raw if isinstance(raw, dict) else {}).items():
            if (
                job_id != job.job_id
                and isinstance(entry, dict)
                and isinstance(entry.get("until"), int | float)
                and isinstance(entry.get("order"), list)
                and entry["until"] >= stale_before
            ):
                pending[job_id] = entry
        held = _HeldLane(lane, gen, pending)
        order = _order(job)
        older = [e["until"] for e in pending.values() if _as_order(e["order"]) < order]
        if not older:
            return held
        at = max(max(older), now) + LANE_STEP
        await self._leave_lane(held, job, at)
        await self._postpone(job, at)
        return None

    async def _leave_lane(self, held: _HeldLane, job: Job, next_try: float | None) -> None:
        """Hand the lease on (next generation), listing the job if it is to be tried again."""
        pending = dict(held.pending)
        if next_try is not None:
            pending[job.job_id] = {"order": list(_order(job)), "until": next_try}
        await self.services.store.kv_put(
            LANE_NAMESPACE, held.lane, {"gen": held.gen + 1, "pending": pending}
        )

    async def _postpone(self, job: Job, at: float) -> None:
        """Try again at `at`; counted as a free try, so waiting never dead-letters a job."""
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
        self, job: Job, platform: str, error: str, retry_after: float | None
    ) -> float | None:
        """Schedule the next try; returns its time, or None when the job was dead-lettered."""
        # tries spent waiting for an older job of the same conversation are not attempts
        free = _free_tries(job)
        attempts = job.attempts - free
        delay = self.backoff(attempts, retry_after)
        at = self.services.clock() + delay
        retried = await self.services.store.retry_job(
            job, at=at, error=error, max_attempts=self.max_attempts + free
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

    async def _tell_admins(self, job: Job, exc: DeliveryError) -> None:
        """Once per channel: ask the org's admins to invite Slotbot where it cannot post."""
        target = job.payload.get("target")
        if job.kind != ALERT_JOB or not isinstance(target, dict) or target.get("kind") != "channel":
            return
        conversation = str(target.get("conversation_id") or "")
        store = self.services.store
        if not await store.claim_once(
            f"alerts_invite:{job.org_id}:{conversation}", INVITE_NOTICE_TTL
        ):
            return
        org = await store.get_org(job.org_id)
        if org is None or not org.admins:
            return
        name = str(job.payload.get("target_name") or "").lstrip("#") or conversation
        card = error_invite_bot(f"#{name}" if org.platform == "slack" else name, org.platform)
        now = self.services.clock()
        jobs = [
            notice_job(
                org.org_id, DeliveryTarget(org.platform, org.org_id, "dm", user_id=a), card, now=now
            )
            for a in org.admins
        ]
        await store.enqueue(jobs)
        self.wake()

    # delivery ----------------------------------------------------------------------------

    def _adapter(self, platform: str) -> DeliveryAdapter:
        adapter = self.services.delivery.get(platform)
        if adapter is None:
            # adapters register at start-up; until then (or if disabled) try again later
            raise DeliveryError(f"no delivery adapter for {platform}", reason="no_adapter")
        return adapter

    async def _deliver(self, job: Job) -> Delivered:
        if job.kind == ALERT_JOB:
            return await self._deliver_alert(job)
        if job.kind == "notice":
            return await self._deliver_notice(job)
        if job.kind == DISCONNECTED_JOB:
            return await self._profile_disconnected(job)
        raise BadJob(f"unknown job kind {job.kind!r}")

    @staticmethod
    def _target(job: Job) -> DeliveryTarget:
        raw = job.payload.get("target")
        if not isinstance(raw, dict):
            raise BadJob("no target")
        target = target_from_dict(raw)
        if not target.platform or target.kind not in ("channel", "dm"):
            raise BadJob("target without platform or kind")
        if not (target.conversation_id or target.user_id):
            raise BadJob("target without a conversation or user")
        return target

    async def _sent_marker(self, job: Job) -> dict[str, Any] | None:
        return await self.services.store.kv_get(SENT_NAMESPACE, job.job_id)

    async def _mark_sent(self, job: Job, ref: MessageRef, reply: MessageRef | None) -> None:
        value: dict[str, object] = {"ref": dataclasses.asdict(ref), "at": self.services.clock()}
        if reply is not None:
            value["reply"] = dataclasses.asdict(reply)
        await self.services.store.kv_put(SENT_NAMESPACE, job.job_id, value)

    async def _deliver_notice(self, job: Job) -> Delivered:
        target = self._target(job)
        if await self._sent_marker(job) is not None:
            return Delivered(target.platform, f"{target.key}, already sent")
        try:
            card = card_from_dict(job.payload.get("card", {}))
        except (ValueError, TypeError) as exc:
            raise BadJob(f"card: {exc}") from None
        ref = await self._adapter(target.platform).send(target, card)
        await self._mark_sent(job, ref, None)
        return Delivered(target.platform, target.key)

    async def _deliver_alert(self, job: Job) -> Delivered:
        target = self._target(job)
        audience: Audience = "channel" if target.kind == "channel" else "dm"
        try:
            facts = AlertFacts.from_dict(job.payload.get("facts"))
        except (ValueError, TypeError) as exc:
            raise BadJob(f"facts: {exc}") from None
        seq = job.payload.get("seq")
        seq = seq if isinstance(seq, int) else 0
        store = self.services.store
        booking_id = facts.booking_id
        # an unrecognised event is a note in the booking's thread: the message stays as it is
        keeps_message = booking_id is not None and facts.kind != "other"
        marker = await self._sent_marker(job)
        if marker is not None:
            # sent by a worker that died before acking: record it, do not send again
            ref = (
                from_dict(MessageRef, marker["ref"])
                if isinstance(marker.get("ref"), dict)
                else None
            )
            if ref is not None and booking_id and keeps_message:
                await store.put_message_ref(job.org_id, booking_id, target.key, ref)
            return Delivered(target.platform, f"{target.key}, already sent")
        adapter = self._adapter(target.platform)
        original = (
            (await store.get_message_refs(job.org_id, booking_id)).get(target.key)
            if booking_id
            else None
        )
        if not keeps_message:
            if original is not None:
                reply = await adapter.reply_in_thread(original, follow_up_card(facts))
                await self._mark_sent(job, original, reply)
                return Delivered(target.platform, f"{target.key}, noted on {booking_id}")
            ref = await adapter.send(target, alert_card(facts, audience))
            await self._mark_sent(job, ref, None)
            return Delivered(target.platform, target.key)
        assert booking_id is not None
        if original is not None and seq and original.seq >= seq:
            # the message already shows this event or a newer one: nothing to change or say
            return Delivered(target.platform, f"{target.key}, {booking_id} already newer")
        booking = await store.get_booking(job.org_id, booking_id)
        card = alert_card(current_facts(facts, booking, seq), audience)
        if original is not None:
            # one booking, one message: change it in place and say so in its thread
            try:
                await adapter.update(original, card)
            except DeliveryError as exc:
                if not exc.permanent or exc.reason in ("channel_not_found", "not_in_channel"):
                    raise
                original = None  # the message is gone: post a new one below
            if original is not None:
                reply = await adapter.reply_in_thread(original, follow_up_card(facts))
                shown = dataclasses.replace(original, seq=seq)
                await self._mark_sent(job, shown, reply)
                await store.put_message_ref(job.org_id, booking_id, target.key, shown)
                return Delivered(target.platform, f"{target.key}, updated {booking_id}")
        ref = dataclasses.replace(await adapter.send(target, card), seq=seq)
        await self._mark_sent(job, ref, None)
        await store.put_message_ref(job.org_id, booking_id, target.key, ref)
        return Delivered(target.platform, target.key)

    async def _profile_disconnected(self, job: Job) -> Delivered:
        subject = str(job.payload.get("subject") or "")
        reason = str(job.payload.get("reason") or "profile_disconnected")
        if await self._sent_marker(job) is None:
            # the Cronofy feature owns the reconnect message (same path as a failed refresh)
            from bot.cronofy.connect import handle_disconnected

            await handle_disconnected(self.services, job.org_id, subject, reason)
            await self.services.store.kv_put(
                SENT_NAMESPACE, job.job_id, {"at": self.services.clock()}
            )
        return Delivered("-", f"profile_disconnected {subject or '(unknown account)'}")


# a lane entry whose job has not come back this long after its time is forgotten (its job was
# removed some other way), so a conversation is never held up for good
LANE_GRACE = 60.0


@dataclasses.dataclass
class _HeldLane:
    lane: str
    gen: int
    pending: dict[str, dict[str, Any]]  # job id -> {"order": [...], "until": epoch}


def _lane_key(job: Job) -> str | None:
    """The conversation a job posts to, or None for a job that posts nowhere itself."""
    target = job.payload.get("target")
    if job.kind not in (ALERT_JOB, "notice") or not isinstance(target, dict):
        return None
    try:
        key = target_from_dict(target).key
    except (TypeError, ValueError):
        return None
    return f"{job.org_id}|{key}"


def _order(job: Job) -> tuple[float, int, str]:
    """Jobs of one conversation go out in this order: accepted first, then booking version."""
    seq = job.payload.get("seq")
    return (job.created_at, seq if isinstance(seq, int) else 0, job.job_id)


def _as_order(value: list[Any]) -> tuple[float, int, str]:
    try:
        return (float(value[0]), int(value[1]), str(value[2]))
    except (IndexError, TypeError, ValueError):
        return (0.0, 0, "")


def _free_tries(job: Job) -> int:
    free = job.payload.get("free_tries")
    return free if isinstance(free, int) and 0 <= free <= job.attempts else 0


def current_facts(facts: AlertFacts, booking: Booking | None, seq: int) -> AlertFacts:
    """What the booking's message shows: this job's event, or the booking's newer state when
    the booking has moved on since (a later event whose own job is on its way)."""
    if booking is None or booking.version <= seq or booking.state == "other":
        return facts
    return dataclasses.replace(
        facts,
        kind=booking.state,
        start=booking.start,
        end=booking.end,
        zone=booking.zone,
        previous_start=None,
        previous_end=None,
        meeting_url=booking.meeting_url,
        reschedule_url=booking.reschedule_url,
        decline_url=booking.decline_url,
    )
