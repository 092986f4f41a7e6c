"""The "webhook" job: one event POSTed, signed, to one of the org's webhooks.

Stored payload: {"target": <DeliveryTarget dict>, "webhook_id": ..., "url": ...,
"event": <the event as sent, `bot.webhooks.shape`>}. The target is the webhook's lane
(platform "webhook", the webhook's id as its conversation): the worker sends the events of
one webhook one at a time, in the order they were recorded, a failed one holding back those
after it. The signing secret is read from the org at each try (never stored in the job);
the events of a webhook removed since are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chat import DeliveryTarget
from bot.errors import DeliveryError
from bot.outbox.jobs import BadJob, Delivered, JobKind, parse_target, target_to_dict
from bot.store.records import Job, WebhookConfig
from bot.webhooks import client
from bot.webhooks.settings import WebhookSettings
from bot.webhooks.shape import WebhookEvent
from bot.webhooks.signing import HEADER, signature

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt

PLATFORM = "webhook"  # the metrics' platform label, and the lane's
# the last answer each webhook gave (`/cronofy webhook list`), by "<org id>|<webhook id>"
STATUS_NAMESPACE = "webhook_status"
USER_AGENT = "Slotbot-Webhooks/1"


def lane(org_id: str, webhook_id: str) -> DeliveryTarget:
    return DeliveryTarget(PLATFORM, org_id, "channel", conversation_id=webhook_id)


@dataclass(frozen=True)
class WebhookDelivery:
    target: DeliveryTarget
    webhook_id: str
    url: str
    event: WebhookEvent

    @property
    def seq(self) -> int:
        return 0  # one job per event: the order is the order they were recorded in

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": target_to_dict(self.target),
            "webhook_id": self.webhook_id,
            "url": self.url,
            "event": self.event.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebhookDelivery:
        target = parse_target(data.get("target"))
        webhook_id, url = data.get("webhook_id"), data.get("url")
        if not isinstance(webhook_id, str) or not webhook_id or not isinstance(url, str):
            raise BadJob("webhook job without webhook_id or url")
        return cls(target, webhook_id, url, WebhookEvent.from_dict(data.get("event")))


def status_key(org_id: str, webhook_id: str) -> str:
    return f"{org_id}|{webhook_id}"


async def send_event(attempt: Attempt, delivery: WebhookDelivery) -> Delivered:
    services = attempt.services
    org = await services.store.get_org(attempt.job.org_id)
    hook = next(
        (h for h in (org.webhooks if org else []) if h.webhook_id == delivery.webhook_id), None
    )
    if hook is None:
        # removed since the event was recorded: the admin wants no more events there, so
        # its pending ones are dropped rather than left as dead letters to replay
        return Delivered(
            PLATFORM, f"webhook {delivery.webhook_id} removed: event dropped", result="dropped"
        )
    body = delivery.event.body()
    secret = services.secrets.decrypt(hook.secret_enc)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Slotbot-Event-Id": delivery.event.event_id,
        "Slotbot-Event-Type": delivery.event.type,
        HEADER: signature(secret, body, timestamp=int(services.clock())),
    }
    try:
        status = await client.post(
            services.resolve_host, WebhookSettings.of(services.settings), hook.url, body, headers
        )
    except DeliveryError as exc:
        await _note_result(attempt, delivery, exc.reason)
        raise
    await attempt.record_sent(None)
    await _note_result(attempt, delivery, str(status))
    return Delivered(PLATFORM, f"webhook {delivery.webhook_id} {delivery.event.type} {status}")


async def _note_result(attempt: Attempt, delivery: WebhookDelivery, result: str) -> None:
    await attempt.services.store.kv_put(
        STATUS_NAMESPACE,
        status_key(attempt.job.org_id, delivery.webhook_id),
        {"result": result, "at": attempt.services.clock()},
    )


# with the worker's backoff (doubling, at most 15 minutes apart, jittered) this is a few hours
# of a receiver down or failing before its event is dead-lettered (and the events after it
# go on without it)
MAX_ATTEMPTS = 24

KIND = JobKind(
    name="webhook",
    parse=WebhookDelivery.from_dict,
    deliver=send_event,
    max_attempts=MAX_ATTEMPTS,
)


def delivery_job(org_id: str, hook: WebhookConfig, event: WebhookEvent, *, now: float) -> Job:
    payload = WebhookDelivery(lane(org_id, hook.webhook_id), hook.webhook_id, hook.url, event)
    return KIND.job(org_id, payload, now=now)


def carries_candidate(job: Job, candidate_id: str) -> bool:
    """Whether `job` is a webhook event holding this candidate's data (email, name, notes):
    what an erasure removes from the outbox and the dead letters along with the rest, before
    queueing the `candidate.erased` event (which holds the id only)."""
    if job.kind != KIND.name:
        return False
    try:
        event = WebhookDelivery.from_dict(job.payload).event
    except BadJob:
        return False
    candidate = event.data.get("candidate")
    return (
        event.type != "candidate.erased"
        and isinstance(candidate, dict)
        and candidate.get("id") == candidate_id
    )
