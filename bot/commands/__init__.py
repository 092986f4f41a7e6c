"""The command layer: `/schedule …` and `/cronofy …` text in, replies out, platform-neutral.

Slack and Teams adapters call these functions with the same arguments and render the
replies' cards for their platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.chat import Actor, Conversation, Reply
from bot.runtime import Services


@dataclass(frozen=True)
class Mentions:
    """Users and channels the adapter resolved in the command text.

    Command text reaches the core in a neutral form (see `bot.commands.parser`): a user is
    `@<id>` and a channel `#<id>`. The adapter puts only ids it has checked with its platform
    here (with a display name, "" when unknown); the command layer refuses an `@<id>` or
    `#<id>` that is not listed, so a made-up word can never become an admin or a route.
    """

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    # the platform lets a member pick a channel in the text, so usage lines may offer it
    can_name_channels: bool = False


@dataclass
class CommandContext:
    services: Services
    actor: Actor
    conversation: Conversation
    mentions: Mentions = field(default_factory=Mentions)


@dataclass
class SetupOutcome:
    """Result of submitting the setup form: field errors to show inline, or the result reply."""

    ok: bool
    field_errors: dict[str, str] = field(
        default_factory=dict
    )  # "client_id"/"client_secret"/"data_center"
    reply: Reply | None = None


async def run_command(ctx: CommandContext, text: str) -> list[Reply]:
    """Run one command line such as "schedule link share" or "cronofy setup".

    The first word is the command ("schedule", "cronofy" or "help"); a leading "/" is allowed.
    """
    from bot.commands.dispatch import dispatch

    return await dispatch(ctx, text)


async def submit_setup(
    ctx: CommandContext, client_id: str, client_secret: str, data_center: str
) -> SetupOutcome:
    """What the setup form (Slack modal, Teams card) submits."""
    from bot.commands.dispatch import dispatch_setup

    return await dispatch_setup(ctx, client_id, client_secret, data_center)


async def run_action(ctx: CommandContext, action_id: str, value: str) -> list[Reply]:
    """A button press on one of our cards (e.g. Share link); `action_id` and `value` come
    from the card's action button."""
    from bot.commands.dispatch import dispatch_action

    return await dispatch_action(ctx, action_id, value)
