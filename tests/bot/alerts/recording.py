"""A delivery adapter that records what the outbox worker asks of a chat platform."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

from bot.chat import DeliveryTarget
from bot.errors import DeliveryError
from bot.store.records import MessageRef
from cards.model import Card

_counter = itertools.count(1)


@dataclass
class Sent:
    target: DeliveryTarget
    card: Card
    ref: MessageRef


class RecordingAdapter:
    """Implements bot.chat.DeliveryAdapter: records sends, updates and thread replies, and
    raises the DeliveryErrors it is told to (`fail_next`). With `hold_sends()` a send waits
    (unrecorded) until `release()`, so a test can stop a worker in the middle of a send."""

    def __init__(self, platform: str = "slack") -> None:
        self.platform = platform
        self.sent: list[Sent] = []
        self.updates: list[tuple[MessageRef, Card]] = []
        self.replies: list[tuple[MessageRef, Card, MessageRef]] = []
        self._failures: list[DeliveryError] = []
        self._target_failures: dict[str, list[DeliveryError]] = {}
        self._hold: asyncio.Event | None = None
        self.send_started = asyncio.Event()
        self.delivered = asyncio.Event()

    def fail_next(self, *errors: DeliveryError) -> None:
        self._failures.extend(errors)

    def fail_for(self, key: str, *errors: DeliveryError) -> None:
        """Raise these (in order) on sends to the target `key` ("channel:C1", "dm:U1")."""
        self._target_failures.setdefault(key, []).extend(errors)

    def hold_sends(self) -> None:
        self._hold = asyncio.Event()

    def release(self) -> None:
        if self._hold is not None:
            self._hold.set()
        self._hold = None

    def _maybe_fail(self) -> None:
        if self._failures:
            raise self._failures.pop(0)

    def _ref(self, conversation: str, thread: str | None = None) -> MessageRef:
        return MessageRef(
            platform=self.platform,
            conversation_id=conversation,
            message_id=f"{next(_counter)}.000100",
            thread_id=thread,
        )

    async def send(self, target: DeliveryTarget, card: Card) -> MessageRef:
        self.send_started.set()
        if self._hold is not None:
            await self._hold.wait()
        self._maybe_fail()
        pending = self._target_failures.get(target.key)
        if pending:
            raise pending.pop(0)
        conversation = target.conversation_id or f"D-{target.user_id}"
        ref = self._ref(conversation)
        self.sent.append(Sent(target, card, ref))
        self.delivered.set()
        return ref

    async def update(self, ref: MessageRef, card: Card) -> None:
        self._maybe_fail()
        self.updates.append((ref, card))

    async def reply_in_thread(self, ref: MessageRef, card: Card) -> MessageRef:
        self._maybe_fail()
        reply = self._ref(ref.conversation_id, thread=ref.message_id)
        self.replies.append((ref, card, reply))
        return reply

    def sent_to(self, key: str) -> list[Sent]:
        return [s for s in self.sent if s.target.key == key]
