"""What an outbox job is to the worker: a kind, a typed payload, and the handler of the kind.

A job is stored as `Job(kind=<name>, payload=<dict>)`. Each kind is one module of
`bot.outbox.kinds`: the payload as a dataclass (the dict it is stored as, and how that dict is
read back), the handler that carries the job out, and the `JobKind` that ties them to the
name. The worker looks the kind up by the job's name, parses the payload once — a payload that
does not parse is a `BadJob`, dead-lettered with the reason — and hands the typed payload to
the handler. Nothing else reads a payload's fields.

Stored payloads outlive the code that wrote them (jobs pending across an upgrade, dead letters
replayed later, a store copied from an older version): a kind's name and the dict its payload
writes keep their shape, and a field added later needs a default for the payloads written
without it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bot.chat import DeliveryTarget
from bot.errors import DeliveryError, SlotbotError
from bot.store.records import Job, MessageRef, from_dict

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt


class BadJob(SlotbotError):
    """A job whose payload cannot be carried out as written: dead-lettered at once."""


class Payload(Protocol):
    """What the worker needs of every payload, besides handing it to its kind's handler."""

    @property
    def target(self) -> DeliveryTarget | None:
        """The conversation the job posts to (its messages keep their order there), or None
        for a job that posts nowhere itself."""

    @property
    def seq(self) -> int:
        """The booking version the job's event produced (0: none): among jobs of one
        conversation accepted at the same time, the older version goes first."""

    def to_dict(self) -> dict[str, Any]:
        """The dict the payload is stored as."""


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Delivered:
    """What a handler did, for the metrics (`platform`, "-" for none) and the log line."""

    platform: str
    detail: str
    # "delivered", or "late": a timer that fired after it could be of use, dropped
    result: str = "delivered"


def dropped_late(platform: str, what: str) -> Delivered:
    """What a handler returns for a timer that fired too late to be of use."""
    return Delivered(platform, f"{what}: fired too late to be of use, dropped", result="late")


def dropped_stale(platform: str, what: str, why: str) -> Delivered:
    """What a handler returns for a timer whose reason went away before it fired (the
    interview was moved or cancelled, the member turned it off): counted as result="stale"."""
    return Delivered(platform, f"{what}: {why}, dropped", result="stale")


@dataclass(frozen=True)
class SentMarker:
    """The note a worker writes as soon as a job's side effect has happened, before its ack.

    A worker that dies between the two leaves the job to be claimed again; finding this note,
    the next worker finishes the job without doing it a second time. Stored (kv namespace
    `outbox_sent`) as `{"ref": {...}, "at": epoch, "reply": {...}}`, "ref" and "reply" only
    when there was a message.
    """

    at: float
    ref: MessageRef | None = None  # the message the job posted, or changed
    reply: MessageRef | None = None  # the job's reply in that message's thread

    def to_dict(self) -> dict[str, Any]:
        value: dict[str, Any] = {}
        if self.ref is not None:
            value["ref"] = dataclasses.asdict(self.ref)
        value["at"] = self.at
        if self.reply is not None:
            value["reply"] = dataclasses.asdict(self.reply)
        return value

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SentMarker:
        at = data.get("at")
        return cls(
            at=float(at) if isinstance(at, int | float) else 0.0,
            ref=_message_ref(data.get("ref")),
            reply=_message_ref(data.get("reply")),
        )


def _message_ref(value: Any) -> MessageRef | None:
    if not isinstance(value, dict):
        return None
    try:
        return from_dict(MessageRef, value)
    except TypeError:  # a reference missing a field it needs: as good as none
        return None


@dataclass(frozen=True)
class JobKind(Generic[P]):
    """One kind of job: its stored name, how its payload is read, and its handler.

    `deliver` does the job: right after the side effect it calls `Attempt.sent` when nothing
    follows (the ack records it), or `Attempt.record_sent` before writing or sending anything
    else; it raises `DeliveryError` (or any `SlotbotError`) when it could not. The worker
    retries, dead-letters and acks; the handler never does.
    """

    name: str
    # the stored dict -> the payload; raises BadJob, saying what is wrong, when it cannot
    parse: Callable[[dict[str, Any]], P]
    deliver: Callable[[Attempt, P], Awaitable[Delivered]]
    # a job found with a sent marker was done by a worker that died before its ack: finish
    # it without doing it again (None: nothing is left to do)
    finish_sent: Callable[[Attempt, P, SentMarker], Awaitable[Delivered]] | None = None
    # the job was just dead-lettered for a failure that trying again cannot fix
    undeliverable: Callable[[Attempt, P, DeliveryError], Awaitable[None]] | None = None
    # tries before a job that keeps failing is dead-lettered (None: the worker's own limit);
    # a kind whose far end may be down for hours (a webhook receiver) waits longer
    max_attempts: int | None = None

    def timer(self, org_id: str, payload: P, *, key: str, due: float, now: float) -> Job:
        """A job of this kind due at `due`, replacing the pending job of `key` (`bot.timers`)."""
        job = self.job(org_id, payload, now=now)
        job.not_before = due
        job.timer_key = key
        return job

    def job(self, org_id: str, payload: P, *, now: float) -> Job:
        """A new job of this kind, due now."""
        return Job(
            job_id=new_job_id(),
            org_id=org_id,
            kind=self.name,
            payload=payload.to_dict(),
            created_at=now,
            not_before=now,
        )


def new_job_id() -> str:
    return uuid.uuid4().hex


def target_to_dict(target: DeliveryTarget) -> dict[str, Any]:
    return dataclasses.asdict(target)


def parse_target(value: Any) -> DeliveryTarget:
    """A payload's "target" as stored by `target_to_dict`; BadJob says what is wrong with it."""
    if not isinstance(value, dict):
        raise BadJob("no target")
    kind = value.get("kind")
    if kind not in ("channel", "dm"):
        raise BadJob(f"unknown delivery target kind {kind!r}")
    platform, org_id = value.get("platform"), value.get("org_id")
    if not isinstance(platform, str) or not platform or not isinstance(org_id, str):
        raise BadJob("target without platform or org")
    conversation_id, user_id = value.get("conversation_id"), value.get("user_id")
    if not isinstance(conversation_id, str | None) or not isinstance(user_id, str | None):
        raise BadJob("target conversation and user must be text")
    if not (conversation_id or user_id):
        raise BadJob("target without a conversation or user")
    return DeliveryTarget(
        platform=platform,
        org_id=org_id,
        kind=kind,
        conversation_id=conversation_id,
        user_id=user_id,
    )


def job_target(job: Job) -> DeliveryTarget | None:
    """Where a job was going, for listings (dead letters): None when it posts nowhere itself,
    or when its payload does not say."""
    try:
        return parse_target(job.payload.get("target"))
    except BadJob:
        return None
