"""One try of one job, as its kind's handler sees it (`Attempt`), and the delivery adapter it
hands the handler: posts labelled with the job and looked for before they are made again
(`bot.outbox.worker` says why)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import logs
from bot.chat import DeliveryAdapter, DeliveryTarget, FindsSentMessages
from bot.errors import DeliveryError
from bot.runtime import Services
from bot.store.records import BookingMessage, Job, MessageRef
from cards.model import Card

if TYPE_CHECKING:
    from bot.outbox.worker import OutboxWorker

log = logging.getLogger(__name__)


class Attempt:
    """One try of one job, as its kind's handler sees it: the services, the job, and what the
    worker does on the handler's word."""

    def __init__(self, worker: OutboxWorker, job: Job) -> None:
        self._worker = worker
        self.job = job
        # set by `sent`: the job's side effect happened, and its ack is to record it
        self.sent_with_ack = False
        self.messages: list[BookingMessage] = []

    @property
    def services(self) -> Services:
        return self._worker.services

    def adapter(self, platform: str) -> DeliveryAdapter:
        """The platform's delivery adapter, as this job uses it: its posts labelled with
        the job, and looked for before they are made again (see `bot.outbox.worker`)."""
        self._not_sent_yet()
        adapter = self.services.delivery.get(platform)
        if adapter is None:
            # adapters register at start-up; until then (or if disabled) try again later
            raise DeliveryError(f"no delivery adapter for {platform}", reason="no_adapter")
        if isinstance(adapter, FindsSentMessages):
            return _JobDelivery(adapter, self.job)
        return adapter

    async def record_sent(self, ref: MessageRef | None, reply: MessageRef | None = None) -> None:
        """The job's side effect happened (the message `ref`, its thread `reply`): from now on
        a worker that claims the job again finishes it without doing it again."""
        self._not_sent_yet()
        await self._worker._mark_sent(self.job, ref, reply)

    def sent(self, message: BookingMessage | None = None) -> None:
        """The job's side effect happened, and it is the job's last act: the job's ack
        records it, in the same store write as the booking's message reference `message`,
        with no sent marker of its own (one write after the side effect instead of two; a
        worker stopped before that write leaves the same window as one stopped before a
        marker). A kind that sends or writes anything after its side effect calls
        `record_sent` instead."""
        self._not_sent_yet()
        self.sent_with_ack = True
        if message is not None:
            self.messages.append(message)

    def _not_sent_yet(self) -> None:
        if self.sent_with_ack:
            # a bug in the kind: what follows would not be covered by the ack's record
            raise RuntimeError("nothing may follow Attempt.sent: use record_sent")

    async def enqueue(self, jobs: list[Job]) -> None:
        """More jobs, picked up now rather than at the next poll."""
        self._not_sent_yet()
        await self.services.store.enqueue(jobs)
        self._worker.wake()


class _JobDelivery:
    """A `DeliveryAdapter` that can find what a job posted, used for one job: each post and
    thread reply carries the job's label, and when the job was claimed before (a worker may
    have posted and stopped before its sent marker), the adapter looks for it first."""

    def __init__(self, adapter: DeliveryAdapter, job: Job) -> None:
        assert isinstance(adapter, FindsSentMessages)
        self.platform = adapter.platform
        self._adapter = adapter
        self._finds: FindsSentMessages = adapter
        self._job = job
        # every claim counts an attempt: more than one, and an earlier claim may have posted
        self._tried_before = tried_before(job)

    def _label(self, step: str) -> str:
        return f"{self._job.job_id}/{step}"

    async def send(self, target: DeliveryTarget, card: Card) -> MessageRef:
        label = self._label("post")
        if self._tried_before:
            found = await self._finds.find_sent(target, label, since=self._job.created_at)
            if found is not None:
                log.info(logs.JOB_FOUND_SENT, self._job.job_id, target.key)
                return found
        return await self._finds.send_labelled(target, card, label)

    async def update(self, ref: MessageRef, card: Card) -> None:
        # an update is the same whether it is made once or twice
        await self._adapter.update(ref, card)

    async def reply_in_thread(self, ref: MessageRef, card: Card) -> MessageRef:
        label = self._label("reply")
        if self._tried_before:
            found = await self._finds.find_reply(ref, label, since=self._job.created_at)
            if found is not None:
                log.info(logs.JOB_FOUND_SENT, self._job.job_id, ref.conversation_id)
                return found
        return await self._finds.reply_labelled(ref, card, label)


def tried_before(job: Job) -> bool:
    """Whether an earlier claim of the job may have done it: every claim counts an attempt
    (the first makes it 1), and a dead letter replayed (its count reset) keeps its error."""
    return job.attempts > 1 or bool(job.last_error)
