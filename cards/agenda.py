"""The day's agenda: the morning direct message listing a member's interviews of the day, and
the answers to `/schedule agenda`.

Times are shown in the member's zone: the one their chat platform says, or the org's default
(UTC unless the org set one) — which the message then says, so nobody reads UTC as local.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from cards._shared import name as _name
from cards.errors import notice
from cards.model import Card, Element, Footer, Header, Inline, Link, Section, Strong, TimeValue

MAX_AGENDA = 25


@dataclass(frozen=True)
class AgendaItem:
    start: datetime
    end: datetime | None
    candidate_name: str
    meeting_url: str | None = None
    rescheduled: bool = False


@dataclass(frozen=True)
class AgendaZone:
    """Which zone the agenda keeps, and whether it is the member's own or the org's default."""

    name: str
    defaulted: bool = False


def day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def zone_note(zone: AgendaZone) -> str:
    if zone.defaulted:
        return (
            f"Times are in {zone.name}, your organisation's default: your chat app has not "
            "told Slotbot your time zone."
        )
    return f"Times are in your time zone, {zone.name}."


def agenda(day: date, zone: AgendaZone, items: Sequence[AgendaItem]) -> Card:
    """The morning message: the day's interviews, earliest first (sent only when there are)."""
    ordered = sorted(items, key=lambda i: i.start)
    blocks: list[Element] = [Header(f"Your interviews today, {day_label(day)}")]
    for item in ordered[:MAX_AGENDA]:
        line: list[Inline] = [
            "• ",
            TimeValue(item.start, item.end, zone.name, show="time"),
            " · ",
            Strong(_name(item.candidate_name, "A candidate")),
        ]
        if item.rescheduled:
            line.append(" (rescheduled)")
        if item.meeting_url:
            line += [" · ", Link(item.meeting_url, "join")]
        blocks.append(Section(line))
    if len(ordered) > MAX_AGENDA:
        blocks.append(Section(f"…and {len(ordered) - MAX_AGENDA} more.", emphasis="subtle"))
    blocks.append(Footer(zone_note(zone) + " Stop these with /schedule agenda off."))
    count = len(ordered)
    return Card(
        blocks=blocks,
        fallback=f"You have {count} interview{'s' if count != 1 else ''} today",
    )


def agenda_on(at: str, zone: AgendaZone, first: datetime) -> Card:
    """The agenda was turned on (or its time changed); `first` is when the next one comes."""
    return Card(
        blocks=[
            Header("Daily agenda on"),
            Section(
                [
                    f"Each morning at {at} you will get a direct message listing that day's "
                    "interviews (nothing on a day without any). The next one: ",
                    TimeValue(first, zone=zone.name),
                    ".",
                ]
            ),
            Footer(zone_note(zone)),
        ],
        fallback=f"Daily agenda on, at {at} ({zone.name})",
    )


def agenda_off(was_on: bool) -> Card:
    if was_on:
        return notice("Daily agenda off", "You will no longer get the morning list of interviews.")
    return notice("Daily agenda off", "The daily agenda was already off.")


def agenda_status(at: str | None, zone: AgendaZone) -> Card:
    """`/schedule agenda` alone: the setting as it is."""
    if at is None:
        return Card(
            blocks=[
                Header("Daily agenda: off"),
                Section(
                    "Turn it on with /schedule agenda on [HH:MM] (08:30 unless you say) to get "
                    "each morning's interviews in a direct message."
                ),
                Footer(zone_note(zone)),
            ],
            fallback="Daily agenda: off",
        )
    return Card(
        blocks=[
            Header(f"Daily agenda: on, at {at}"),
            Section("Change the time with /schedule agenda on HH:MM, stop it with …agenda off."),
            Footer(zone_note(zone)),
        ],
        fallback=f"Daily agenda: on, at {at} ({zone.name})",
    )
