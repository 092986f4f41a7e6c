"""Command text to typed commands, without side effects.

`parse("schedule link for jane@example.com Jane Doe")` returns a `LinkFor`; anything
malformed raises `UsageError` carrying the usage line of the command that was meant and
what was wrong. Keywords are case-insensitive; a leading "/" is allowed.

The text is platform-neutral: each adapter rewrites its platform's markup before the core
sees it. A user is `@<id>` (the platform's immutable user id), a channel `#<id>`; links and
emails are plain. Display names never travel in the text: the adapter passes the ids it has
verified, with their names, in `CommandContext.mentions`, and the command layer accepts only
those. So `cronofy admins add @U024BE7LH` parses to `AdminsAdd("U024BE7LH")`, while a bare
word (`admins add nobody`) is a usage error here and an unverified `@nobody` is refused by
the command layer.

The commands are dataclasses (`commands`), and their words are read by family: `/schedule …`
(`schedule`), `/cronofy …` (`cronofy`), and among those the commands over candidates' data
(`candidate_data`). `errors` holds the usage lines and `UsageError`, `values` the readers of
an email, a link, a channel and a user.
"""

from __future__ import annotations

from bot.commands.parser.candidate_data import MAX_RETENTION_DAYS
from bot.commands.parser.commands import (
    ADMIN_COMMANDS,
    PRIVACY_COMMANDS,
    AdminsAdd,
    AdminsRemove,
    AdminsShow,
    AgendaOff,
    AgendaOn,
    AgendaShow,
    AlertsOff,
    AlertsRoute,
    AlertsShow,
    ApiTokenCreate,
    ApiTokenList,
    ApiTokenRevoke,
    AuditShow,
    CandidateErase,
    CandidateExport,
    CandidateShow,
    Command,
    Connect,
    Disconnect,
    DmAlerts,
    FeedbackSet,
    FeedbackShow,
    Help,
    Link,
    LinkFor,
    LinkSet,
    LinkShare,
    OrgStatus,
    RemindersSet,
    RemindersShow,
    Reset,
    RetentionSet,
    RetentionShow,
    Setup,
    Status,
    Upcoming,
    WebhookAdd,
    WebhookList,
    WebhookRemove,
    WebhookTest,
)
from bot.commands.parser.cronofy import parse_cronofy
from bot.commands.parser.errors import USAGE, USAGE_WITH_CHANNELS, UsageError, usage
from bot.commands.parser.schedule import MAX_NAME, parse_schedule
from bot.commands.parser.values import MAX_EMAIL, MAX_URL
from cards import help as texts

MAX_TEXT = 2000


def _clean(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise UsageError("help", texts.TOO_LONG)
    # control characters (NUL, escape sequences, bidi overrides) are never part of a command
    return "".join(ch if ch.isprintable() or ch in " \t\n" else " " for ch in text)


def parse(text: str) -> Command:
    words = _clean(text).split()
    if not words:
        return Help()
    head = words[0].lower().lstrip("/")
    rest = words[1:]
    if head == "help":
        if len(rest) > 1 or (rest and rest[0].lower().lstrip("/") not in ("schedule", "cronofy")):
            raise UsageError("help", texts.HELP_TAKES_NO_TOPIC)
        return Help(rest[0].lower().lstrip("/") if rest else "")
    if head == "schedule":
        return parse_schedule(rest)
    if head == "cronofy":
        return parse_cronofy(rest)
    raise UsageError("help", texts.not_understood(" ".join(words)))


__all__ = [
    "ADMIN_COMMANDS",
    "MAX_EMAIL",
    "MAX_NAME",
    "MAX_RETENTION_DAYS",
    "MAX_TEXT",
    "MAX_URL",
    "PRIVACY_COMMANDS",
    "USAGE",
    "USAGE_WITH_CHANNELS",
    "AdminsAdd",
    "AdminsRemove",
    "AdminsShow",
    "AgendaOff",
    "AgendaOn",
    "AgendaShow",
    "AlertsOff",
    "AlertsRoute",
    "AlertsShow",
    "ApiTokenCreate",
    "ApiTokenList",
    "ApiTokenRevoke",
    "AuditShow",
    "CandidateErase",
    "CandidateExport",
    "CandidateShow",
    "Command",
    "Connect",
    "Disconnect",
    "DmAlerts",
    "FeedbackSet",
    "FeedbackShow",
    "Help",
    "Link",
    "LinkFor",
    "LinkSet",
    "LinkShare",
    "OrgStatus",
    "RemindersSet",
    "RemindersShow",
    "Reset",
    "RetentionSet",
    "RetentionShow",
    "Setup",
    "Status",
    "Upcoming",
    "UsageError",
    "WebhookAdd",
    "WebhookList",
    "WebhookRemove",
    "WebhookTest",
    "parse",
    "usage",
]
