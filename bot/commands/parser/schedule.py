"""`/schedule …`: the words of the commands every member has, about their own scheduling.

The link (`link`, `link share|set|for`), the calendar (`connect`, `disconnect`), what they
have (`status`, `upcoming`, `candidate <email>`) and how they are told (`alerts`, `agenda`,
`reminders`).
"""

from __future__ import annotations

from bot.commands.parser.commands import (
    AgendaOff,
    AgendaOn,
    AgendaShow,
    CandidateShow,
    Command,
    Connect,
    Disconnect,
    DmAlerts,
    Help,
    Link,
    LinkFor,
    LinkSet,
    LinkShare,
    RemindersSet,
    RemindersShow,
    Status,
    Upcoming,
)
from bot.commands.parser.errors import UsageError, Words
from bot.commands.parser.values import parse_email, parse_url
from bot.lifecycle.agenda import parse_hhmm
from cards import help as texts
from cards import reminders as reminder_texts

MAX_NAME = 100


def parse_schedule(words: list[str]) -> Command:
    """The words after `/schedule`."""
    if not words or words[0].lower() == "help":
        if len(words) > 1:
            raise UsageError("schedule", texts.HELP_TAKES_NOTHING)
        return Help("schedule")
    sub, rest = words[0].lower(), words[1:]
    if sub == "link":
        return _link(rest)
    simple: dict[str, Command] = {
        "connect": Connect(),
        "disconnect": Disconnect(),
        "status": Status(),
        "upcoming": Upcoming(),
    }
    if sub in simple:
        Words(f"schedule {sub}", rest).none_left()
        return simple[sub]
    if sub == "candidate":
        if not rest:
            raise UsageError("schedule candidate", texts.WHICH_CANDIDATE)
        email = parse_email("schedule candidate", rest[0])
        Words("schedule candidate", rest[1:]).none_left()
        return CandidateShow(email)
    if sub == "alerts":
        if len(rest) != 1 or rest[0].lower() not in ("on", "off"):
            raise UsageError("schedule alerts", texts.SAY_ON_OR_OFF)
        return DmAlerts(rest[0].lower() == "on")
    if sub == "agenda":
        return _agenda(rest)
    if sub == "reminders":
        return _reminders(rest)
    raise UsageError("schedule", texts.unknown_subcommand(words[0]))


def _agenda(words: list[str]) -> Command:
    key = "schedule agenda"
    if not words:
        return AgendaShow()
    action = words[0].lower()
    if action == "off":
        Words(key, words[1:]).none_left()
        return AgendaOff()
    if action != "on":
        raise UsageError(key, texts.SAY_ON_OR_OFF)
    if len(words) == 1:
        return AgendaOn()
    at = parse_hhmm(words[1])
    if at is None:
        raise UsageError(key, texts.not_a_time_of_day(words[1]))
    Words(key, words[2:]).none_left()
    return AgendaOn(at)


def _reminders(words: list[str]) -> Command:
    key = "schedule reminders"
    if not words:
        return RemindersShow()
    Words(key, words[1:]).none_left()
    word = words[0].lower()
    if word == "off":
        return RemindersSet(None)
    if word == "on":
        return RemindersSet(reminder_texts.DEFAULT_MINUTES)
    # "30", or "30m" / "30min" as people write it
    digits = word.removesuffix("minutes").removesuffix("min").removesuffix("m")
    if not digits.isascii() or not digits.isdigit():
        raise UsageError(key, reminder_texts.MINUTES_OR_OFF)
    minutes = int(digits) if len(digits) <= 5 else 0
    if not reminder_texts.MIN_MINUTES <= minutes <= reminder_texts.MAX_MINUTES:
        raise UsageError(key, reminder_texts.minutes_out_of_range(words[0]))
    return RemindersSet(minutes)


def _link(words: list[str]) -> Command:
    if not words:
        return Link()
    sub, rest = words[0].lower(), words[1:]
    if sub == "share":
        Words("schedule link share", rest).none_left()
        return LinkShare()
    if sub == "set":
        if not rest:
            raise UsageError("schedule link set", texts.LINK_AFTER_SET)
        url = parse_url("schedule link set", rest[0])
        Words("schedule link set", rest[1:]).none_left()
        return LinkSet(url)
    if sub == "for":
        if not rest:
            raise UsageError("schedule link for", texts.WHOSE_LINK)
        email = parse_email("schedule link for", rest[0])
        name = " ".join(rest[1:])
        if len(name) > MAX_NAME:
            raise UsageError("schedule link for", texts.name_too_long(MAX_NAME))
        if any(ch in name for ch in "<>"):
            raise UsageError("schedule link for", texts.NAME_WITHOUT_BRACKETS)
        return LinkFor(email, name)
    raise UsageError("schedule link", texts.unknown_link_subcommand(words[0]))
