"""Cards for alerts, built at delivery time from the job's payload.

An alert job stores the facts (`AlertFacts`), not a rendered card, so the card is made by
`cards.alerts` in the process that delivers it. Channel alerts name the candidate only;
the recruiter's direct message carries the email, notes, links and details.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bot.timeutil import parse_instant
from cards import alerts
from cards.alerts import AlertView, Audience
from cards.model import Card

__all__ = ["AlertFacts", "Audience", "alert_card", "follow_up_card"]


@dataclass(frozen=True)
class AlertFacts:
    """What an alert says; stored in the job payload as a plain dict (times as ISO text)."""

    kind: str
    booking_id: str | None = None
    candidate_id: str | None = None
    candidate_name: str = ""
    candidate_email: str | None = None
    candidate_phone: str | None = None
    notes: str | None = None
    recruiter_id: str | None = None
    recruiter_name: str = ""
    summary: str | None = None
    start: str | None = None
    end: str | None = None
    zone: str | None = None
    previous_start: str | None = None
    previous_end: str | None = None
    meeting_url: str | None = None
    reschedule_url: str | None = None
    decline_url: str | None = None
    raw_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # every field is text or None: a flat copy is the whole of asdict's work, at a
        # fraction of its cost (this runs for every job of every accepted callback)
        return {name: getattr(self, name) for name in _FACT_NAMES}

    @classmethod
    def from_dict(cls, data: Any) -> AlertFacts:
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            raise ValueError("alert facts must be an object with a kind")
        return cls(**{k: v for k, v in data.items() if k in _FACT_NAMES})

    def for_audience(self, audience: Audience) -> AlertFacts:
        """Channel alerts carry the candidate's name only: the rest never enters the job."""
        if audience == "dm":
            return self
        return dataclasses.replace(
            self,
            candidate_email=None,
            candidate_phone=None,
            notes=None,
            reschedule_url=None,
            decline_url=None,
        )


_FACT_NAMES = tuple(f.name for f in dataclasses.fields(AlertFacts))


def alert_card(facts: AlertFacts, audience: Audience) -> Card:
    """The alert for one audience ("channel": name only; "dm": everything)."""
    facts = facts.for_audience(audience)
    view = AlertView(
        candidate_name=facts.candidate_name,
        candidate_email=facts.candidate_email,
        candidate_phone=facts.candidate_phone,
        notes=facts.notes,
        recruiter_name=facts.recruiter_name,
        start=parse_instant(facts.start, facts.zone),
        end=parse_instant(facts.end, facts.zone),
        zone=facts.zone,
        previous_start=parse_instant(facts.previous_start, facts.zone),
        previous_end=parse_instant(facts.previous_end, facts.zone),
        meeting_url=facts.meeting_url,
        candidate_id=facts.candidate_id,
        reschedule_url=facts.reschedule_url,
        decline_url=facts.decline_url,
        booking_id=facts.booking_id,
        raw_type=facts.raw_type,
    )
    return alerts.alert(facts.kind, view, audience=audience)


def follow_up_card(facts: AlertFacts) -> Card:
    """The short reply in the original alert's thread when its booking changes."""
    return alerts.follow_up(
        facts.kind,
        parse_instant(facts.start, facts.zone),
        parse_instant(facts.end, facts.zone),
        facts.zone,
    )
