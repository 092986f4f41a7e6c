"""What Slotbot does with each Slack request once bolt has it: slash commands, the setup
modal, buttons, the App Home tab and uninstall events.

Every listener acks first (Slack allows 3 seconds) and then hands the words to the neutral
command layer; the replies' cards are rendered for Slack and sent back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import logs as slack_logs
from adapters.slack.delivery import retry_handlers
from adapters.slack.home import home_card
from adapters.slack.render import (
    base_action_id,
    modal_view,
    render_home,
    render_message,
)
from adapters.slack.text import mentions_for, neutral_text
from bot.chat import Actor, Conversation, ConversationKind, Reply
from bot.commands import CommandContext, SetupOutcome, run_action, run_command, submit_setup
from bot.errors import SlotbotError, StoreError
from bot.runtime import Services
from cards import setup as setup_cards
from cards.actions import CLIENT_ID, CLIENT_SECRET, DATA_CENTER, SETUP_FIELDS
from cards.actions import SETUP_DONE_FORM as SETUP_DONE_CALLBACK_ID
from cards.actions import SETUP_FORM as SETUP_CALLBACK_ID
from cards.errors import note

log = logging.getLogger(__name__)

# how long a setup submission may take before the modal shows "checking" and is updated later
SETUP_ACK_BUDGET = 2.2
ADMIN_CACHE_TTL = 300.0


def org_id_for(team_id: str) -> str:
    return f"slack:{team_id}"


def conversation_kind(channel_id: str, channel_name: str = "") -> ConversationKind:
    if channel_id.startswith("D") or channel_name == "directmessage":
        return "dm"
    if channel_name == "mpdm" or channel_name.startswith("mpdm-"):
        return "group"
    return "channel"


class AdminCache:
    """Workspace owners and admins per `users.info`, remembered briefly."""

    def __init__(self, clock: Callable[[], float], ttl: float = ADMIN_CACHE_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_admin(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        now = self._clock()
        hit = self._known.get((team_id, user_id))
        if hit is not None and hit[1] > now:
            return hit[0]
        if not client.token:
            return False
        try:
            response = await client.users_info(user=user_id)
        except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
            log.warning(slack_logs.SLACK_USERS_INFO_FAILED, user_id, type(exc).__name__)
            return False
        user = response.get("user") or {}
        admin = bool(
            isinstance(user, dict)
            and (user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        )
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[(team_id, user_id)] = (admin, now + self._ttl)
        return admin


@dataclass
class ReplyChannel:
    """Where replies to one interaction go."""

    client: AsyncWebClient
    response_url: str | None
    channel_id: str | None
    user_id: str
    session: aiohttp.ClientSession | None = None


async def deliver_replies(replies: list[Reply], where: ReplyChannel) -> None:
    for reply in replies:
        await deliver_reply(reply, where)


async def deliver_reply(reply: Reply, where: ReplyChannel) -> None:
    message = render_message(reply.card)
    public = reply.visibility == "public"
    try:
        if where.response_url:
            # one shared HTTP session for every response_url post (bolt's respond() opens a
            # new session, and a new connection, per reply)
            webhook = AsyncWebhookClient(
                url=where.response_url,
                session=where.session,
                timeout=10,
                retry_handlers=retry_handlers(),
            )
            sent = await webhook.send(
                text=message.text,
                blocks=message.blocks,
                response_type="in_channel" if public else "ephemeral",
                replace_original=False,
            )
            if sent.status_code >= 400:
                log.warning(
                    slack_logs.SLACK_REPLY_FAILED, f"response_url answered {sent.status_code}"
                )
        elif public and where.channel_id:
            await where.client.chat_postMessage(
                channel=where.channel_id, text=message.text, blocks=message.blocks
            )
        elif where.channel_id and not where.channel_id.startswith("D"):
            await where.client.chat_postEphemeral(
                channel=where.channel_id,
                user=where.user_id,
                text=message.text,
                blocks=message.blocks,
            )
        else:
            # no conversation to answer in (App Home): the member's DM with Slotbot
            await where.client.chat_postMessage(
                channel=where.user_id, text=message.text, blocks=message.blocks
            )
    except SlackApiError as exc:
        log.warning(slack_logs.SLACK_REPLY_FAILED, exc.response.get("error"))
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning(slack_logs.SLACK_REPLY_FAILED, type(exc).__name__)


def _setup_values(view: dict[str, Any]) -> dict[str, str]:
    """The setup modal's inputs by name (block_id = action_id = input name)."""
    out: dict[str, str] = {}
    values = (view.get("state") or {}).get("values") or {}
    if not isinstance(values, dict):
        return out
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        for action_id, state in actions.items():
            if not isinstance(state, dict):
                continue
            value = state.get("value")
            if value is None:
                selected = state.get("selected_option")
                value = selected.get("value") if isinstance(selected, dict) else None
            name = block_id if block_id in SETUP_FIELDS else action_id
            if isinstance(value, str):
                out[name] = value.strip()
    return out


def _metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


class SlackListeners:
    """Registers every listener on a bolt app; holds the admin cache."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.admins = AdminCache(services.clock)
        # bolt runs each listener in a task of its own after the ack; remembered here so
        # shutdown can let them finish before the store and HTTP session close
        self._in_flight: set[asyncio.Task[Any]] = set()
        self.on_uninstalled: Callable[[str, str], Awaitable[None]] | None = None
        # shared by every reply; set while the app runs
        self.session: aiohttp.ClientSession | None = None

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None and task not in self._in_flight:
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def drain(self, seconds: float) -> int:
        """Wait (up to `seconds`) for listeners still working; returns how many were still
        running when the wait ended."""
        pending = {t for t in self._in_flight if t is not asyncio.current_task()}
        if not pending:
            return 0
        _done, still = await asyncio.wait(pending, timeout=seconds)
        return len(still)

    # context -----------------------------------------------------------------
    async def context(
        self,
        client: AsyncWebClient,
        team_id: str,
        user_id: str,
        *,
        user_name: str = "",
        channel_id: str = "",
        channel_name: str = "",
    ) -> CommandContext:
        org_id = org_id_for(team_id)
        admin = await self.admins.is_admin(client, team_id, user_id)
        actor = Actor("slack", org_id, user_id, display_name=user_name, is_platform_admin=admin)
        conversation = Conversation(
            "slack",
            org_id,
            channel_id or user_id,
            kind=conversation_kind(channel_id, channel_name) if channel_id else "dm",
            name=channel_name,
        )
        return CommandContext(self.services, actor, conversation)

    # registration --------------------------------------------------------------
    def register(self, app: AsyncApp) -> None:
        app.command("/schedule")(self.on_command)
        app.command("/cronofy")(self.on_command)
        app.view(SETUP_CALLBACK_ID)(self.on_setup_submit)
        app.view(SETUP_DONE_CALLBACK_ID)(self.on_setup_done)
        app.action(re.compile(r".+"))(self.on_action)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_uninstalled")(self.on_app_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)

    # slash commands ----------------------------------------------------------------
    async def on_command(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._track()
        await ack()
        team_id = str(body.get("team_id") or "")
        user_id = str(body.get("user_id") or "")
        channel_id = str(body.get("channel_id") or "")
        command = str(body.get("command") or "").lstrip("/")
        text = str(body.get("text") or "").strip()
        response_url = body.get("response_url")
        where = ReplyChannel(
            client,
            response_url if isinstance(response_url, str) else None,
            channel_id,
            user_id,
            self.session,
        )
        try:
            ctx = await self.context(
                client,
                team_id,
                user_id,
                user_name=str(body.get("user_name") or ""),
                channel_id=channel_id,
                channel_name=str(body.get("channel_name") or ""),
            )
            # Slack's <@U…>, <#C…> and <url|…> markup becomes the core's neutral form here
            neutral = neutral_text(text)
            ctx.mentions = await mentions_for(client, team_id, neutral)
            replies = await run_command(ctx, f"{command} {neutral.text}".strip())
        except SlotbotError as exc:
            await deliver_reply(Reply(note(exc.public_message)), where)
            return
        for reply in replies:
            if reply.opens_form:
                await self._open_form(client, body, reply, where)
            else:
                await deliver_reply(reply, where)

    async def _open_form(
        self, client: AsyncWebClient, body: dict[str, Any], reply: Reply, where: ReplyChannel
    ) -> None:
        metadata = json.dumps({"channel_id": where.channel_id or ""})
        view = modal_view(reply.card, SETUP_CALLBACK_ID, private_metadata=metadata)
        trigger_id = body.get("trigger_id")
        if not isinstance(trigger_id, str) or not trigger_id:
            await deliver_reply(Reply(setup_cards.form_without_trigger()), where)
            return
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning(slack_logs.SLACK_REPLY_FAILED, exc.response.get("error"))
            await deliver_reply(Reply(setup_cards.form_not_opened()), where)

    # the setup modal -------------------------------------------------------------------
    async def on_setup_submit(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        self._track()
        view = body.get("view") or {}
        values = _setup_values(view)
        metadata = _metadata(view)
        team = body.get("team") or {}
        user = body.get("user") or {}
        team_id = str(team.get("id") or "") if isinstance(team, dict) else ""
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        ctx = await self.context(
            client,
            team_id,
            user_id,
            user_name=str(user.get("name") or "") if isinstance(user, dict) else "",
            channel_id=metadata.get("channel_id", ""),
        )
        work = asyncio.ensure_future(
            submit_setup(
                ctx,
                values.get(CLIENT_ID, ""),
                values.get(CLIENT_SECRET, ""),
                values.get(DATA_CENTER, ""),
            )
        )
        try:
            outcome = await asyncio.wait_for(asyncio.shield(work), timeout=SETUP_ACK_BUDGET)
        except TimeoutError:
            # Cronofy is slow: close the 3-second window with a "checking" view, finish later
            await ack(
                response_action="update",
                view=modal_view(setup_cards.checking_keys(), SETUP_DONE_CALLBACK_ID),
            )
            view_id = str(view.get("id") or "")
            try:
                outcome = await work
            except SlotbotError as exc:
                outcome = SetupOutcome(ok=False, reply=Reply(note(exc.public_message)))
            await self._finish_setup_later(client, view_id, outcome)
            return
        except SlotbotError as exc:
            await ack(response_action="errors", errors={CLIENT_ID: exc.public_message})
            return
        if not outcome.ok and outcome.field_errors:
            errors = {
                name: text for name, text in outcome.field_errors.items() if name in SETUP_FIELDS
            }
            if errors:
                await ack(response_action="errors", errors=errors)
                return
        card = outcome.reply.card if outcome.reply is not None else setup_cards.saved()
        await ack(response_action="update", view=modal_view(card, SETUP_DONE_CALLBACK_ID))

    async def _finish_setup_later(
        self, client: AsyncWebClient, view_id: str, outcome: SetupOutcome
    ) -> None:
        if outcome.reply is not None:
            card = outcome.reply.card
        elif outcome.field_errors:
            card = setup_cards.keys_not_accepted(outcome.field_errors)
        else:
            card = setup_cards.saved()
        try:
            await client.views_update(
                view_id=view_id, view=modal_view(card, SETUP_DONE_CALLBACK_ID)
            )
        except SlackApiError as exc:
            log.warning(slack_logs.SLACK_REPLY_FAILED, exc.response.get("error"))

    async def on_setup_done(self, ack: AsyncAck) -> None:
        await ack()

    # buttons ---------------------------------------------------------------------------------
    async def on_action(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._track()
        await ack()
        actions = body.get("actions") or []
        if not actions or not isinstance(actions[0], dict):
            return
        action = actions[0]
        if action.get("url"):
            return  # a link button: Slack opens the URL, nothing to do here
        action_id = base_action_id(str(action.get("action_id") or ""))
        value = str(action.get("value") or "")
        team = body.get("team") or {}
        user = body.get("user") or {}
        channel = body.get("channel") or {}
        team_id = str(team.get("id") or "") if isinstance(team, dict) else ""
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        channel_id = str(channel.get("id") or "") if isinstance(channel, dict) else ""
        channel_name = str(channel.get("name") or "") if isinstance(channel, dict) else ""
        response_url = body.get("response_url")
        where = ReplyChannel(
            client,
            response_url if isinstance(response_url, str) else None,
            channel_id or None,
            user_id,
            self.session,
        )
        try:
            ctx = await self.context(
                client,
                team_id,
                user_id,
                user_name=str(user.get("username") or user.get("name") or "")
                if isinstance(user, dict)
                else "",
                channel_id=channel_id,
                channel_name=channel_name,
            )
            replies = await run_action(ctx, action_id, value)
        except SlotbotError as exc:
            await deliver_reply(Reply(note(exc.public_message)), where)
            return
        await deliver_replies(replies, where)

    # App Home ------------------------------------------------------------------------------------
    async def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        self._track()
        if event.get("tab") not in (None, "home"):
            return
        user_id = str(event.get("user") or "")
        team_id = str(body.get("team_id") or "")
        if not user_id or not team_id:
            return
        org_id = org_id_for(team_id)
        try:
            org = await self.services.store.get_org(org_id)
            admin = await self.admins.is_admin(client, team_id, user_id)
            admin = admin or user_id in self.services.settings.admins
            admin = admin or (org is not None and user_id in org.admins)
            card = await home_card(self.services, org_id, user_id, is_admin=admin)
        except StoreError as exc:
            log.warning(slack_logs.SLACK_HOME_FAILED, type(exc).__name__)
            return
        try:
            await client.views_publish(user_id=user_id, view=render_home(card))
        except SlackApiError as exc:
            log.warning(slack_logs.SLACK_REPLY_FAILED, exc.response.get("error"))

    # installation ends ---------------------------------------------------------------------
    async def on_app_uninstalled(self, body: dict[str, Any]) -> None:
        await self._deactivate(body, "Slack app uninstalled")

    async def on_tokens_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        tokens = event.get("tokens") or {}
        if isinstance(tokens, dict) and tokens.get("bot"):
            await self._deactivate(body, "Slack bot token revoked")

    async def _deactivate(self, body: dict[str, Any], reason: str) -> None:
        self._track()
        team_id = str(body.get("team_id") or "")
        if not team_id:
            return
        if self.on_uninstalled is not None:
            await self.on_uninstalled(team_id, reason)
