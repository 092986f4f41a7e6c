"""Neutral chat terms shared by the core and the platform adapters.

The command layer receives an `Actor` in a `Conversation` and returns `Reply`s; the outbox
worker sends cards through a `DeliveryAdapter` that each platform implements, and learns why
a delivery failed from the `DeliveryFailure` the adapter names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:  # only named in signatures: bot.errors imports this module, and the store
    # imports bot.errors, so this module imports neither at run time
    from bot.store.records import MessageRef
    from cards.model import Card

ConversationKind = Literal["channel", "dm", "group"]
Visibility = Literal["private", "public"]


@dataclass(frozen=True)
class Actor:
    """Who is asking. `user_id` is the platform's immutable id, never a display name."""

    platform: str
    org_id: str
    user_id: str
    display_name: str = ""
    is_platform_admin: bool = False  # Slack workspace owner/admin; always False on Teams


@dataclass(frozen=True)
class Conversation:
    platform: str
    org_id: str
    conversation_id: str
    kind: ConversationKind = "channel"
    name: str = ""


@dataclass
class Reply:
    """What to show, and to whom: `private` only to the actor, `public` to the conversation."""

    card: Card
    visibility: Visibility = "private"
    # set when the reply is a form to open (Slack modal / Teams card form)
    opens_form: bool = False


@dataclass(frozen=True)
class DeliveryTarget:
    """Where an alert goes: a channel/conversation, or a member's direct messages."""

    platform: str
    org_id: str
    kind: Literal["channel", "dm"]
    conversation_id: str | None = None  # channel id (kind="channel")
    user_id: str | None = None  # member to DM (kind="dm")

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.conversation_id or self.user_id}"


class DeliveryFailure(enum.Enum):
    """Why a platform did not take a delivery, in the terms the outbox worker acts on.

    Each adapter maps its platform's answers (Slack error codes, Bot Framework statuses and
    codes) to one of these, so the worker never reads a platform's own vocabulary.
    """

    # the message, or the conversation it was in, no longer exists (deleted, archived, a
    # member who left): an update posts a new message instead; a new post gives up
    GONE = "gone"
    # Slotbot is not in the conversation, or may not post there: someone has to add it
    NOT_MEMBER = "not_member"
    # the platform asked to slow down; `DeliveryError.retry_after` says for how long
    RATE_LIMITED = "rate_limited"
    # Slotbot's credentials for the org no longer work (token revoked, app uninstalled)
    AUTH = "auth"
    # the platform refused this message itself (too long, bad layout): trying again with the
    # same message fails the same way
    REJECTED = "rejected"
    # anything else: an outage, a timeout, an answer not understood; worth another try
    TRANSIENT = "transient"

    @property
    def permanent(self) -> bool:
        """True when trying the same delivery again cannot succeed by itself."""
        return self not in (DeliveryFailure.RATE_LIMITED, DeliveryFailure.TRANSIENT)


@runtime_checkable
class DeliveryAdapter(Protocol):
    """What a platform adapter does for the outbox worker.

    Errors are raised as `bot.errors.DeliveryError`, whose `failure` says why (and whose
    `retry_after` carries the platform's wait, when it gave one).
    """

    platform: str

    async def send(self, target: DeliveryTarget, card: Card) -> MessageRef: ...

    async def update(self, ref: MessageRef, card: Card) -> None: ...

    async def reply_in_thread(self, ref: MessageRef, card: Card) -> MessageRef: ...
