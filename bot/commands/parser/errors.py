"""Usage lines, and the `UsageError` a parser raises with the line of the command meant.

The lines themselves are words a person reads, so they are made in `cards.help`; `Words`
holds what is left of a command's words and refuses any left over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.errors import CommandError
from bot.store.records import ALERT_KINDS
from cards import help as texts

USAGE: dict[str, str] = texts.usage_lines(ALERT_KINDS)
# where the platform lets a member pick a channel in the text (`#<id>`), the usage says so
USAGE_WITH_CHANNELS: dict[str, str] = texts.usage_lines_with_channels(ALERT_KINDS)


def usage(key: str, *, channel_mentions: bool = False) -> str:
    """The usage line for `key`; `channel_mentions` when the platform can name a channel."""
    if channel_mentions and key in USAGE_WITH_CHANNELS:
        return USAGE_WITH_CHANNELS[key]
    return USAGE.get(key, USAGE["help"])


class UsageError(CommandError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.usage = usage(key)
        self.problem = problem

    def usage_for(self, *, channel_mentions: bool) -> str:
        return usage(self.key, channel_mentions=channel_mentions)


@dataclass
class Words:
    key: str
    words: list[str] = field(default_factory=list)

    def none_left(self) -> None:
        if self.words:
            raise UsageError(self.key, texts.unexpected_words(" ".join(self.words)))
