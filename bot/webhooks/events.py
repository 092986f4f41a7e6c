"""From an event to the outbox jobs that tell each of the org's webhooks of it.

Callers: the Cronofy callback (`bot.alerts.intake.build_write`, in the callback's own store
write), a saved note (`bot.commands.notes`), a candidate's erasure (`erased_event`, the
candidate's id only), and `/cronofy webhook test` (`ping_event`).
"""

from __future__ import annotations

from bot.outbox.kinds.webhook import delivery_job
from bot.store.records import Job, Org, WebhookConfig
from bot.webhooks.shape import (
    WebhookEvent,
    booking_event,
    erased_event,
    note_event,
    ping_event,
)

__all__ = [
    "WebhookEvent",
    "booking_event",
    "erased_event",
    "note_event",
    "ping_event",
    "webhook_jobs",
]


def webhook_jobs(
    org: Org, event: WebhookEvent, *, now: float, only: WebhookConfig | None = None
) -> list[Job]:
    """One job per webhook of the org (or only `only`), each carrying the same event (its id
    included); none when the org has no webhook."""
    hooks = [only] if only is not None else org.webhooks
    return [delivery_job(org.org_id, hook, event, now=now) for hook in hooks]
