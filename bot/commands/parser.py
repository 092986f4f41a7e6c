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
from bot.store.records import ALERT_KINDS

MAX_TEXT = 2000
MAX_EMAIL = 254
MAX_NAME = 100
MAX_URL = 300

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
# a platform id after "@" (user) or "#" (channel): Slack U…/C…, Teams GUIDs and 19:…@thread…
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_.@-]{1,127}")

USAGE: dict[str, str] = {
    "schedule": "/schedule link | link share | link set <url> | link for <email> [name] | "
    "connect | disconnect | status | candidate <email> | upcoming | alerts on|off",
    "schedule link": "/schedule link",
    "schedule link share": "/schedule link share",
    "schedule link set": "/schedule link set https://app.cronofy.com/pls/XXXXXXXX",
    "schedule link for": "/schedule link for <email> [name]",
    "schedule connect": "/schedule connect",
    "schedule disconnect": "/schedule disconnect",
    "schedule status": "/schedule status",
    "schedule candidate": "/schedule candidate <email>",
    "schedule upcoming": "/schedule upcoming",
    "schedule alerts": "/schedule alerts on|off",
    "cronofy": "/cronofy setup | status | alerts here [kinds] | alerts off | "
    "admins [add|remove @user] | reset",
    "cronofy setup": "/cronofy setup",
    "cronofy status": "/cronofy status",
    "cronofy alerts": "/cronofy alerts here [kinds] · /cronofy alerts off   (kinds: "
    + ", ".join(ALERT_KINDS)
    + ", all)",
    "cronofy admins": "/cronofy admins [add|remove @user]",
    "cronofy reset": "/cronofy reset",
    "help": "/schedule link · /schedule connect · /schedule help · /cronofy setup · /cronofy help",
}

# where the platform lets a member pick a channel in the text (`#<id>`), the usage says so
USAGE_WITH_CHANNELS: dict[str, str] = {
    "cronofy": "/cronofy setup | status | alerts here|#channel [kinds] | alerts off | "
    "admins [add|remove @user] | reset",
    "cronofy alerts": "/cronofy alerts here [kinds] · /cronofy alerts #channel [kinds] · "
    "/cronofy alerts off [#channel]   (kinds: " + ", ".join(ALERT_KINDS) + ", all)",
}


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

    kinds: tuple[str, ...] = ALERT_KINDS
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
    | Setup
    | OrgStatus
    | AlertsShow
    | AlertsRoute
    | AlertsOff
    | AdminsShow
    | AdminsAdd
    | AdminsRemove
    | Reset
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
)


@dataclass
class _Words:
    key: str
    words: list[str] = field(default_factory=list)

    def none_left(self) -> None:
        if self.words:
            shown = " ".join(self.words)[:40]
            raise UsageError(self.key, f"Unexpected words: “{shown}”.")


# --- parsing ----------------------------------------------------------------------------


def _clean(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise UsageError("help", "That command is too long.")
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
            raise UsageError("help", "help takes no arguments (or: help schedule, help cronofy).")
        return Help(rest[0].lower().lstrip("/") if rest else "")
    if head == "schedule":
        return _schedule(rest)
    if head == "cronofy":
        return _cronofy(rest)
    shown = " ".join(words)[:40]
    raise UsageError(
        "help", f"I didn't understand “{shown}”. Commands start with schedule or cronofy."
    )


def _schedule(words: list[str]) -> Command:
    if not words or words[0].lower() == "help":
        if len(words) > 1:
            raise UsageError("schedule", "help takes no arguments.")
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
            raise UsageError("schedule candidate", "Which candidate? Give their email.")
        email = _email("schedule candidate", rest[0])
        _Words("schedule candidate", rest[1:]).none_left()
        return CandidateShow(email)
    if sub == "alerts":
        if len(rest) != 1 or rest[0].lower() not in ("on", "off"):
            raise UsageError("schedule alerts", "Say on or off.")
        return DmAlerts(rest[0].lower() == "on")
    raise UsageError("schedule", f"Unknown subcommand “{words[0][:30]}”.")


def _link(words: list[str]) -> Command:
    if not words:
        return Link()
    sub, rest = words[0].lower(), words[1:]
    if sub == "share":
        _Words("schedule link share", rest).none_left()
        return LinkShare()
    if sub == "set":
        if not rest:
            raise UsageError("schedule link set", "Paste your Cronofy public link after “set”.")
        url = _url("schedule link set", rest[0])
        _Words("schedule link set", rest[1:]).none_left()
        return LinkSet(url)
    if sub == "for":
        if not rest:
            raise UsageError("schedule link for", "Whose link? Give the candidate's email.")
        email = _email("schedule link for", rest[0])
        name = " ".join(rest[1:])
        if len(name) > MAX_NAME:
            raise UsageError(
                "schedule link for", f"The name is too long (at most {MAX_NAME} characters)."
            )
        if any(ch in name for ch in "<>"):
            raise UsageError("schedule link for", "The name cannot contain < or >.")
        return LinkFor(email, name)
    raise UsageError("schedule link", f"Unknown link subcommand “{words[0][:30]}”.")


def _cronofy(words: list[str]) -> Command:
    if not words or words[0].lower() == "help":
        if len(words) > 1:
            raise UsageError("cronofy", "help takes no arguments.")
        return Help("cronofy")
    sub, rest = words[0].lower(), words[1:]
    simple: dict[str, Command] = {"setup": Setup(), "status": OrgStatus(), "reset": Reset()}
    if sub in simple:
        _Words(f"cronofy {sub}", rest).none_left()
        return simple[sub]
    if sub == "alerts":
        return _alerts(rest)
    if sub == "admins":
        if not rest:
            return AdminsShow()
        action = rest[0].lower()
        if action not in ("add", "remove"):
            raise UsageError("cronofy admins", f"Say add or remove, not “{rest[0][:30]}”.")
        if len(rest) < 2:
            raise UsageError("cronofy admins", "Whom? Mention the user.")
        user_id = _user("cronofy admins", rest[1])
        _Words("cronofy admins", rest[2:]).none_left()
        return AdminsAdd(user_id) if action == "add" else AdminsRemove(user_id)
    raise UsageError("cronofy", f"Unknown subcommand “{words[0][:30]}”.")


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
    raise UsageError(key, f"Say here or off, not “{first[:30]}”.")


def _kinds(key: str, words: list[str]) -> tuple[str, ...]:
    if not words:
        return ALERT_KINDS
    chosen: list[str] = []
    for word in words:
        for part in word.lower().split(","):
            if not part:
                continue
            if part == "all":
                return ALERT_KINDS
            if part not in ALERT_KINDS:
                raise UsageError(key, f"Unknown alert kind “{part[:30]}”.")
            if part not in chosen:
                chosen.append(part)
    if not chosen:
        raise UsageError(key, "Name at least one alert kind.")
    # keep the canonical order so equal choices compare equal
    return tuple(k for k in ALERT_KINDS if k in chosen)


def _email(key: str, token: str) -> str:
    value = token
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    if len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value) or ".." in value:
        raise UsageError(key, f"“{token[:60]}” is not an email address.")
    return value.lower()


def _url(key: str, token: str) -> str:
    if len(token) > MAX_URL:
        raise UsageError(key, "That link is too long.")
    parts = urlsplit(token)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(key, f"“{token[:60]}” is not a link.")
    return token


def _channel(key: str, token: str) -> str:
    if not token.startswith("#") or not _ID.fullmatch(token[1:]):
        raise UsageError(key, f"“{token[:40]}” is not a channel: type # and pick the channel.")
    return token[1:]


def _user(key: str, token: str) -> str:
    if not token.startswith("@") or not _ID.fullmatch(token[1:]):
        raise UsageError(key, f"“{token[:40]}” is not a user: type @ and pick the person.")
    return token[1:]
