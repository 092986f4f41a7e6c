"""The "profile_disconnected" job: Cronofy said a member's calendar account was disconnected.

Stored payload: {"subject": <member id or Cronofy sub, may be "">, "reason": <callback type>}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chat import DeliveryTarget
from bot.outbox.jobs import Delivered, JobKind, SentMarker
from bot.store.records import Job

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt

REASON = "profile_disconnected"


@dataclass(frozen=True)
class ProfileDisconnected:
    subject: str  # the member's user id, or the Cronofy sub a channel notification carries
    reason: str = REASON

    @property
    def target(self) -> DeliveryTarget | None:
        return None  # it changes a member; the reconnect message is a job of its own

    @property
    def seq(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileDisconnected:
        # written by every version with both fields as text; anything else reads as empty
        subject, reason = data.get("subject"), data.get("reason")
        return cls(
            subject=subject if isinstance(subject, str) else "",
            reason=reason if isinstance(reason, str) and reason else REASON,
        )


async def disconnect_member(attempt: Attempt, event: ProfileDisconnected) -> Delivered:
    # imported when a job runs: the push path that writes these jobs need not load the
    # Cronofy connect flow, which owns the reconnect message (as for a failed refresh)
    from bot.cronofy.connect import handle_disconnected

    await handle_disconnected(attempt.services, attempt.job.org_id, event.subject, event.reason)
    attempt.sent()
    return _done(event)


async def already_disconnected(
    attempt: Attempt, event: ProfileDisconnected, marker: SentMarker
) -> Delivered:
    return _done(event)


def _done(event: ProfileDisconnected) -> Delivered:
    return Delivered("-", f"profile_disconnected {event.subject or '(unknown account)'}")


KIND = JobKind(
    name="profile_disconnected",
    parse=ProfileDisconnected.from_dict,
    deliver=disconnect_member,
    finish_sent=already_disconnected,
)


def profile_disconnected_job(org_id: str, subject: str, reason: str, *, now: float) -> Job:
    return KIND.job(org_id, ProfileDisconnected(subject, reason), now=now)
