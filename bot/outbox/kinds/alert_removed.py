"""The "alert_removed" job: a posted alert about an erased candidate changed in place to a
neutral "(removed)" card (`cards.privacy.alert_removed`).

Stored payload: {"target": <DeliveryTarget dict>, "ref": <MessageRef dict>}: where the
message is, nothing about the candidate (the job outlives the erasure that queued it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chat import DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError
from bot.outbox.jobs import BadJob, Delivered, JobKind, parse_target, target_to_dict
from bot.store.records import Job, MessageRef, from_dict
from cards.privacy import alert_removed

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt


@dataclass(frozen=True)
class AlertRemoved:
    target: DeliveryTarget
    ref: MessageRef

    @property
    def seq(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"target": target_to_dict(self.target), "ref": dataclasses.asdict(self.ref)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertRemoved:
        target = parse_target(data.get("target"))
        ref = data.get("ref")
        if not isinstance(ref, dict):
            raise BadJob("no message reference")
        try:
            return cls(target, from_dict(MessageRef, ref))
        except TypeError as exc:
            raise BadJob(f"ref: {exc}") from None


async def remove_alert(attempt: Attempt, job: AlertRemoved) -> Delivered:
    target = job.target
    try:
        await attempt.adapter(target.platform).update(job.ref, alert_removed())
    except DeliveryError as exc:
        if exc.failure is not DeliveryFailure.GONE:
            raise
        # deleted in the chat already: nothing about the candidate is left to change
        return Delivered(target.platform, f"{target.key}, alert already gone")
    attempt.sent()
    return Delivered(target.platform, f"{target.key}, alert removed")


KIND = JobKind(name="alert_removed", parse=AlertRemoved.from_dict, deliver=remove_alert)


def removed_job(org_id: str, target_key: str, ref: MessageRef, *, now: float) -> Job:
    """The job for one stored message reference (`target_key` as the store keeps it:
    "channel:<id>" or "dm:<user id>")."""
    kind, _, ident = target_key.partition(":")
    if kind == "dm":
        target = DeliveryTarget(ref.platform, org_id, "dm", user_id=ident)
    else:
        target = DeliveryTarget(ref.platform, org_id, "channel", conversation_id=ident)
    return KIND.job(org_id, AlertRemoved(target, ref), now=now)
