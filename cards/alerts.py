"""Alerts about bookings, and the notices around their delivery.

An alert comes in two privacy variants: `channel` (the candidate's name only) and `dm`
(everything the recruiter needs, contact details included). A change to a booking that was
already announced updates the alert and replies in its thread with a `follow_up`. Admins
are told when a channel cannot be posted to, and when Cronofy reports a data request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cards import actions
from cards._shared import MAX_REASON
from cards._shared import name as _name
from cards._shared import when as _when
from cards._text import format_time, one_line, truncate
from cards.errors import error_card
from cards.model import (
    Actions,
    Button,
    Card,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Inline,
    Link,
    Section,
    Status,
    Strong,
    TimeValue,
)

Audience = Literal["channel", "dm"]


@dataclass(frozen=True)
class AlertView:
    """What an alert shows about one booking event. Times must be timezone-aware."""

    candidate_name: str = ""
    candidate_email: str | None = None
    candidate_phone: str | None = None
    notes: str | None = None
    recruiter_name: str = ""
    start: datetime | None = None
    end: datetime | None = None
    zone: str | None = None  # the recruiter's zone, for plain text
    previous_start: datetime | None = None
    previous_end: datetime | None = None
    meeting_url: str | None = None
    profile_url: str | None = None
    candidate_id: str | None = None  # opaque; the profile button's value (never the email)
    reschedule_url: str | None = None
    decline_url: str | None = None
    booking_id: str | None = None
    raw_type: str | None = None  # notification.type as Cronofy sent it


_ALERT_TITLES: dict[str, tuple[str, Status | None]] = {
    "booked": ("Interview booked", "good"),
    "rescheduled": ("Interview rescheduled", "warning"),
    "cancelled": ("Interview cancelled", "attention"),
    "declined": ("Candidate declined the times", "attention"),
    "other": ("Scheduling update", None),
}


def _alert_sentence(kind: str, who: str, recruiter: str, event: AlertView) -> list[Inline]:
    with_whom = f" with {recruiter}" if recruiter else ""
    if kind == "booked":
        return [Strong(who), f" booked an interview{with_whom}."]
    if kind == "rescheduled":
        return [Strong(who), f" moved their interview{with_whom}."]
    if kind == "cancelled":
        return [Strong(who), f"'s interview{with_whom} was cancelled."]
    if kind == "declined":
        return [Strong(who), " said none of the offered times suit them."]
    raw = one_line(event.raw_type or "")
    what = f"a \u201c{truncate(raw, 60)}\u201d update" if raw else "an update"
    return ["Cronofy sent ", what, " about ", Strong(who), "."]


def alert(kind: str, event: AlertView, *, audience: Audience) -> Card:
    """A booking alert. `channel`: candidate's name only (no email, phone or notes, no
    reschedule/decline links); `dm`: full details for the recruiter."""
    kind = kind if kind in _ALERT_TITLES else "other"
    title, status = _ALERT_TITLES[kind]
    dm = audience == "dm"
    who = (
        _name(event.candidate_name, "")
        or (_name(event.candidate_email, "") if dm else "")
        or "A candidate"
    )
    recruiter = _name(event.recruiter_name, "")

    facts: list[Fact] = [Fact("Candidate", who)]
    if dm and event.candidate_email:
        facts.append(
            Fact(
                "Email",
                Link(f"mailto:{one_line(event.candidate_email)}", one_line(event.candidate_email)),
            )
        )
    if dm and event.candidate_phone:
        facts.append(Fact("Phone", _name(event.candidate_phone, "")))
    if recruiter:
        facts.append(Fact("Recruiter", recruiter))
    if kind == "rescheduled":
        if event.previous_start is not None:
            facts.append(
                Fact("Was", TimeValue(event.previous_start, event.previous_end, event.zone))
            )
        facts.append(Fact("Now", _when(event.start, event.end, event.zone)))
    elif kind in ("cancelled", "declined"):
        if event.start is not None:
            facts.append(
                Fact(
                    "Was booked for" if kind == "cancelled" else "Time",
                    _when(event.start, event.end, event.zone),
                )
            )
    else:
        facts.append(Fact("When", _when(event.start, event.end, event.zone)))
    if event.meeting_url and kind not in ("cancelled", "declined"):
        facts.append(Fact("Meeting", Link(event.meeting_url, "Join the meeting")))
    if dm and event.notes:
        facts.append(Fact("Notes", truncate(one_line(event.notes), MAX_REASON)))

    header = f"{title}: {who}" if who != "A candidate" else title
    blocks: list[Element] = [
        Header(header),
        Section(_alert_sentence(kind, who, recruiter, event)),
        Facts(facts),
    ]

    buttons: list[Button] = []
    if event.meeting_url and kind not in ("cancelled", "declined"):
        buttons.append(
            Button(
                "Join meeting",
                kind="open_url",
                url=event.meeting_url,
                action_id=actions.ALERT_MEETING,
            )
        )
    if event.candidate_id:
        buttons.append(
            Button(
                "Candidate profile", action_id=actions.CANDIDATE_PROFILE, value=event.candidate_id
            )
        )
    elif event.profile_url:
        buttons.append(
            Button(
                "Candidate profile",
                kind="open_url",
                url=event.profile_url,
                action_id=actions.ALERT_PROFILE,
            )
        )
    if dm and event.reschedule_url and kind not in ("cancelled", "declined"):
        buttons.append(
            Button(
                "Reschedule",
                kind="open_url",
                url=event.reschedule_url,
                action_id=actions.ALERT_RESCHEDULE,
            )
        )
    if dm and event.decline_url and kind not in ("cancelled", "declined"):
        buttons.append(
            Button(
                "Decline",
                kind="open_url",
                url=event.decline_url,
                action_id=actions.ALERT_DECLINE,
                style="danger",
            )
        )
    if buttons:
        blocks.append(Actions(buttons))

    footer: list[str] = []
    if dm:
        footer.append(
            "Sent to you privately because you are on this interview. Turn these off with /schedule alerts off."
        )
    else:
        footer.append("Contact details go to the recruiter privately.")
    if kind == "other" and event.raw_type:
        footer.append(f"Cronofy type: {truncate(one_line(event.raw_type), 60)}.")
    if dm and event.booking_id:
        footer.append(f"Booking {truncate(one_line(event.booking_id), 60)}.")
    blocks.append(Footer(" ".join(footer)))

    when = ""
    if event.start is not None and kind != "declined":
        when = f", {format_time(TimeValue(event.start, None, event.zone))}"
    return Card(blocks=blocks, status=status, fallback=f"{title}: {who}{when}")


_FOLLOW_UP = {
    "booked": "Booked again",
    "rescheduled": "Rescheduled",
    "cancelled": "Cancelled",
    "declined": "Declined: none of the times suit",
    "other": "Updated",
}


def follow_up(
    kind: str, start: datetime | None = None, end: datetime | None = None, zone: str | None = None
) -> Card:
    """The short reply in the original alert's thread when its booking changes; a booked or
    rescheduled booking says its new time."""
    title = _FOLLOW_UP.get(kind, _FOLLOW_UP["other"])
    parts: list[Inline] = [title]
    if start is not None and kind in ("booked", "rescheduled"):
        parts += [": now ", TimeValue(start, end if end and end > start else None, zone)]
    status = _ALERT_TITLES[kind][1] if kind in _ALERT_TITLES else None
    return Card(blocks=[Section(parts)], status=status, fallback=title)


def error_invite_bot(channel_name: str, platform: str = "") -> Card:
    """`platform` ("slack"/"teams") picks how the channel is called and how to add Slotbot
    there; `channel_name` is the name alone, without a platform's sign."""
    label = "#" + channel_name.lstrip("#") if platform == "slack" and channel_name else channel_name
    where = _name(label, "this channel")
    how = {
        "slack": f"invite it (type /invite @Slotbot in {where}), then try again.",
        "teams": "add the Slotbot app to the team that has this channel, then try again.",
    }.get(platform, f"add Slotbot to {where}, then try again.")
    return error_card(
        f"Slotbot is not in {where}",
        "Slotbot can only post where it has been added.",
        how,
    )
