"""The command layer behind `bot.commands.handle_turn`: commands, button presses, forms.

Each command checks who may run it, does its reads and writes, and answers with cards.
Errors a person can act on become a card that says what to do; nothing here raises to
the adapter except a bug.

This module routes: it parses, checks the admin-only commands, turns errors into cards, and
hands each command, button and form to the module of its family: a member's own commands
(`member`), a candidate's profile (`profile`), the agenda (`agenda`), the org's status,
alerts and admins (`org_admin`), its Cronofy keys (`setup`), the note after an interview
(`notes`), the read API (`api`), a candidate's own data (`privacy`) and webhooks
(`bot.webhooks.commands`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from bot import logs
from bot.chat import Reply, privately
from bot.commands import (
    CommandContext,
    agenda,
    api,
    member,
    notes,
    org_admin,
    privacy,
    profile,
    setup,
)
from bot.commands import parser as p
from bot.cronofy import admins, connect, links
from bot.errors import (
    CommandError,
    CronofyUnreachable,
    PermissionDenied,
    SecretKeyRetired,
    SlotbotError,
    StoreError,
)
from bot.webhooks import commands as webhook_commands
from cards import actions, errors, scheduling
from cards.help import help_card
from cards.model import Card
from cards.text import to_text

log = logging.getLogger(__name__)

_EMAILS = re.compile(r"\S+@\S+")


async def dispatch(ctx: CommandContext, text: str) -> list[Reply]:
    try:
        command = p.parse(text)
    except p.UsageError as exc:
        return privately(_usage_card(ctx, exc))
    # the text goes to the log when the command fails: no candidate's email with it
    return await _guarded(ctx, lambda: _run(ctx, command), _EMAILS.sub("<email>", text))


def _usage_card(ctx: CommandContext, exc: p.UsageError) -> Card:
    line = exc.usage_for(channel_mentions=ctx.mentions.can_name_channels)
    return errors.error_usage(line, exc.problem)


async def _guarded(
    ctx: CommandContext, work: Callable[[], Awaitable[list[Reply]]], what: str
) -> list[Reply]:
    """Turn the errors a person can act on into cards."""
    try:
        return await work()
    except connect.NotConnected as exc:
        return privately(errors.error_not_connected(exc.authorize_url))
    except connect.NotSetUp as exc:
        if exc.public_message == connect.NotSetUp.public_message:
            return privately(errors.error_setup_required())
        return privately(errors.error(exc.public_message))
    except links.NeedsPublicLink as exc:
        return privately(scheduling.set_link_prompt(exc.example))
    except p.UsageError as exc:
        return privately(_usage_card(ctx, exc))
    except PermissionDenied:
        return privately(errors.error_not_admin())
    except CommandError as exc:
        return privately(errors.error(exc.public_message))
    except CronofyUnreachable:
        return privately(errors.error_cronofy_unreachable())
    except SecretKeyRetired as exc:
        return privately(errors.error(exc.public_message))
    except StoreError:
        log.exception(logs.COMMAND_FAILED, what[:60], ctx.actor.user_id, ctx.actor.org_id)
        return privately(errors.error_store_down())
    except SlotbotError as exc:
        return privately(errors.error(exc.public_message))


async def _run(ctx: CommandContext, command: p.Command) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    if isinstance(command, p.ADMIN_COMMANDS):
        org = await services.store.get_org(actor.org_id)
        if not admins.is_admin(services, org, actor):
            raise PermissionDenied()
    match command:
        case p.Help():
            return privately(help_card(actor.platform))
        case (
            p.Link()
            | p.LinkShare()
            | p.LinkSet()
            | p.LinkFor()
            | p.Connect()
            | p.Disconnect()
            | p.Status()
            | p.Upcoming()
            | p.DmAlerts()
            | p.RemindersShow()
            | p.RemindersSet()
        ):
            return await member.run(ctx, command)
        case p.CandidateShow(email=email):
            return await profile.by_email(ctx, email)
        case p.AgendaShow() | p.AgendaOn() | p.AgendaOff():
            return [await agenda.run(ctx, command)]
        case p.Setup():
            return await setup.open_form(ctx)
        case p.OrgStatus():
            return await org_admin.status_command(ctx)
        case p.AlertsShow() | p.AlertsRoute() | p.AlertsOff():
            return await org_admin.alerts_command(ctx, command)
        case p.AdminsShow() | p.AdminsAdd() | p.AdminsRemove():
            return await org_admin.admins_command(ctx, command)
        case p.FeedbackShow() | p.FeedbackSet():
            return privately(await notes.feedback_command(ctx, command))
        case p.ApiTokenCreate() | p.ApiTokenList() | p.ApiTokenRevoke():
            return privately(await api.token_command(ctx, command))
        case p.AuditShow():
            return privately(await api.audit_command(ctx, command))
        case p.CandidateErase() | p.CandidateExport() | p.RetentionShow() | p.RetentionSet():
            return await privacy.run(ctx, command)
        case p.WebhookList() | p.WebhookAdd() | p.WebhookRemove() | p.WebhookTest():
            return privately(await webhook_commands.run(ctx, command))
        case p.Reset():
            return await setup.reset_asked(ctx)
    raise CommandError(errors.COMMAND_NOT_AVAILABLE)  # pragma: no cover - exhaustive match


# --- forms ------------------------------------------------------------------------------


async def dispatch_form(
    ctx: CommandContext, form_id: str, values: Mapping[str, str], value: str = ""
) -> Reply:
    """A submitted form (`value`: what its submit button carried): the reply takes the
    form's place (see Reply.form_errors)."""
    if form_id == actions.NOTE_FORM:
        return await _guarded_form(ctx, lambda: notes.submit_note(ctx, value[:1000], values))
    # a form is known by its id; a submission that lost it (a card from an older version)
    # by its inputs
    if form_id in actions.SETUP_FORMS or (not form_id and actions.CLIENT_SECRET in values):
        return await setup.submitted(ctx, values)
    return Reply(card=errors.error(errors.BUTTON_GONE), visibility="update")


async def _guarded_form(ctx: CommandContext, work: Callable[[], Awaitable[Reply]]) -> Reply:
    """A form's answer, or the card `_guarded` makes of an error, in the form's place."""
    done: list[Reply] = []

    async def run() -> list[Reply]:
        done.append(await work())
        return []

    problems = await _guarded(ctx, run, "form")
    if done:
        return done[0]
    problem = problems[0].card
    return Reply(card=problem, visibility="update", form_errors={"form": to_text(problem)})


# --- button presses ---------------------------------------------------------------------


async def dispatch_action(ctx: CommandContext, action_id: str, value: str) -> list[Reply]:
    return await _guarded(ctx, lambda: _action(ctx, action_id, value[:1000]), action_id[:40])


async def _action(ctx: CommandContext, action_id: str, value: str) -> list[Reply]:
    if action_id == actions.SHARE_LINK:
        return await member.share_pressed(ctx, value)
    if action_id == actions.CANDIDATE_PROFILE:
        return await profile.by_id(ctx, value)
    if action_id == actions.RESET_CONFIRM:
        return await setup.reset_confirmed(ctx, value)
    if action_id in actions.CANCEL_ACTIONS:
        return privately(errors.cancelled())
    if action_id in actions.SETUP_OPEN_ACTIONS:
        return await dispatch(ctx, "cronofy setup")
    if action_id == actions.ADD_NOTE:
        return await notes.open_note_form(ctx, value)
    if action_id == actions.ERASE_CONFIRM:
        return await privacy.erase_pressed(ctx, value)
    raise CommandError(errors.BUTTON_GONE)


__all__ = ["dispatch", "dispatch_action", "dispatch_form"]
