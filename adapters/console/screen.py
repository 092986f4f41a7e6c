"""The terminal: what the console writes, one writer at a time, and the buttons on it.

Replies to what a person typed are written by the session; alerts and notices by the outbox
worker through `ConsoleDelivery`, on Slotbot's own thread. Both go through one `Screen`, which
numbers every button that sends something back so a person can `press` it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TextIO

from cards import console as say
from cards.model import Card
from cards.text import to_text


@dataclass(frozen=True)
class Pressable:
    """A numbered button: what pressing it sends, and where it was shown."""

    conversation_id: str
    action_id: str
    value: str


class Screen:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.RLock()
        self._buttons: dict[int, Pressable] = {}
        self._next_button = 1

    def say(self, text: str = "") -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def show(self, heading: str, card: Card, conversation_id: str, *, indent: str = "") -> None:
        """A card under its heading, with a line saying how to press its buttons."""
        with self._lock:
            numbered: list[tuple[int, str]] = []
            for press in say.presses(card):
                number = self._next_button
                self._next_button += 1
                self._buttons[number] = Pressable(conversation_id, press.action_id, press.value)
                numbered.append((number, press.label))
            lines = [heading, *to_text(card).splitlines()]
            if numbered:
                lines.append(say.press_hint(numbered))
            self.say("\n".join(indent + line if indent else line for line in lines))

    def button(self, number: int) -> Pressable | None:
        with self._lock:
            return self._buttons.get(number)
