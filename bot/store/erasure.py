"""What an erasure removes, counted, and how a stored job is recognised as holding a
candidate's data: shared by both stores (`erase_candidate`, `erase_older_than`).

An erasure removes records; it never adds a table or a key family. Jobs are recognised by
their stored text rather than by kind, so a kind added later that carries the candidate's
email, name, id or one of their bookings is erased too without changing this code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass

from bot.store.records import Booking, Candidate
from bot.timeutil import epoch_of


@dataclass(frozen=True)
class ErasureCounts:
    """How many records of each kind an erasure removed (for the audit and the answer)."""

    candidates: int = 0
    timeline: int = 0
    bookings: int = 0
    message_refs: int = 0
    links: int = 0
    jobs: int = 0

    def __add__(self, other: ErasureCounts) -> ErasureCounts:
        return ErasureCounts(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in dataclasses.fields(self)
            }
        )

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @property
    def total(self) -> int:
        return sum(self.to_dict().values())


@dataclass(frozen=True)
class Traces:
    """What ties a stored job to one candidate: its id, email, name and booking ids."""

    candidate_id: str
    email: str
    name: str
    booking_ids: frozenset[str]

    @classmethod
    def of(cls, candidate: Candidate, bookings: Iterable[Booking]) -> Traces:
        return cls(
            candidate_id=candidate.candidate_id,
            email=candidate.email.strip().lower(),
            name=candidate.name.strip(),
            booking_ids=frozenset(b.booking_id for b in bookings),
        )

    def in_job(self, doc: str, timer_key: str = "") -> bool:
        """True when a job (its stored JSON text, its timer key) is about the candidate.

        Ids and a one-word name count as whole JSON strings (a name "Ann" does not match
        "Annual"); the email and a full name anywhere in the text (inside a sentence)."""
        # a timer key is "<kind>|<org>|<what it is about>..." (bot.timers)
        if timer_key and any(p in self.booking_ids for p in timer_key.split("|")[2:]):
            return True
        lowered = doc.lower()
        if self.email and self.email in lowered:
            return True
        # a full name ("Emmet Brown") is distinctive enough to count inside a sentence (a
        # card's text); a single word ("Ann") only as a whole value
        name = json.dumps(self.name)[1:-1].lower()
        if " " in self.name and len(self.name) >= 6 and name in lowered:
            return True
        quoted = [self.candidate_id, *self.booking_ids]
        if self.name:
            quoted.append(self.name)
        return any(json.dumps(value) in doc for value in quoted)


def booking_is_older(booking: Booking, cutoff: float) -> bool:
    """A booking is past retention when it ended (or, with no end, started) before the
    cutoff; one with neither time, when it was last changed before it."""
    at = epoch_of(booking.end, booking.zone) or epoch_of(booking.start, booking.zone)
    if at is None:
        if booking.end or booking.start:
            return False  # a time Slotbot cannot read: kept rather than guessed old
        at = booking.updated_at or None
    return at is not None and at < cutoff
