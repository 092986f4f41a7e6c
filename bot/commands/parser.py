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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.errors import CommandError
from bot.lifecycle.agenda import DEFAULT_TIME as DEFAULT_AGENDA_TIME
from bot.lifecycle.agenda import parse_hhmm
from bot.store.records import ALERT_KINDS, BOOKING_KINDS
from cards import api as api_texts
from cards import help as texts
from cards import reminders as reminder_texts

MAX_TEXT = 2000
MAX_EMAIL = 254
MAX_NAME = 100
MAX_URL = 300

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
# a platform id after "@" (user) or "#" (channel): Slack U…/C…, Teams GUIDs and 19:…@thread…
MAX_RETENTION_DAYS = 3650
# an API token's name (bot.api.tokens.NAME)
_TOKEN_NAME = re.compile(r"[a-z0-9_-]{1,40}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_.@-]{1,127}")

USAGE: dict[str, str] = texts.usage_lines(ALERT_KINDS)
# where the platform lets a member pick a channel in the text (`#<id>`), the usage says so
USAGE_WITH_CHANNELS: dict[str, str] = texts.usage_lines_with_channels(ALERT_KINDS)


def usage(key: str, *, channel_mentions: bool = False) -> str:
    """The usage line for `key`; `channel_mentions` when the platform can name a channel."""
    if channel_mentions and key in USAGE_WITH_CHANNELS:
        return USAGE_WITH_CHANNELS[key]
    return USAGE.get(key, USAGE["help"])


class UsageError(CommandError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.usage = usage(key)
        self.problem = problem

    def usage_for(self, *, channel_mentions: bool) -> str:
        return usage(self.key, channel_mentions=channel_mentions)


# --- commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Help:
    topic: str = ""  # "schedule", "cronofy" or "" for everything


@dataclass(frozen=True)
class Link:
    pass


@dataclass(frozen=True)
class LinkShare:
    pass


@dataclass(frozen=True)
class LinkSet:
    url: str


@dataclass(frozen=True)
class LinkFor:
    email: str  # lower-cased
    name: str = ""


@dataclass(frozen=True)
class Connect:
    pass


@dataclass(frozen=True)
class Disconnect:
    pass


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class CandidateShow:
    email: str


@dataclass(frozen=True)
class Upcoming:
    pass


@dataclass(frozen=True)
class DmAlerts:
    on: bool


@dataclass(frozen=True)
class AgendaShow:
    pass


@dataclass(frozen=True)
class AgendaOn:
    at: str = DEFAULT_AGENDA_TIME  # "HH:MM", the member's local time


@dataclass(frozen=True)
class AgendaOff:
    pass


@dataclass(frozen=True)
class RemindersShow:
    pass


@dataclass(frozen=True)
class RemindersSet:
    minutes: int | None  # None: off


@dataclass(frozen=True)
class Setup:
    pass


@dataclass(frozen=True)
class OrgStatus:
    pass


@dataclass(frozen=True)
class AlertsShow:
    pass


@dataclass(frozen=True)
class AlertsRoute:
    """Route these kinds to a channel: `channel_id` None means the current conversation."""

    kinds: tuple[str, ...] = BOOKING_KINDS
    channel_id: str | None = None


@dataclass(frozen=True)
class AlertsOff:
    channel_id: str | None = None  # None: the current conversation


@dataclass(frozen=True)
class AdminsShow:
    pass


@dataclass(frozen=True)
class AdminsAdd:
    user_id: str


@dataclass(frozen=True)
class AdminsRemove:
    user_id: str


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class FeedbackShow:
    pass


@dataclass(frozen=True)
class FeedbackSet:
    on: bool


@dataclass(frozen=True)
class WebhookList:
    pass


@dataclass(frozen=True)
class WebhookAdd:
    url: str  # as typed: checked (https, public addresses) by bot.webhooks.commands


@dataclass(frozen=True)
class WebhookRemove:
    url: str


@dataclass(frozen=True)
class WebhookTest:
    url: str


@dataclass(frozen=True)
class ApiTokenCreate:
    name: str


@dataclass(frozen=True)
class ApiTokenList:
    pass


@dataclass(frozen=True)
class ApiTokenRevoke:
    name: str


@dataclass(frozen=True)
class AuditShow:
    count: int = api_texts.DEFAULT_AUDIT


@dataclass(frozen=True)
class CandidateErase:
    email: str  # lower-cased; asks first (bot.commands.privacy)


@dataclass(frozen=True)
class CandidateExport:
    email: str


@dataclass(frozen=True)
class RetentionShow:
    pass


@dataclass(frozen=True)
class RetentionSet:
    days: int | None  # None: off


Command = (
    Help
    | Link
    | LinkShare
    | LinkSet
    | LinkFor
    | Connect
    | Disconnect
    | Status
    | CandidateShow
    | Upcoming
    | DmAlerts
    | AgendaShow
    | AgendaOn
    | AgendaOff
    | RemindersShow
    | RemindersSet
    | Setup
    | OrgStatus
    | AlertsShow
    | AlertsRoute
    | AlertsOff
    | AdminsShow
    | AdminsAdd
    | AdminsRemove
    | Reset
    | FeedbackShow
    | FeedbackSet
    | WebhookList
    | WebhookAdd
    | WebhookRemove
    | WebhookTest
    | ApiTokenCreate
    | ApiTokenList
    | ApiTokenRevoke
    | AuditShow
    | CandidateErase
    | CandidateExport
    | RetentionShow
    | RetentionSet
)

ADMIN_COMMANDS = (
    OrgStatus,
    AlertsShow,
    AlertsRoute,
    AlertsOff,
    AdminsShow,
    AdminsAdd,
    AdminsRemove,
    Reset,
    FeedbackShow,
    FeedbackSet,
    WebhookList,
    WebhookAdd,
    WebhookRemove,
    WebhookTest,
    ApiTokenCreate,
    ApiTokenList,
    ApiTokenRevoke,
    AuditShow,
    CandidateErase,
    CandidateExport,
    RetentionShow,
    RetentionSet,
)
PRIVACY_COMMANDS = (CandidateErase, CandidateExport, RetentionShow, RetentionSet)


@dataclass
class _Words:
    key: str
    words: list[str] = field(default_factory=list)

    def none_left(self) -> None:
        if self.words:
            raise UsageError(self.key, texts.unexpected_words(" ".join(self.words)))


# --- parsing ----------------------------------------------------------------------------


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
        return _schedule(rest)
    if head == "cronofy":
        return _cronofy(rest)
    raise UsageError("help", texts.not_understood(" ".join(words)))


def _schedule(words: list[str]) -> Command:
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
        _Words(f"schedule {sub}", rest).none_left()
        return simple[sub]
    if sub == "candidate":
        if not rest:
            raise UsageError("schedule candidate", texts.WHICH_CANDIDATE)
        email = _email("schedule candidate", rest[0])
        _Words("schedule candidate", rest[1:]).none_left()
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
        _Words(key, words[1:]).none_left()
        return AgendaOff()
    if action != "on":
        raise UsageError(key, texts.SAY_ON_OR_OFF)
    if len(words) == 1:
        return AgendaOn()
    at = parse_hhmm(words[1])
    if at is None:
        raise UsageError(key, texts.not_a_time_of_day(words[1]))
    _Words(key, words[2:]).none_left()
    return AgendaOn(at)


def _reminders(words: list[str]) -> Command:
    key = "schedule reminders"
    if not words:
        return RemindersShow()
    _Words(key, words[1:]).none_left()
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
        _Words("schedule link share", rest).none_left()
        return LinkShare()
    if sub == "set":
        if not rest:
            raise UsageError("schedule link set", texts.LINK_AFTER_SET)
        url = _url("schedule link set", rest[0])
        _Words("schedule link set", rest[1:]).none_left()
        return LinkSet(url)
    if sub == "for":
        if not rest:
            raise UsageError("schedule link for", texts.WHOSE_LINK)
        email = _email("schedule link for", rest[0])
        name = " ".join(rest[1:])
        if len(name) > MAX_NAME:
            raise UsageError("schedule link for", texts.name_too_long(MAX_NAME))
        if any(ch in name for ch in "<>"):
            raise UsageError("schedule link for", texts.NAME_WITHOUT_BRACKETS)
        return LinkFor(email, name)
    raise UsageError("schedule link", texts.unknown_link_subcommand(words[0]))


def _cronofy(words: list[str]) -> Command:
    if not words or words[0].lower() == "help":
        if len(words) > 1:
            raise UsageError("cronofy", texts.HELP_TAKES_NOTHING)
        return Help("cronofy")
    sub, rest = words[0].lower(), words[1:]
    simple: dict[str, Command] = {"setup": Setup(), "status": OrgStatus(), "reset": Reset()}
    if sub in simple:
        _Words(f"cronofy {sub}", rest).none_left()
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
        return _webhook(rest)
    if sub == "api":
        return _api(rest)
    if sub == "audit":
        return _audit(rest)
    if sub == "candidate":
        return _candidate(rest)
    if sub == "retention":
        return _retention(rest)
    if sub == "admins":
        if not rest:
            return AdminsShow()
        action = rest[0].lower()
        if action not in ("add", "remove"):
            raise UsageError("cronofy admins", texts.add_or_remove(rest[0]))
        if len(rest) < 2:
            raise UsageError("cronofy admins", texts.WHOM)
        user_id = _user("cronofy admins", rest[1])
        _Words("cronofy admins", rest[2:]).none_left()
        return AdminsAdd(user_id) if action == "add" else AdminsRemove(user_id)
    raise UsageError("cronofy", texts.unknown_subcommand(words[0]))


def _webhook(words: list[str]) -> Command:
    key = "cronofy webhook"
    if not words or words[0].lower() == "list":
        _Words(key, words[1:]).none_left()
        return WebhookList()
    action = words[0].lower()
    if action not in ("add", "remove", "test"):
        raise UsageError(key, texts.unknown_subcommand(words[0]))
    if len(words) < 2:
        raise UsageError(key, texts.WHICH_WEBHOOK)
    _Words(key, words[2:]).none_left()
    # a platform may wrap a link in <...> (and add |label): the URL is what is inside
    url = words[1].strip("<>").split("|", 1)[0]
    if action == "add":
        return WebhookAdd(url)
    return WebhookRemove(url) if action == "remove" else WebhookTest(url)


def _api(words: list[str]) -> Command:
    key = "cronofy api token"
    if not words or words[0].lower() != "token":
        raise UsageError(key, api_texts.CREATE_LIST_OR_REVOKE)
    rest = words[1:]
    action = rest[0].lower() if rest else ""
    if action == "list":
        _Words(key, rest[1:]).none_left()
        return ApiTokenList()
    if action not in ("create", "revoke"):
        raise UsageError(key, api_texts.CREATE_LIST_OR_REVOKE)
    if len(rest) < 2:
        raise UsageError(key, api_texts.WHICH_TOKEN)
    name = rest[1]
    if not _TOKEN_NAME.fullmatch(name):
        raise UsageError(key, api_texts.TOKEN_NAME_RULE)
    _Words(key, rest[2:]).none_left()
    return ApiTokenCreate(name) if action == "create" else ApiTokenRevoke(name)


def _audit(words: list[str]) -> Command:
    key = "cronofy audit"
    if not words:
        return AuditShow()
    word = words[0]
    if not re.fullmatch(r"[0-9]{1,3}", word) or not 1 <= int(word) <= api_texts.MAX_AUDIT:
        raise UsageError(key, api_texts.audit_count_rule(word))
    _Words(key, words[1:]).none_left()
    return AuditShow(int(word))


def _candidate(words: list[str]) -> Command:
    key = "cronofy candidate"
    if not words or words[0].lower() not in ("erase", "export"):
        raise UsageError(key, texts.ERASE_OR_EXPORT)
    if len(words) < 2:
        raise UsageError(key, texts.WHICH_CANDIDATE)
    email = _email(key, words[1])
    _Words(key, words[2:]).none_left()
    return CandidateErase(email) if words[0].lower() == "erase" else CandidateExport(email)


def _retention(words: list[str]) -> Command:
    key = "cronofy retention"
    if not words:
        return RetentionShow()
    _Words(key, words[1:]).none_left()
    if words[0].lower() == "off":
        return RetentionSet(None)
    word = words[0].lower().removesuffix("d")
    if not word.isascii() or not word.isdigit() or not 1 <= int(word) <= MAX_RETENTION_DAYS:
        raise UsageError(key, texts.retention_days(words[0], MAX_RETENTION_DAYS))
    return RetentionSet(int(word))


def _alerts(words: list[str]) -> Command:
    key = "cronofy alerts"
    if not words:
        return AlertsShow()
    first = words[0]
    if first.lower() == "off":
        if len(words) == 1:
            return AlertsOff()
        channel_id = _channel(key, words[1])
        _Words(key, words[2:]).none_left()
        return AlertsOff(channel_id)
    if first.lower() == "here":
        return AlertsRoute(kinds=_kinds(key, words[1:]))
    if first.startswith("#"):
        channel_id = _channel(key, first)
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


def _email(key: str, token: str) -> str:
    value = token
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    if len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value) or ".." in value:
        raise UsageError(key, texts.not_an_email(token))
    return value.lower()


def _url(key: str, token: str) -> str:
    if len(token) > MAX_URL:
        raise UsageError(key, texts.LINK_TOO_LONG)
    parts = urlsplit(token)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(key, texts.not_a_link(token))
    return token


def _channel(key: str, token: str) -> str:
    if not token.startswith("#") or not _ID.fullmatch(token[1:]):
        raise UsageError(key, texts.not_a_channel(token))
    return token[1:]


def _user(key: str, token: str) -> str:
    if not token.startswith("@") or not _ID.fullmatch(token[1:]):
        raise UsageError(key, texts.not_a_user(token))
    return token[1:]
