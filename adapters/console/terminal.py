"""Reading what a person types: with readline (history, completion) at a terminal, plain lines
otherwise, so input can be piped in; piped lines are echoed after their prompt, so what is
printed reads as the session it was."""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable, Iterable
from typing import TextIO

from adapters.console.screen import Screen
from bot.commands.parser import USAGE
from cards import console as say

CONSOLE_WORDS = ("as", "in", "dm", "simulate", *say.SIMULATE_KINDS, "press", "console", "quit")
_WORD = re.compile(r"/?[a-z]+")


def command_words() -> list[str]:
    """The words of Slotbot's commands (from their usage lines) and the console's own."""
    words = {
        word
        for line in USAGE.values()
        for word in re.split(r"[\s|·()\[\],]+", line)
        if _WORD.fullmatch(word)
    }
    return sorted(words | set(CONSOLE_WORDS))


class Terminal:
    def __init__(self, screen: Screen, stdin: TextIO, *, interactive: bool) -> None:
        self.screen = screen
        self.stdin = stdin
        self.interactive = interactive

    def read(self, prompt: str) -> str:
        """One line (EOFError when input ends)."""
        if self.interactive:
            return input(prompt)
        line = self._line()
        self.screen.say(prompt + line)
        return line

    def read_secret(self, prompt: str) -> str:
        if self.interactive:
            return getpass.getpass(prompt)
        line = self._line()
        self.screen.say(prompt + (say.SECRET_TYPED if line.strip() else ""))
        return line

    def _line(self) -> str:
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")


def enable_readline(words: Callable[[], Iterable[str]]) -> None:
    """History for the session and Tab completion of `words()` (the current word only)."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return

    matches: list[str] = []

    def complete(text: str, state: int) -> str | None:
        if state == 0:
            matches[:] = [w for w in words() if w.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" \t")
    if "libedit" in (readline.__doc__ or ""):  # macOS
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
