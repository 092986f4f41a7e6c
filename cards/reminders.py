"""Reminders before an interview, and what `/schedule reminders` answers.

A reminder goes to each interviewer on a booking (the recruiter and the connected members of
the panel) in their direct messages: the candidate, the time in the reader's zone, the join
link and a button to the candidate's profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cards import actions
from cards._shared import name as _name
from cards._text import format_time
from cards.errors import notice
from cards.model import (
    Actions,
    Button,
    Card,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Link,
    Section,
    Strong,
    TimeValue,
)

DEFAULT_MINUTES = 15
MIN_MINUTES = 1
MAX_MINUTES = 1440  # a day


@dataclass(frozen=True)
class ReminderView:
    """One reminder as its reader sees it. Times must be timezone-aware."""

    candidate_name: str
    start: datetime
    end: datetime | None = None
    # the reader's zone; None: Slotbot does not know it, and shows the org default (UTC)
    zone: str | None = None
    minutes_left: int = DEFAULT_MINUTES
    meeting_url: str | None = None
    candidate_id: str | None = None  # opaque; the profile button's value (never the email)


def _in_minutes(minutes: int) -> str:
    if minutes <= 1:
        return "in a minute"
    if minutes < 120:
        return f"in {minutes} minutes"
    hours, rest = divmod(minutes, 60)
    return f"in {hours} h {rest} min" if rest else f"in {hours} hours"


def reminder(view: ReminderView) -> Card:
    who = _name(view.candidate_name, "your candidate")
    soon = _in_minutes(view.minutes_left)
    when = TimeValue(
        view.start, view.end if view.end and view.end > view.start else None, view.zone
    )
    facts = [Fact("Candidate", who), Fact("When", when)]
    if view.meeting_url:
        facts.append(Fact("Meeting", Link(view.meeting_url, "Join the meeting")))
    blocks: list[Element] = [
        Header(f"Interview {soon}: {who}"),
        Section(["Your interview with ", Strong(who), f" starts {soon}."]),
        Facts(facts),
    ]
    buttons: list[Button] = []
    if view.meeting_url:
        buttons.append(
            Button(
                "Join meeting",
                kind="open_url",
                url=view.meeting_url,
                action_id=actions.REMINDER_MEETING,
                style="primary",
            )
        )
    if view.candidate_id:
        buttons.append(
            Button(
                "Candidate profile", action_id=actions.CANDIDATE_PROFILE, value=view.candidate_id
            )
        )
    if buttons:
        blocks.append(Actions(buttons))
    footer = "Change when reminders come with /schedule reminders <minutes>, or stop them with /schedule reminders off."
    if view.zone is None:
        footer = (
            "Times in UTC, your organisation's default, wherever your app cannot show them in "
            "your own zone: Slotbot does not know it (it learns it from your calendar, "
            "/schedule connect). " + footer
        )
    blocks.append(Footer(footer))
    return Card(
        blocks=blocks,
        fallback=f"Interview {soon} with {who}, {format_time(when)}",
    )


def reminders_setting(minutes: int | None, *, changed: bool, upcoming: int = 0) -> Card:
    """What `/schedule reminders` says: the member's setting, just changed (with how many
    upcoming interviews now have a reminder) or as it is."""
    how = (
        f"Change it with /schedule reminders <minutes> (from {MIN_MINUTES} to {MAX_MINUTES}), "
        "or stop them with /schedule reminders off."
    )
    if minutes is None:
        title = "Interview reminders off" if changed else "Interview reminders are off"
        text = (
            "You will not get a direct message before your interviews"
            + (", the ones already booked included" if changed else "")
            + f". Turn reminders on with /schedule reminders <minutes> (from {MIN_MINUTES} "
            f"to {MAX_MINUTES})."
        )
        return notice(title, text)
    title = "Interview reminders on" if changed else "Interview reminders are on"
    text = (
        f"You will get a direct message {minutes} minute{'s' if minutes != 1 else ''} before each "
        "interview you are on, with the join link."
    )
    if changed:
        text += (
            f" Your upcoming interviews follow it: {upcoming} reminder"
            f"{'s' if upcoming != 1 else ''} set."
            if upcoming
            else " No upcoming interview of yours needs one yet."
        )
    else:
        text += " " + how
    return notice(title, text)


# --- what is wrong with the command -------------------------------------------------------

MINUTES_OR_OFF = (
    f"Say how many minutes before an interview (from {MIN_MINUTES} to {MAX_MINUTES}), or off."
)


def minutes_out_of_range(value: str) -> str:
    return (
        f"“{value[:20]}” is not a number of minutes from {MIN_MINUTES} to {MAX_MINUTES} "
        "(a day). Or say off."
    )
