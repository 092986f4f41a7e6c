"""`/cronofy …`: the words of the org's commands, most of them for admins only.

The org's Cronofy keys (`setup`, `status`, `reset`), where alerts go (`alerts`), who the
admins are (`admins`) and the note after an interview (`feedback`) are read here; the
commands over candidates' data and who else may read it are read in
`bot.commands.parser.candidate_data`.
"""

from __future__ import annotations

from bot.commands.parser.candidate_data import (
    parse_api,
    parse_audit,
    parse_candidate,
    parse_retention,
    parse_webhook,
)
from bot.commands.parser.commands import (
    AdminsAdd,
    AdminsRemove,
    AdminsShow,
    AlertsOff,
    AlertsRoute,
    AlertsShow,
    Command,
    FeedbackSet,
    FeedbackShow,
    Help,
    OrgStatus,
    Reset,
    Setup,
)
from bot.commands.parser.errors import UsageError, Words
from bot.commands.parser.values import parse_channel, parse_user
from bot.store.records import ALERT_KINDS, BOOKING_KINDS
from cards import help as texts


def parse_cronofy(words: list[str]) -> Command:
    """The words after `/cronofy`."""
    if not words or words[0].lower() == "help":
        if len(words) > 1:
            raise UsageError("cronofy", texts.HELP_TAKES_NOTHING)
        return Help("cronofy")
    sub, rest = words[0].lower(), words[1:]
    simple: dict[str, Command] = {"setup": Setup(), "status": OrgStatus(), "reset": Reset()}
    if sub in simple:
        Words(f"cronofy {sub}", rest).none_left()
        return simple[sub]
    if sub == "alerts":
        return _alerts(rest)
    if sub == "feedback":
        if not rest:
            return FeedbackShow()
        if len(rest) != 1 or rest[0].lower() not in ("on", "off"):
            raise UsageError("cronofy feedback", texts.SAY_ON_OR_OFF)
        return FeedbackSet(rest[0].lower() == "on")
    if sub == "webhook":
        return parse_webhook(rest)
    if sub == "api":
        return parse_api(rest)
    if sub == "audit":
        return parse_audit(rest)
    if sub == "candidate":
        return parse_candidate(rest)
    if sub == "retention":
        return parse_retention(rest)
    if sub == "admins":
        if not rest:
            return AdminsShow()
        action = rest[0].lower()
        if action not in ("add", "remove"):
            raise UsageError("cronofy admins", texts.add_or_remove(rest[0]))
        if len(rest) < 2:
            raise UsageError("cronofy admins", texts.WHOM)
        user_id = parse_user("cronofy admins", rest[1])
        Words("cronofy admins", rest[2:]).none_left()
        return AdminsAdd(user_id) if action == "add" else AdminsRemove(user_id)
    raise UsageError("cronofy", texts.unknown_subcommand(words[0]))


def _alerts(words: list[str]) -> Command:
    key = "cronofy alerts"
    if not words:
        return AlertsShow()
    first = words[0]
    if first.lower() == "off":
        if len(words) == 1:
            return AlertsOff()
        channel_id = parse_channel(key, words[1])
        Words(key, words[2:]).none_left()
        return AlertsOff(channel_id)
    if first.lower() == "here":
        return AlertsRoute(kinds=_kinds(key, words[1:]))
    if first.startswith("#"):
        channel_id = parse_channel(key, first)
        return AlertsRoute(kinds=_kinds(key, words[1:]), channel_id=channel_id)
    raise UsageError(key, texts.here_or_off(first))


def _kinds(key: str, words: list[str]) -> tuple[str, ...]:
    if not words:
        return BOOKING_KINDS
    chosen: list[str] = []
    for word in words:
        for part in word.lower().split(","):
            if not part:
                continue
            if part == "all":
                return ALERT_KINDS
            if part not in ALERT_KINDS:
                raise UsageError(key, texts.unknown_alert_kind(part))
            if part not in chosen:
                chosen.append(part)
    if not chosen:
        raise UsageError(key, texts.NAME_A_KIND)
    # keep the canonical order so equal choices compare equal
    return tuple(k for k in ALERT_KINDS if k in chosen)
