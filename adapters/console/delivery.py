"""`ConsoleDelivery`: how the outbox worker posts, updates and threads cards in the terminal.

Every message posted to a conversation gets the next number; an update prints the same number
again, marked updated; a thread reply prints indented under the number it answers. A message
reference is the conversation and that number, so the core keeps and hands back references as
it does for any platform.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from adapters.console.screen import Screen
from adapters.console.workspace import DM_PREFIX, NAME, Workspace
from bot.chat import DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError
from bot.store.records import MessageRef
from cards import console as say
from cards.model import Card


@dataclass
class Posted:
    number: int
    conversation_id: str
    card: Card
    thread_of: int | None = None


class ConsoleDelivery:
    """Implements `bot.chat.DeliveryAdapter` for the terminal."""

    platform = NAME

    def __init__(self, screen: Screen, workspace: Workspace) -> None:
        self.screen = screen
        self.workspace = workspace
        self.messages: dict[int, Posted] = {}
        self._lock = threading.Lock()

    # what the session posts itself (public replies) ---------------------------------------

    def post(self, conversation_id: str, card: Card, *, thread_of: int | None = None) -> MessageRef:
        with self._lock:
            number = len(self.messages) + 1
            self.messages[number] = Posted(number, conversation_id, card, thread_of)
        place = self.workspace.label(conversation_id)
        if thread_of is None:
            self.screen.show(say.message_heading(place, number), card, conversation_id)
        else:
            self.screen.show(
                say.thread_heading(place, number, thread_of),
                card,
                conversation_id,
                indent=say.THREAD_INDENT,
            )
        return MessageRef(
            platform=NAME,
            conversation_id=conversation_id,
            message_id=str(number),
            thread_id=str(thread_of) if thread_of is not None else None,
        )

    # DeliveryAdapter -------------------------------------------------------------------

    async def send(self, target: DeliveryTarget, card: Card) -> MessageRef:
        return self.post(self._conversation_for(target), card)

    async def update(self, ref: MessageRef, card: Card) -> None:
        posted = self._posted(ref)
        posted.card = card
        place = self.workspace.label(posted.conversation_id)
        self.screen.show(
            say.message_heading(place, posted.number, updated=True), card, posted.conversation_id
        )

    async def reply_in_thread(self, ref: MessageRef, card: Card) -> MessageRef:
        posted = self._posted(ref)
        # a reply to a reply goes to the thread it is in
        parent = posted.thread_of or posted.number
        return self.post(posted.conversation_id, card, thread_of=parent)

    # ---------------------------------------------------------------------------------

    def _conversation_for(self, target: DeliveryTarget) -> str:
        if target.org_id != self.workspace.org_id:
            raise DeliveryError(
                f"not the console's org: {target.org_id}",
                failure=DeliveryFailure.REJECTED,
                reason="other_org",
            )
        if target.kind == "channel":
            channel = target.conversation_id or ""
            if channel not in self.workspace.channels:
                raise DeliveryError(
                    "no such channel in the console",
                    failure=DeliveryFailure.NOT_MEMBER,
                    reason="no_channel",
                )
            return channel
        person = target.user_id or ""
        if person not in self.workspace.people:
            raise DeliveryError(
                "nobody of that name in the console", failure=DeliveryFailure.GONE, reason="no_user"
            )
        return DM_PREFIX + person

    def _posted(self, ref: MessageRef) -> Posted:
        with self._lock:
            posted = self.messages.get(int(ref.message_id)) if ref.message_id.isdigit() else None
        if posted is None or posted.conversation_id != ref.conversation_id:
            raise DeliveryError(
                "that message is not in this console session",
                failure=DeliveryFailure.GONE,
                reason="no_message",
            )
        return posted
