"""The "feedback" job: a timer that asks one interviewer, once their interview has ended,
how it went, in their direct messages, with an Add note button (`cards.feedback`).

Stored payload: {"target": <DeliveryTarget dict: the interviewer's DM>, "booking_id": <id>,
"candidate_id": <id>, "start": <the booking's start when the timer was set>}.

Set by `bot.lifecycle.feedback` with the callback that booked or moved the interview; what
it finds when it fires is what counts: a booking cancelled or moved since (its start is not
the one the timer was set for: the move set a timer of its own), or notes turned off for the
org meanwhile, and nothing is sent. Fired more than `USEFUL_FOR` after the interview ended
(every process down that long), it is dropped as late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chat import DeliveryTarget
from bot.outbox.jobs import BadJob, Delivered, JobKind, dropped_late, parse_target, target_to_dict
from bot.timers import Lateness
from bot.timeutil import epoch_of, parse_instant
from cards.feedback import NoteTarget, feedback_prompt

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt

# how long after an interview's end asking about it is still of use
USEFUL_FOR = 3 * 24 * 3600.0
_GONE = ("cancelled", "declined")


@dataclass(frozen=True)
class FeedbackPrompt:
    target: DeliveryTarget  # the interviewer's direct messages
    booking_id: str
    candidate_id: str
    start: str  # the booking's start (as Cronofy sent it) when the timer was set

    @property
    def seq(self) -> int:
        return 0  # one message of its own, never an update of a booking's message

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": target_to_dict(self.target),
            "booking_id": self.booking_id,
            "candidate_id": self.candidate_id,
            "start": self.start,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedbackPrompt:
        target = parse_target(data.get("target"))
        if target.kind != "dm" or not target.user_id:
            raise BadJob("a feedback prompt goes to a member's direct messages only")
        booking_id, candidate_id = data.get("booking_id"), data.get("candidate_id")
        start = data.get("start")
        if not isinstance(booking_id, str) or not booking_id:
            raise BadJob("feedback prompt without a booking")
        if not isinstance(candidate_id, str) or not candidate_id:
            raise BadJob("feedback prompt without a candidate")
        if not isinstance(start, str):
            raise BadJob("feedback prompt start must be text")
        return cls(target, booking_id, candidate_id, start)


def _skipped(prompt: FeedbackPrompt, why: str) -> Delivered:
    return Delivered("-", f"feedback prompt for {prompt.booking_id} not sent: {why}")


async def ask_for_note(attempt: Attempt, prompt: FeedbackPrompt) -> Delivered:
    store = attempt.services.store
    org_id = attempt.job.org_id
    org = await store.get_org(org_id)
    if org is None or not org.feedback:
        return _skipped(prompt, "notes are off")
    booking = await store.get_booking(org_id, prompt.booking_id)
    if booking is None or booking.state in _GONE:
        return _skipped(prompt, "booking cancelled")
    if (booking.start or "") != prompt.start:
        return _skipped(prompt, "booking moved")
    end = epoch_of(booking.end, booking.zone)
    if end is None:
        return _skipped(prompt, "no end time")
    lateness = Lateness(due=attempt.job.not_before, until=end + USEFUL_FOR)
    if lateness.too_late(attempt.services.clock()):
        return dropped_late(prompt.target.platform, "feedback prompt")
    candidate = await store.get_candidate(org_id, prompt.candidate_id)
    if candidate is None or booking.candidate_id != prompt.candidate_id:
        return _skipped(prompt, "candidate not known")
    card = feedback_prompt(
        candidate.name or candidate.email,
        NoteTarget(candidate.candidate_id, booking.booking_id),
        start=parse_instant(booking.start, booking.zone),
        end=parse_instant(booking.end, booking.zone),
        zone=booking.zone,
    )
    await attempt.adapter(prompt.target.platform).send(prompt.target, card)
    attempt.sent()
    return Delivered(prompt.target.platform, prompt.target.key)


KIND = JobKind(name="feedback", parse=FeedbackPrompt.from_dict, deliver=ask_for_note)
