"""The command layer: one entry point, `handle_turn`, for everything a member does.

A platform turns a typed command, a button press or a submitted form into a `Turn`; the
answer is a list of `Reply`s the platform shows its own way. Nothing here knows which
platform asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat import Actor, Conversation, Mentions, Reply, Turn
from bot.runtime import Services

__all__ = ["CommandContext", "Mentions", "handle_turn"]


@dataclass
class CommandContext:
    """What a command runs with: the services, who asks, where, and the checked mentions."""

    services: Services
    actor: Actor
    conversation: Conversation
    mentions: Mentions = field(default_factory=Mentions)
    # the member's time zone as the platform says it (IANA name, unchecked), when it does
    zone: str | None = None


async def handle_turn(services: Services, turn: Turn) -> list[Reply]:
    """Answer one turn. Errors a person can act on come back as cards; only a bug raises."""
    from bot.commands import dispatch

    ctx = CommandContext(services, turn.actor, turn.conversation, turn.mentions, turn.zone)
    if turn.kind == "command":
        return await dispatch.dispatch(ctx, turn.text)
    if turn.kind == "action":
        return await dispatch.dispatch_action(ctx, turn.action_id, turn.value)
    return [await dispatch.dispatch_form(ctx, turn.action_id, turn.values, turn.value)]
