"""Candidates: a candidate's profile and timeline, a recruiter's upcoming interviews, and
what Slotbot keeps about candidates.

Profiles are shown only to the candidate's recruiters and to admins (the command layer
decides who); the cards here never carry more than the person asking may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cards._shared import MAX_REASON
from cards._shared import name as _name
from cards._shared import when as _when
from cards._text import clean, one_line, truncate
from cards.errors import error, notice
from cards.model import (
    Card,
    Divider,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Inline,
    Link,
    Section,
    Strong,
    TimeValue,
)

MAX_UPCOMING = 20
MAX_TIMELINE = 15


@dataclass(frozen=True)
class CandidateView:
    email: str
    name: str = ""
    phone: str | None = None
    notes: str | None = None
    recruiter_name: str = ""
    first_seen: datetime | None = None
    zone: str | None = None


@dataclass(frozen=True)
class TimelineView:
    kind: str  # booked / rescheduled / cancelled / declined / other / link_sent / ...
    at: datetime  # when Slotbot recorded it
    start: datetime | None = None
    end: datetime | None = None
    previous_start: datetime | None = None
    recruiter_name: str = ""
    meeting_url: str | None = None
    raw_type: str | None = None
    note: str = ""
    zone: str | None = None


@dataclass(frozen=True)
class UpcomingView:
    candidate_name: str
    start: datetime
    end: datetime | None = None
    zone: str | None = None
    meeting_url: str | None = None
    state: str = "booked"  # booked / rescheduled
    candidate_id: str | None = None


_KIND_WORDS: dict[str, str] = {
    "booked": "Booked",
    "rescheduled": "Rescheduled",
    "cancelled": "Cancelled",
    "declined": "Declined the times",
    "other": "Update",
    "link_sent": "Link sent",
    "note": "Note",
}
# how much of an interviewer's note the profile shows (notes are kept up to 2,000 characters)
MAX_NOTE_SHOWN = 2000


def candidate_profile(candidate: CandidateView, timeline: Sequence[TimelineView]) -> Card:
    """A candidate's profile with their timeline, newest first (shown privately)."""
    name = _name(candidate.name, "") or _name(candidate.email, "Candidate")
    facts = [
        Fact(
            "Email",
            Link(f"mailto:{one_line(candidate.email)}", one_line(candidate.email))
            if candidate.email
            else "not known",
        ),
    ]
    if candidate.phone:
        facts.append(Fact("Phone", _name(candidate.phone, "")))
    if candidate.recruiter_name:
        facts.append(Fact("Recruiter", _name(candidate.recruiter_name, "")))
    if candidate.first_seen:
        facts.append(
            Fact("First seen", TimeValue(candidate.first_seen, zone=candidate.zone, show="date"))
        )
    if candidate.notes:
        facts.append(Fact("Notes", truncate(one_line(candidate.notes), MAX_REASON)))
    blocks: list[Element] = [Header(name), Facts(facts), Divider(), Section(Strong("Timeline"))]
    entries = sorted(timeline, key=lambda t: t.at, reverse=True)
    if not entries:
        blocks.append(Section("Nothing yet: send them a link with /schedule link for <email>."))
    for entry in entries[:MAX_TIMELINE]:
        line: list[Inline] = ["• ", Strong(_KIND_WORDS.get(entry.kind, _name(entry.kind, "Event")))]
        if entry.kind == "rescheduled" and entry.previous_start is not None:
            line += [": ", TimeValue(entry.previous_start, zone=entry.zone), " → "]
            line.append(_when(entry.start, entry.end, entry.zone))
        elif entry.start is not None:
            line += [": ", TimeValue(entry.start, entry.end, entry.zone)]
        if entry.recruiter_name:
            by = "by" if entry.kind in ("link_sent", "note") else "with"
            line.append(f" {by} {_name(entry.recruiter_name, '')}")
        if entry.meeting_url and entry.kind in ("booked", "rescheduled"):
            line += [" · ", Link(entry.meeting_url, "meeting")]
        if entry.note and entry.kind != "note":
            line.append(f" · {truncate(one_line(entry.note), 200)}")
        if entry.kind == "other" and entry.raw_type:
            line.append(f" ({truncate(one_line(entry.raw_type), 60)})")
        blocks.append(Section(line))
        if entry.kind == "note" and entry.note:
            # an interviewer's own words, as written (the renderers escape them)
            blocks.append(Section(truncate(clean(entry.note).strip(), MAX_NOTE_SHOWN)))
        blocks.append(
            Section(["recorded ", TimeValue(entry.at, zone=entry.zone)], emphasis="subtle")
        )
    if len(entries) > MAX_TIMELINE:
        blocks.append(
            Section(f"…and {len(entries) - MAX_TIMELINE} earlier events.", emphasis="subtle")
        )
    blocks.append(Footer("Only you can see this."))
    return Card(blocks=blocks, fallback=f"Candidate profile: {name}")


def upcoming(items: Sequence[UpcomingView]) -> Card:
    """The recruiter's upcoming interviews, soonest first."""
    ordered = sorted(items, key=lambda i: i.start)
    blocks: list[Element] = [Header("Your upcoming interviews")]
    if not ordered:
        blocks.append(Section("Nothing booked yet. Share your link with /schedule link."))
    for item in ordered[:MAX_UPCOMING]:
        line: list[Inline] = [
            "• ",
            TimeValue(item.start, item.end, item.zone),
            " · ",
            Strong(_name(item.candidate_name, "A candidate")),
        ]
        if item.state == "rescheduled":
            line.append(" (rescheduled)")
        if item.meeting_url:
            line += [" · ", Link(item.meeting_url, "join")]
        blocks.append(Section(line))
    if len(ordered) > MAX_UPCOMING:
        blocks.append(Section(f"…and {len(ordered) - MAX_UPCOMING} more.", emphasis="subtle"))
    count = len(ordered)
    return Card(
        blocks=blocks, fallback=f"You have {count} upcoming interview{'s' if count != 1 else ''}"
    )


def no_such_candidate(email: str) -> Card:
    """Told to an admin who asked for a candidate Slotbot does not know."""
    return notice("No such candidate", f"Slotbot has no candidate {email} yet.")


NOT_YOUR_CANDIDATE = (
    "Slotbot shows a candidate's profile only to their recruiter and to Slotbot admins. "
    "If you work with this candidate, send them a link with /schedule link for <email>."
)


def not_your_candidate() -> Card:
    """What everyone else hears, whether or not the candidate exists."""
    return error(NOT_YOUR_CANDIDATE, "Not your candidate")


def gdpr_note() -> Card:
    return Card(
        blocks=[
            Header("What Slotbot keeps about candidates"),
            Section(
                "Name and email, the bookings made through your links (times, meeting link, "
                "status) and when they changed. Channel alerts show names only; contact details "
                "go to the recruiter's direct messages."
            ),
            Section(
                "To erase a candidate, ask an admin; Cronofy keeps its own copy under your Cronofy agreement."
            ),
        ],
        fallback="What Slotbot keeps about candidates",
    )
