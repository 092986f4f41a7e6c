"""The "notice" job: one card, sent once to one conversation or member.

Stored payload: {"target": <DeliveryTarget dict>, "card": <card_to_dict>}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chat import DeliveryTarget
from bot.outbox.jobs import BadJob, Delivered, JobKind, parse_target, target_to_dict
from bot.store.records import Job
from cards.model import Card, card_from_dict, card_to_dict

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt


@dataclass(frozen=True)
class Notice:
    target: DeliveryTarget
    card: Card

    @property
    def seq(self) -> int:
        return 0  # no booking behind it

    def to_dict(self) -> dict[str, Any]:
        return {"target": target_to_dict(self.target), "card": card_to_dict(self.card)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        target = parse_target(data.get("target"))
        try:
            card = card_from_dict(data.get("card", {}))
        except (ValueError, TypeError) as exc:
            raise BadJob(f"card: {exc}") from None
        return cls(target, card)


async def send_notice(attempt: Attempt, notice: Notice) -> Delivered:
    target = notice.target
    await attempt.adapter(target.platform).send(target, notice.card)
    attempt.sent()
    return Delivered(target.platform, target.key)


KIND = JobKind(name="notice", parse=Notice.from_dict, deliver=send_notice)


def notice_job(org_id: str, target: DeliveryTarget, card: Card, *, now: float) -> Job:
    """A job that sends `card` to `target` once (at least once; the worker dedupes)."""
    return KIND.job(org_id, Notice(target, card), now=now)
