"""Neutral chat terms shared by the core and the platform adapters.

A platform turns what a member did (typed a command, pressed a button, submitted a form)
into a `Turn`; the core answers it with `Reply`s (`bot.commands.handle_turn`), which the
platform shows its own way. The outbox worker sends cards through a `DeliveryAdapter` that
each platform implements, and learns why a delivery failed from the `DeliveryFailure` the
adapter names.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:  # only named in signatures: bot.errors imports this module, and the store
    # imports bot.errors, so this module imports neither at run time
    from bot.store.records import MessageRef
    from cards.model import Card

ConversationKind = Literal["channel", "dm", "group"]
# private: only the actor sees it; public: everyone in the conversation; update: it takes the
# place of what the actor acted on (the submitted form, the message whose button was pressed)
Visibility = Literal["private", "public", "update"]
TurnKind = Literal["command", "action", "form"]


@dataclass(frozen=True)
class Actor:
    """Who is asking. `user_id` is the platform's immutable id, never a display name."""

    platform: str
    org_id: str
    user_id: str
    display_name: str = ""
    # an admin of the workspace / tenant, as far as the platform tells (some cannot)
    is_platform_admin: bool = False


@dataclass(frozen=True)
class Conversation:
    platform: str
    org_id: str
    conversation_id: str
    kind: ConversationKind = "channel"
    name: str = ""


@dataclass(frozen=True)
class Mentions:
    """Users and channels the platform resolved in the command text.

    Command text reaches the core in a neutral form (see `bot.commands.parser`): a user is
    `@<id>` and a channel `#<id>`. The platform puts only ids it has checked here (with a
    display name, "" when unknown); the command layer refuses an `@<id>` or `#<id>` that is
    not listed, so a made-up word can never become an admin or a route.
    """

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    # the platform lets a member pick a channel in the text, so usage lines may offer it
    can_name_channels: bool = False


@dataclass(frozen=True)
class Turn:
    """One thing a member did, in the core's terms.

    - command: `text` is the command line ("schedule link for ann@example.com"), its
      mentions already checked (`mentions`);
    - action: a button of one of our cards was pressed: `action_id` and its `value`;
    - form: a form was submitted: `action_id` is the form's id, `values` its inputs, and
      `value` what its submit button carries (which record the form is about).
    `zone` and `locale` are the reader's, when the platform says them.
    """

    actor: Actor
    conversation: Conversation
    kind: TurnKind
    text: str = ""
    action_id: str = ""
    value: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    mentions: Mentions = field(default_factory=Mentions)
    zone: str | None = None
    locale: str | None = None

    @property
    def org_id(self) -> str:
        return self.actor.org_id


@dataclass
class Reply:
    """What to show, and to whom (see Visibility)."""

    card: Card
    visibility: Visibility = "private"
    # the card is a form to open (a modal, a card with inputs)
    opens_form: bool = False
    # a submitted form was refused: input name -> what is wrong with it ("form": the whole
    # form); `card` says it in a card, `form_again` is the form refilled, for platforms that
    # show the problems on the form itself
    form_errors: dict[str, str] = field(default_factory=dict)
    form_again: Card | None = None


def privately(card: Card) -> list[Reply]:
    """A card as the one reply, shown only to the member who asked."""
    return [Reply(card=card, visibility="private")]


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


@runtime_checkable
class FindsSentMessages(Protocol):
    """A `DeliveryAdapter` that can tell whether a job already posted its message.

    Each message it posts for a job carries the job's `label` where the platform keeps it
    (Slack: message metadata), and the `find_*` methods look for a message with that label
    among the conversation's (or the thread's) messages since `since`: the message's
    reference, or None when there is none. When it cannot look for a reason trying again
    would not fix (a permission it lacks), it says so in the log and answers None; a failure
    worth another try raises `DeliveryError` like any other call.

    The outbox worker asks before it posts a second time for a job that may have posted
    already: its worker stopped between the post and the sent marker.
    """

    async def send_labelled(self, target: DeliveryTarget, card: Card, label: str) -> MessageRef:
        """`DeliveryAdapter.send`, the message labelled."""

    async def reply_labelled(self, ref: MessageRef, card: Card, label: str) -> MessageRef:
        """`DeliveryAdapter.reply_in_thread`, the reply labelled."""

    async def find_sent(
        self, target: DeliveryTarget, label: str, *, since: float
    ) -> MessageRef | None:
        """A message with `label` in the conversation of `target`."""

    async def find_reply(self, ref: MessageRef, label: str, *, since: float) -> MessageRef | None:
        """A reply with `label` in the thread of the message `ref`."""
