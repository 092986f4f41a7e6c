"""Driving the command layer the way a platform does, one Turn at a time, from a
CommandContext (who asks, where, with which checked mentions)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat import Reply, Turn
from bot.commands import CommandContext, handle_turn
from cards import actions


async def run_command(ctx: CommandContext, text: str) -> list[Reply]:
    turn = Turn(ctx.actor, ctx.conversation, "command", text=text, mentions=ctx.mentions)
    return await handle_turn(ctx.services, turn)


async def run_action(ctx: CommandContext, action_id: str, value: str) -> list[Reply]:
    turn = Turn(ctx.actor, ctx.conversation, "action", action_id=action_id, value=value)
    return await handle_turn(ctx.services, turn)


@dataclass
class SetupOutcome:
    """The setup form's answer, read the way the tests ask about it."""

    ok: bool
    reply: Reply
    field_errors: dict[str, str] = field(default_factory=dict)


async def submit_setup(
    ctx: CommandContext, client_id: str, client_secret: str, data_center: str
) -> SetupOutcome:
    values = {
        actions.CLIENT_ID: client_id,
        actions.CLIENT_SECRET: client_secret,
        actions.DATA_CENTER: data_center,
    }
    turn = Turn(ctx.actor, ctx.conversation, "form", action_id=actions.SETUP_FORM, values=values)
    [reply] = await handle_turn(ctx.services, turn)
    problems = {name: text for name, text in reply.form_errors.items() if name != "form"}
    return SetupOutcome(ok=not reply.form_errors, reply=reply, field_errors=problems)
