"""The read API in chat: API tokens (/cronofy api token create|list|revoke) and the audit log
(/cronofy audit). Every one of these answers is private to the admin who asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cards._text import one_line, truncate
from cards.errors import error, notice
from cards.model import Card, Fact, Facts, Footer, Header, Inline, Section, TimeValue

MAX_AUDIT = 50
DEFAULT_AUDIT = 10

TOKEN_NAME_RULE = "A token name is 1 to 40 characters: lower-case letters, digits, - and _."
WHICH_TOKEN = "Which token? Give its name."
CREATE_LIST_OR_REVOKE = "Say create <name>, list or revoke <name>."


def audit_count_rule(word: str) -> str:
    return f"“{truncate(one_line(word), 20)}” is not a number from 1 to {MAX_AUDIT}."


# --- tokens ---------------------------------------------------------------------------------


def token_created(name: str, token: str, api_url: str) -> Card:
    """The new token: the only time it is shown."""
    return Card(
        blocks=[
            Header(f"API token “{name}” created"),
            Section(
                "Copy it now: Slotbot keeps only a fingerprint of it and cannot show it again."
            ),
            Section(token),
            Section(
                f"Send it as Authorization: Bearer <token> to {api_url} (the OpenAPI "
                f"document is at {api_url}openapi.json). Revoke it with "
                f"/cronofy api token revoke {name}."
            ),
        ],
        fallback=f"API token “{name}” created: copy it now, it is shown once",
    )


def token_name_taken(name: str) -> Card:
    return error(
        f"A token named “{name}” is in use. Pick another name, or revoke it first with "
        f"/cronofy api token revoke {name}."
    )


def token_unknown(name: str) -> Card:
    return error(f"There is no API token named “{truncate(one_line(name), 40)}”.")


def token_already_revoked(name: str) -> Card:
    return notice("Already revoked", f"The API token “{name}” was already revoked.")


def token_revoked(name: str) -> Card:
    return notice(
        f"API token “{name}” revoked",
        "From now on the API refuses it (403). The revocation is in the audit log.",
    )


@dataclass(frozen=True)
class TokenView:
    name: str
    created_at: datetime
    created_by: str  # a name, or the platform id when the member is unknown
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def token_list(tokens: Sequence[TokenView], zone: str | None = None) -> Card:
    if not tokens:
        return notice("API tokens", "None yet. Make one with /cronofy api token create <name>.")
    facts: list[Fact] = []
    for token in tokens:
        value: list[Inline] = ["created ", TimeValue(token.created_at, zone=zone)]
        value += [f" by {token.created_by}", "; last used "]
        value += [TimeValue(token.last_used_at, zone=zone)] if token.last_used_at else ["never"]
        if token.revoked_at is not None:
            value += ["; revoked ", TimeValue(token.revoked_at, zone=zone)]
        facts.append(Fact(token.name, value))
    return Card(
        blocks=[Header("API tokens"), Facts(facts)],
        fallback=f"API tokens: {', '.join(t.name for t in tokens)}",
    )


# --- the audit log --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str  # a name, "Cronofy", "Slotbot", or the platform id
    action: str
    detail: dict[str, str] = field(default_factory=dict)


def audit_log(entries: Sequence[AuditView], zone: str | None = None) -> Card:
    """The latest entries, newest first."""
    if not entries:
        return notice("Audit log", "Nothing recorded yet.")
    facts: list[Fact] = []
    for entry in entries:
        detail = ", ".join(
            f"{truncate(one_line(k), 30)}: {truncate(one_line(v), 60)}"
            for k, v in sorted(entry.detail.items())
        )
        value: list[Inline] = [TimeValue(entry.at, zone=zone), f" · {entry.actor}"]
        if detail:
            value.append(f" · {detail}")
        facts.append(Fact(truncate(one_line(entry.action), 40), value))
    return Card(
        blocks=[
            Header(f"Audit log: the latest {len(entries)}"),
            Facts(facts),
            Footer("The whole log: GET /api/v1/audit with an API token."),
        ],
        fallback=f"Audit log: the latest {len(entries)} entries",
    )
