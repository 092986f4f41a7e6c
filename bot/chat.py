"""Neutral chat terms shared by the core and the platform adapters.

The command layer receives an `Actor` in a `Conversation` and returns `Reply`s; the outbox
worker sends cards through a `DeliveryAdapter` that each platform implements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

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


@runtime_checkable
class DeliveryAdapter(Protocol):
    """What a platform adapter does for the outbox worker.

    Errors are raised as `bot.errors.DeliveryError` (permanent or with retry_after).
    """

    platform: str

    async def send(self, target: DeliveryTarget, card: Card) -> MessageRef: ...

    async def update(self, ref: MessageRef, card: Card) -> None: ...

    async def reply_in_thread(self, ref: MessageRef, card: Card) -> MessageRef: ...
