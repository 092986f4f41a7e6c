"""The org's Cronofy keys, on the command side: `/cronofy setup` and its form, `/cronofy reset`
and its confirmation.

`/cronofy setup` opens a form for the Cronofy app's client id, secret and data center; the
submitted form is checked with Cronofy and stored (`bot.cronofy.setup`), and a refused one
comes back refilled with what was wrong beside each field. `/cronofy reset` asks first, with
a button carrying the org's id; only that button, pressed by an admin of that org, removes
the keys and the members' calendar tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot import logs
from bot.chat import Reply, privately
from bot.commands import CommandContext
from bot.cronofy import setup
from bot.errors import CommandError, PermissionDenied, StoreError
from cards import actions, errors
from cards import setup as setup_cards
from cards.model import Card
from cards.text import to_text

# a failed command is logged under the dispatcher's name, wherever it failed, so that one
# logger holds them all
log = logging.getLogger("bot.commands.dispatch")


async def open_form(ctx: CommandContext) -> list[Reply]:
    """`/cronofy setup` (admins; anyone on an org with neither admins nor keys): the form,
    refilled with the org's current client id and data center, never the secret."""
    services, actor = ctx.services, ctx.actor
    org = await services.store.get_org(actor.org_id)
    if not setup.may_run_setup(services, org, actor):
        raise PermissionDenied()
    current = org.cronofy if org is not None else None
    card = setup_cards.setup_form(
        current.data_center if current else None, current.client_id if current else None
    )
    return [Reply(card=card, visibility="private", opens_form=True)]


async def submitted(ctx: CommandContext, values: Mapping[str, str]) -> Reply:
    """The submitted form: the answer takes the form's place (see Reply.form_errors)."""
    client_id = values.get(actions.CLIENT_ID, "").strip()
    client_secret = values.get(actions.CLIENT_SECRET, "").strip()
    data_center = values.get(actions.DATA_CENTER, "").strip()
    again = setup_cards.setup_form(data_center=data_center or None, client_id=client_id or None)

    def refused(card: Card, field_errors: Mapping[str, str]) -> Reply:
        problems = dict(field_errors) or {"form": to_text(card)}
        return Reply(card=card, visibility="update", form_errors=problems, form_again=again)

    try:
        result = await setup.submit_setup(
            ctx.services, ctx.actor, client_id, client_secret, data_center, where=ctx.conversation
        )
    except PermissionDenied:
        return refused(errors.error_not_admin(), {})
    except StoreError:
        log.exception(logs.COMMAND_FAILED, "cronofy setup", ctx.actor.user_id, ctx.actor.org_id)
        return refused(errors.error_store_down(try_again=False), {})
    if result.ok:
        card = setup_cards.setup_result(
            result.push_url, result.data_center, became_admin=result.became_admin
        )
        return Reply(card=card, visibility="update")
    if result.unreachable:
        return refused(errors.error_cronofy_unreachable(), result.field_errors)
    reason = " ".join(dict.fromkeys(result.field_errors.values()))
    return refused(errors.error_keys_rejected(reason), result.field_errors)


async def reset_asked(ctx: CommandContext) -> list[Reply]:
    """`/cronofy reset` (admins only: checked by the dispatcher) asks, and changes nothing."""
    org = await ctx.services.store.get_org(ctx.actor.org_id)
    if org is None or org.cronofy is None:
        return privately(setup_cards.nothing_to_reset())
    return privately(setup_cards.confirm_reset(org.org_id))


async def reset_confirmed(ctx: CommandContext, org_id: str) -> list[Reply]:
    """The confirmation's button: its value, the org's id, came back from the client and must
    be the presser's own org."""
    if org_id != ctx.actor.org_id:
        raise CommandError(errors.CONFIRMATION_ELSEWHERE)
    done = await setup.reset(ctx.services, ctx.actor)
    return privately(setup_cards.reset_done(done))
