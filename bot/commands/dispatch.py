"""The command layer behind `bot.commands.handle_turn`: commands, button presses, forms.

Each command checks who may run it, does its reads and writes, and answers with cards.
Errors a person can act on become a card that says what to do; nothing here raises to
the adapter except a bug.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from bot import logs, org_state
from bot.chat import Reply
from bot.commands import CommandContext, agenda, api, facts, notes, privacy
from bot.commands import parser as p
from bot.cronofy import admins, connect, links, setup
from bot.cronofy.urls import push_url
from bot.errors import (
    CommandError,
    CronofyUnreachable,
    PermissionDenied,
    SecretKeyRetired,
    SlotbotError,
    StoreError,
)
from bot.lifecycle import panel, reminders
from bot.store.records import ALERT_KINDS, AlertRoute, Candidate, Member, Org
from bot.webhooks import commands as webhook_commands
from cards import actions, admin, candidates, errors, scheduling
from cards import reminders as reminder_cards
from cards import setup as setup_cards
from cards.help import channel_not_visible, help_card, user_not_here
from cards.model import Card
from cards.text import to_text

log = logging.getLogger(__name__)

_EMAILS = re.compile(r"\S+@\S+")


def _private(card: Card) -> list[Reply]:
    return [Reply(card=card, visibility="private")]


async def dispatch(ctx: CommandContext, text: str) -> list[Reply]:
    try:
        command = p.parse(text)
    except p.UsageError as exc:
        return _private(_usage_card(ctx, exc))
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
        return _private(errors.error_not_connected(exc.authorize_url))
    except connect.NotSetUp as exc:
        if exc.public_message == connect.NotSetUp.public_message:
            return _private(errors.error_setup_required())
        return _private(errors.error(exc.public_message))
    except links.NeedsPublicLink as exc:
        return _private(scheduling.set_link_prompt(exc.example))
    except p.UsageError as exc:
        return _private(_usage_card(ctx, exc))
    except PermissionDenied:
        return _private(errors.error_not_admin())
    except CommandError as exc:
        return _private(errors.error(exc.public_message))
    except CronofyUnreachable:
        return _private(errors.error_cronofy_unreachable())
    except SecretKeyRetired as exc:
        return _private(errors.error(exc.public_message))
    except StoreError:
        log.exception(logs.COMMAND_FAILED, what[:60], ctx.actor.user_id, ctx.actor.org_id)
        return _private(errors.error_store_down())
    except SlotbotError as exc:
        return _private(errors.error(exc.public_message))


async def _run(ctx: CommandContext, command: p.Command) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    if isinstance(command, p.ADMIN_COMMANDS):
        org = await services.store.get_org(actor.org_id)
        if not admins.is_admin(services, org, actor):
            raise PermissionDenied()
    match command:
        case p.Help():
            return _private(help_card(actor.platform))
        case p.Link():
            url = await links.own_link(services, actor)
            return _private(scheduling.your_link(url, share_value=links.SHARE_OWN_LINK))
        case p.LinkShare():
            url = await links.own_link(services, actor)
            return await _shared(ctx, url)
        case p.LinkSet(url=url):
            saved = await links.set_public_link(services, actor, url)
            return _private(scheduling.link_set(saved))
        case p.LinkFor(email=email, name=name):
            made = await links.link_for_candidate(services, actor, email, name)
            return _private(
                scheduling.your_link(
                    made.url,
                    candidate_name=made.candidate.name or None,
                    candidate_email=made.candidate.email,
                    share_value=links.share_value_for(made.correlation_id),
                )
            )
        case p.Connect():
            url = await connect.authorize_url_for(services, actor.org_id, actor.user_id)
            return _private(scheduling.connect_prompt(url))
        case p.Disconnect():
            if await connect.disconnect(services, actor.org_id, actor.user_id):
                return _private(scheduling.disconnected())
            return _private(scheduling.not_connected())
        case p.Status():
            return await _member_status(ctx)
        case p.CandidateShow(email=email):
            candidate = await services.store.find_candidate_by_email(actor.org_id, email)
            return await _candidate_profile(ctx, candidate, asked_for=email)
        case p.Upcoming():
            return await _upcoming(ctx)
        case p.DmAlerts(on=on):
            member = await _member(ctx)
            member.dm_alerts = on
            member.updated_at = services.clock()
            await services.store.put_member(member)
            return _private(scheduling.dm_alerts_set(on))
        case p.AgendaShow() | p.AgendaOn() | p.AgendaOff():
            return [await agenda.run(ctx, command)]
        case p.RemindersShow():
            member = await _member(ctx)
            return _private(
                reminder_cards.reminders_setting(member.reminder_minutes, changed=False)
            )
        case p.RemindersSet(minutes=minutes):
            member = await _member(ctx)
            member.reminder_minutes = minutes
            member.updated_at = services.clock()
            await services.store.put_member(member)
            org = await services.store.get_org(actor.org_id)
            upcoming = (
                await reminders.replan_member(services.store, org, member, now=services.clock())
                if org is not None
                else 0
            )
            return _private(
                reminder_cards.reminders_setting(minutes, changed=True, upcoming=upcoming)
            )
        case p.Setup():
            org = await services.store.get_org(actor.org_id)
            if not setup.may_run_setup(services, org, actor):
                raise PermissionDenied()
            current = org.cronofy if org is not None else None
            card = setup_cards.setup_form(
                current.data_center if current else None, current.client_id if current else None
            )
            return [Reply(card=card, visibility="private", opens_form=True)]
        case p.OrgStatus():
            return await _org_status(ctx)
        case p.AlertsShow() | p.AlertsRoute() | p.AlertsOff():
            return await _alerts(ctx, command)
        case p.AdminsShow() | p.AdminsAdd() | p.AdminsRemove():
            return await _admins(ctx, command)
        case p.FeedbackShow() | p.FeedbackSet():
            return _private(await notes.feedback_command(ctx, command))
        case p.ApiTokenCreate() | p.ApiTokenList() | p.ApiTokenRevoke():
            return _private(await api.token_command(ctx, command))
        case p.AuditShow():
            return _private(await api.audit_command(ctx, command))
        case p.CandidateErase() | p.CandidateExport() | p.RetentionShow() | p.RetentionSet():
            return await privacy.run(ctx, command)
        case p.WebhookList() | p.WebhookAdd() | p.WebhookRemove() | p.WebhookTest():
            return _private(await webhook_commands.run(ctx, command))
        case p.Reset():
            org = await services.store.get_org(actor.org_id)
            if org is None or org.cronofy is None:
                return _private(setup_cards.nothing_to_reset())
            return _private(setup_cards.confirm_reset(org.org_id))
    raise CommandError(errors.COMMAND_NOT_AVAILABLE)  # pragma: no cover - exhaustive match


async def _shared(ctx: CommandContext, url: str) -> list[Reply]:
    """The link, posted for everyone, under the recruiter's name (not their chat handle)."""
    member = await ctx.services.store.get_member(ctx.actor.org_id, ctx.actor.user_id)
    name = ""
    if member is not None:
        name = member.name or member.display_name or ""
    card = scheduling.link_shared(url, name or ctx.actor.display_name)
    return [Reply(card=card, visibility="public")]


async def _may_see_candidate(ctx: CommandContext, candidate: Candidate) -> bool:
    """Admins, and the candidate's recruiters: whoever they are assigned to, whoever sent
    them a tracked link, whoever a booking of theirs is with, whoever is on its panel."""
    services, actor = ctx.services, ctx.actor
    if candidate.recruiter_id == actor.user_id:
        return True
    org = await services.store.get_org(actor.org_id)
    if admins.is_admin(services, org, actor):
        return True
    timeline = await services.store.list_timeline(
        actor.org_id, candidate.candidate_id, limit=10_000
    )
    if any(entry.recruiter_id == actor.user_id for entry in timeline):
        return True
    bookings = await services.store.list_bookings(actor.org_id, recruiter_id=actor.user_id)
    if any(b.candidate_id == candidate.candidate_id for b in bookings):
        return True
    return await _on_a_panel(ctx, candidate)


async def _on_a_panel(ctx: CommandContext, candidate: Candidate) -> bool:
    """The actor interviews the candidate: a connected member on one of their bookings'
    panels (`bot.lifecycle.panel`), who is sent its alerts and reminders with this button."""
    store, actor = ctx.services.store, ctx.actor
    member = await store.get_member(actor.org_id, actor.user_id)
    if member is None or not member.connected:
        return False
    return any(
        booking.candidate_id == candidate.candidate_id and panel.on_panel(member, booking)
        for booking in await store.list_bookings(actor.org_id)
    )


async def _candidate_profile(
    ctx: CommandContext, candidate: Candidate | None, *, asked_for: str
) -> list[Reply]:
    """The profile, privately, to those allowed; everyone else hears the same "not yours"
    whether or not the candidate exists."""
    services, actor = ctx.services, ctx.actor
    if candidate is None or not await _may_see_candidate(ctx, candidate):
        org = await services.store.get_org(actor.org_id)
        if candidate is None and asked_for and admins.is_admin(services, org, actor):
            return _private(candidates.no_such_candidate(asked_for))
        return _private(candidates.not_your_candidate())
    timeline = await services.store.list_timeline(actor.org_id, candidate.candidate_id)
    names = await _member_names(ctx)
    return _private(
        candidates.candidate_profile(
            facts.candidate_view(candidate, names), facts.timeline_views(timeline, names)
        )
    )


async def _member_names(ctx: CommandContext) -> dict[str, str]:
    members = await ctx.services.store.list_members(ctx.actor.org_id)
    return {m.user_id: m.display_name or m.name or "" for m in members}


async def _member(ctx: CommandContext) -> Member:
    member = await ctx.services.store.get_member(ctx.actor.org_id, ctx.actor.user_id)
    if member is None:
        member = Member(
            org_id=ctx.actor.org_id, user_id=ctx.actor.user_id, display_name=ctx.actor.display_name
        )
    return member


async def _member_status(ctx: CommandContext) -> list[Reply]:
    org = await ctx.services.store.get_org(ctx.actor.org_id)
    if org is None or org.cronofy is None:
        return _private(errors.error_setup_required())
    member = await ctx.services.store.get_member(ctx.actor.org_id, ctx.actor.user_id)
    if member is None:
        return _private(scheduling.status_for_member(connected=False))
    return _private(
        scheduling.status_for_member(
            connected=member.connected,
            email=member.email,
            name=member.name,
            link=member.public_link,
            dm_alerts=member.dm_alerts,
            zone=member.zone,
            reminder_minutes=member.reminder_minutes,
        )
    )


async def _upcoming(ctx: CommandContext) -> list[Reply]:
    store = ctx.services.store
    now = datetime.fromtimestamp(ctx.services.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bookings = await store.list_bookings(
        ctx.actor.org_id, recruiter_id=ctx.actor.user_id, start_after=now
    )
    bookings = [b for b in bookings if b.state not in ("cancelled", "declined")]
    names: dict[str, str] = {}
    for booking in bookings[:25]:
        if booking.candidate_id and booking.candidate_id not in names:
            candidate = await store.get_candidate(ctx.actor.org_id, booking.candidate_id)
            if candidate is not None:
                names[booking.candidate_id] = candidate.name or candidate.email
    return _private(candidates.upcoming(facts.upcoming_views(bookings, names)))


async def _org_status(ctx: CommandContext) -> list[Reply]:
    services = ctx.services
    org = await services.store.get_org(ctx.actor.org_id)
    if org is None or org.cronofy is None or not org.org_key:
        return _private(admin.org_status(configured=False))
    members = await services.store.list_members(org.org_id)
    dead = await services.store.list_dead_letters(org.org_id)
    names = {m.user_id: m.display_name or m.name or m.user_id for m in members}
    return _private(
        admin.org_status(
            configured=True,
            installed=org.active,
            client_id=org.cronofy.client_id,
            data_center=org.cronofy.data_center,
            push_url=push_url(services.settings, org.org_key),
            last_callback_at=facts.epoch_time(
                await org_state.last_callback_at(services.store, org)
            ),
            counts=admin.org_counts(
                recruiters=len(members),
                connected=sum(1 for m in members if m.connected),
                links=sum(1 for m in members if m.public_link),
                failed=len(dead),
            ),
            admins=[names.get(a, a) for a in org.admins],
            routes=admin.status_routes([facts.route_view(r) for r in org.routes]),
            dead_letters=facts.dead_letter_views(dead),
            feedback_minutes=org.feedback_delay_minutes if org.feedback else None,
        )
    )


async def _alerts(ctx: CommandContext, command: p.Command) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    org = await org_state.get_or_new_org(services, actor)
    if isinstance(command, p.AlertsShow):
        return _private(_routes_card(org))
    if isinstance(command, p.AlertsOff):
        target = command.channel_id or ctx.conversation.conversation_id
        if command.channel_id is not None and target not in ctx.mentions.channels:
            if target not in {r.conversation_id for r in org.routes}:
                raise p.UsageError("cronofy alerts", channel_not_visible(target))
        kept = [r for r in org.routes if r.conversation_id != target]
        if len(kept) == len(org.routes):
            return _private(admin.no_alerts_there(_routes(org)))
        gone = [r for r in org.routes if r.conversation_id == target]
        org.routes = kept
        await _save_org(ctx, org, "alerts.off", conversation_id=target)
        return _private(
            admin.alerts_off(admin.route_label(facts.route_view(gone[0])) if gone else "")
        )
    assert isinstance(command, p.AlertsRoute)
    previous = {r.conversation_id: r for r in org.routes}
    if command.channel_id is None:
        if ctx.conversation.kind == "dm":
            raise CommandError(admin.ALERTS_HERE_IN_CHANNEL)
        conversation_id, name = ctx.conversation.conversation_id, ctx.conversation.name
    else:
        conversation_id = command.channel_id
        if conversation_id not in ctx.mentions.channels:
            raise p.UsageError("cronofy alerts", channel_not_visible(conversation_id))
        name = ctx.mentions.channels[conversation_id]
    before = previous.get(conversation_id)
    # a mention without a name (Slack sends `<#C123>` at times) keeps the name already known
    name = name or (before.name if before is not None else "")
    route = AlertRoute(conversation_id=conversation_id, kinds=list(command.kinds), name=name)
    org.routes = [r for r in org.routes if r.conversation_id != conversation_id] + [route]
    await _save_org(
        ctx, org, "alerts.route", conversation_id=conversation_id, kinds=list(command.kinds)
    )
    where = admin.route_place(name, here=command.channel_id is None)
    # the kinds named replace what this channel got before: say what it gets now and what
    # it stopped getting, so choosing "booked,cancelled" never silently drops the rest
    dropped = [k for k in (before.kinds if before is not None else []) if k not in route.kinds]
    return _private(
        admin.alerts_routed(
            where, list(command.kinds), dropped=dropped, all_kinds=list(ALERT_KINDS)
        )
    )


def _routes(org: Org) -> list[admin.RouteView]:
    return [facts.route_view(r) for r in org.routes]


def _routes_card(org: Org) -> Card:
    return admin.alert_routes(_routes(org))


async def _save_org(ctx: CommandContext, org: Org, action: str, **detail: object) -> None:
    from bot.store.records import AuditEntry

    now = ctx.services.clock()
    org.updated_at = now
    await ctx.services.store.put_org(org)
    await ctx.services.store.append_audit(
        AuditEntry(
            org_id=org.org_id, actor=ctx.actor.user_id, action=action, detail=dict(detail), at=now
        )
    )


async def _admins(ctx: CommandContext, command: p.Command) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    if isinstance(command, p.AdminsAdd):
        # only a user the adapter checked with its platform: never a made-up word
        if command.user_id not in ctx.mentions.users:
            raise p.UsageError("cronofy admins", user_not_here(command.user_id))
        who = await _user_name(ctx, command.user_id)
        added = await admins.add_admin(services, actor, command.user_id)
        return _private(admin.admin_added(who, added=added))
    if isinstance(command, p.AdminsRemove):
        # an id already on the list may always be removed (it may be a stale one)
        org = await services.store.get_org(actor.org_id)
        listed = org.admins if org is not None else []
        if command.user_id not in ctx.mentions.users and command.user_id not in listed:
            raise p.UsageError("cronofy admins", user_not_here(command.user_id))
        who = await _user_name(ctx, command.user_id)
        removed = await admins.remove_admin(services, actor, command.user_id)
        return _private(admin.admin_removed(who, removed=removed))
    org = await services.store.get_org(actor.org_id)
    members = await services.store.list_members(actor.org_id)
    names = {m.user_id: m.display_name or m.name or m.user_id for m in members}
    listed = [names.get(a, a) for a in (org.admins if org else [])]
    listed += [
        admin.env_admin(names.get(a, a)) for a in services.settings.admins if a not in listed
    ]
    return _private(admin.admins_list(listed))


async def _user_name(ctx: CommandContext, user_id: str) -> str:
    name = ctx.mentions.users.get(user_id, "")
    if not name:
        member = await ctx.services.store.get_member(ctx.actor.org_id, user_id)
        if member is not None:
            name = member.display_name or member.name or ""
    return name or user_id


# --- the setup form ---------------------------------------------------------------------


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
        return await _setup_submitted(ctx, values)
    return Reply(card=errors.error(errors.BUTTON_GONE), visibility="update")


async def _setup_submitted(ctx: CommandContext, values: Mapping[str, str]) -> Reply:
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
    services, actor = ctx.services, ctx.actor
    if action_id == actions.SHARE_LINK:
        # the button's value comes back from the client: it only names which of the actor's
        # own links to post, and the link posted is the one Slotbot rebuilds, never the value
        url = await links.shareable_link(services, actor, value)
        return await _shared(ctx, url)
    if action_id == actions.CANDIDATE_PROFILE:
        candidate = await services.store.get_candidate(actor.org_id, value) if value else None
        return await _candidate_profile(ctx, candidate, asked_for="")
    if action_id == actions.RESET_CONFIRM:
        if value != actor.org_id:
            raise CommandError(errors.CONFIRMATION_ELSEWHERE)
        done = await setup.reset(services, actor)
        return _private(setup_cards.reset_done(done))
    if action_id in actions.CANCEL_ACTIONS:
        return _private(errors.cancelled())
    if action_id in actions.SETUP_OPEN_ACTIONS:
        return await dispatch(ctx, "cronofy setup")
    if action_id == actions.ADD_NOTE:
        return await notes.open_note_form(ctx, value)
    if action_id == actions.ERASE_CONFIRM:
        return await privacy.erase_pressed(ctx, value)
    raise CommandError(errors.BUTTON_GONE)


__all__ = ["dispatch", "dispatch_action", "dispatch_form"]
