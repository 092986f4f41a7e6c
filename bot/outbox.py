"""Building outbox jobs. The worker that runs them lives in `bot.alerts.worker`.

Job kinds:
- "notice": send one card to one target (payload: target, card);
- "alert": a booking event for one route (payload defined by bot.alerts).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from bot.chat import DeliveryTarget
from bot.store.records import Job
from cards.model import Card, card_to_dict


def new_job_id() -> str:
    return uuid.uuid4().hex


def target_to_dict(target: DeliveryTarget) -> dict[str, Any]:
    return dataclasses.asdict(target)


def target_from_dict(data: dict[str, Any]) -> DeliveryTarget:
    kind = data.get("kind")
    if kind not in ("channel", "dm"):
        raise ValueError(f"unknown delivery target kind {kind!r}")
    return DeliveryTarget(
        platform=str(data["platform"]),
        org_id=str(data["org_id"]),
        kind=kind,
        conversation_id=data.get("conversation_id"),
        user_id=data.get("user_id"),
    )


def notice_job(org_id: str, target: DeliveryTarget, card: Card, *, now: float) -> Job:
    """A job that sends `card` to `target` once (at least once; the worker dedupes)."""
    return Job(
        job_id=new_job_id(),
        org_id=org_id,
        kind="notice",
        payload={"target": target_to_dict(target), "card": card_to_dict(card)},
        created_at=now,
        not_before=now,
    )
