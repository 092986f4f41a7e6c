"""The values inside a command's words: an email address, a link, a channel, a user.

Each reader takes the usage key of the command it reads for, so a bad value is a
`UsageError` naming that command. Channels and users arrive as `#<id>` and `@<id>`, the
platform's own ids (the adapter rewrote its markup); display names never do.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.commands.parser.errors import UsageError
from cards import help as texts

MAX_EMAIL = 254
MAX_URL = 300

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
# a platform id after "@" (user) or "#" (channel): Slack U…/C…, Teams GUIDs and 19:…@thread…
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_.@-]{1,127}")


def parse_email(key: str, token: str) -> str:
    value = token
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    if len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value) or ".." in value:
        raise UsageError(key, texts.not_an_email(token))
    return value.lower()


def parse_url(key: str, token: str) -> str:
    if len(token) > MAX_URL:
        raise UsageError(key, texts.LINK_TOO_LONG)
    parts = urlsplit(token)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(key, texts.not_a_link(token))
    return token


def parse_channel(key: str, token: str) -> str:
    if not token.startswith("#") or not _ID.fullmatch(token[1:]):
        raise UsageError(key, texts.not_a_channel(token))
    return token[1:]


def parse_user(key: str, token: str) -> str:
    if not token.startswith("@") or not _ID.fullmatch(token[1:]):
        raise UsageError(key, texts.not_a_user(token))
    return token[1:]
