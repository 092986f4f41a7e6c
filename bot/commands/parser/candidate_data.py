"""`/cronofy …` over candidates' data, and who else may read it (admins only).

Outbound webhooks (`webhook`), read API tokens (`api token`), the audit log (`audit`), one
candidate's data (`candidate erase|export <email>`) and how long the org keeps it
(`retention`).
"""

from __future__ import annotations

import re

from bot.commands.parser.commands import (
    ApiTokenCreate,
    ApiTokenList,
    ApiTokenRevoke,
    AuditShow,
    CandidateErase,
    CandidateExport,
    Command,
    RetentionSet,
    RetentionShow,
    WebhookAdd,
    WebhookList,
    WebhookRemove,
    WebhookTest,
)
from bot.commands.parser.errors import UsageError, Words
from bot.commands.parser.values import parse_email
from cards import api as api_texts
from cards import help as texts

MAX_RETENTION_DAYS = 3650
# an API token's name (bot.api.tokens.NAME)
_TOKEN_NAME = re.compile(r"[a-z0-9_-]{1,40}")


def parse_webhook(words: list[str]) -> Command:
    """The words after `/cronofy webhook`."""
    key = "cronofy webhook"
    if not words or words[0].lower() == "list":
        Words(key, words[1:]).none_left()
        return WebhookList()
    action = words[0].lower()
    if action not in ("add", "remove", "test"):
        raise UsageError(key, texts.unknown_subcommand(words[0]))
    if len(words) < 2:
        raise UsageError(key, texts.WHICH_WEBHOOK)
    Words(key, words[2:]).none_left()
    # a platform may wrap a link in <...> (and add |label): the URL is what is inside
    url = words[1].strip("<>").split("|", 1)[0]
    if action == "add":
        return WebhookAdd(url)
    return WebhookRemove(url) if action == "remove" else WebhookTest(url)


def parse_api(words: list[str]) -> Command:
    """The words after `/cronofy api`."""
    key = "cronofy api token"
    if not words or words[0].lower() != "token":
        raise UsageError(key, api_texts.CREATE_LIST_OR_REVOKE)
    rest = words[1:]
    action = rest[0].lower() if rest else ""
    if action == "list":
        Words(key, rest[1:]).none_left()
        return ApiTokenList()
    if action not in ("create", "revoke"):
        raise UsageError(key, api_texts.CREATE_LIST_OR_REVOKE)
    if len(rest) < 2:
        raise UsageError(key, api_texts.WHICH_TOKEN)
    name = rest[1]
    if not _TOKEN_NAME.fullmatch(name):
        raise UsageError(key, api_texts.TOKEN_NAME_RULE)
    Words(key, rest[2:]).none_left()
    return ApiTokenCreate(name) if action == "create" else ApiTokenRevoke(name)


def parse_audit(words: list[str]) -> Command:
    """The words after `/cronofy audit`."""
    key = "cronofy audit"
    if not words:
        return AuditShow()
    word = words[0]
    if not re.fullmatch(r"[0-9]{1,3}", word) or not 1 <= int(word) <= api_texts.MAX_AUDIT:
        raise UsageError(key, api_texts.audit_count_rule(word))
    Words(key, words[1:]).none_left()
    return AuditShow(int(word))


def parse_candidate(words: list[str]) -> Command:
    """The words after `/cronofy candidate`."""
    key = "cronofy candidate"
    if not words or words[0].lower() not in ("erase", "export"):
        raise UsageError(key, texts.ERASE_OR_EXPORT)
    if len(words) < 2:
        raise UsageError(key, texts.WHICH_CANDIDATE)
    email = parse_email(key, words[1])
    Words(key, words[2:]).none_left()
    return CandidateErase(email) if words[0].lower() == "erase" else CandidateExport(email)


def parse_retention(words: list[str]) -> Command:
    """The words after `/cronofy retention`."""
    key = "cronofy retention"
    if not words:
        return RetentionShow()
    Words(key, words[1:]).none_left()
    if words[0].lower() == "off":
        return RetentionSet(None)
    word = words[0].lower().removesuffix("d")
    if not word.isascii() or not word.isdigit() or not 1 <= int(word) <= MAX_RETENTION_DAYS:
        raise UsageError(key, texts.retention_days(words[0], MAX_RETENTION_DAYS))
    return RetentionSet(int(word))
