"""What Slotbot does with each Slack request once bolt has it: slash commands, buttons,
submitted modals, the App Home tab and uninstall events.

Every listener acks first (Slack allows 3 seconds), turns what the member did into the
core's `Turn` (adapters.slack.turns), hands it to `handle_turn` and shows the replies the
Slack way (adapters.slack.replies).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import log_lines as slack_logs
from adapters.slack.home import home_card
from adapters.slack.reach import BotIdentity, SlackReach
from adapters.slack.render import modal_view, render_home, render_message
from adapters.slack.replies import (
    ReplyChannel,
    ack_answer,
    deliver_reply,
    done_view,
    form_answer,
    send_replies,
)
from adapters.slack.turns import AdminCache, TurnMaker, form_values, org_id_for
from bot.chat import Reply
from bot.commands import handle_turn
from bot.errors import SlotbotError, StoreError
from bot.runtime import Services
from cards import setup as setup_cards
from cards.actions import SETUP_DONE_FORM
from cards.errors import SLACK_UNREACHABLE, note, unknown_command

log = logging.getLogger(__name__)

# how long a form submission may take before the modal shows "working on it" and is
# updated once the answer is there (Slack closes the view's 3-second window)
FORM_ACK_BUDGET = 2.2
# the same for a slash command's answer, carried in the ack when it is ready in time
COMMAND_ACK_BUDGET = 2.2
_ANY = re.compile(r".+")
# the events Slotbot listens to: manifest/slack.yaml subscribes to exactly these
EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked", "user_change")


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _kind_of(body: dict[str, Any]) -> str:
    """What a request is, for the log: an event's type, else the payload's."""
    event = body.get("event")
    if isinstance(event, dict):
        return f"event {_str(event.get('type'))}"
    return _str(body.get("type")) or "request"


class SlackListeners:
    """Registers every listener on a bolt app."""

    def __init__(
        self,
        services: Services,
        reach: SlackReach | None = None,
        identity: BotIdentity | None = None,
    ) -> None:
        self.services = services
        self.reach = reach or SlackReach()
        self.identity = identity
        self.turns = TurnMaker(AdminCache(services.clock))
        # bolt runs each listener in a task of its own after the ack; remembered here so
        # shutdown can let them finish before the store and HTTP session close
        self._in_flight: set[asyncio.Task[Any]] = set()
        self.on_uninstalled: Callable[[str, str], Awaitable[None]] | None = None
        # an org-level (Enterprise Grid) uninstall or revocation: (enterprise id, reason, the
        # bot user ids revoked, None for an uninstall) -> how many workspaces it ended
        self.on_org_uninstalled: (
            Callable[[str, str, frozenset[str] | None], Awaitable[int]] | None
        ) = None
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

    def register(self, app: AsyncApp) -> None:
        app.command("/schedule")(self.on_command)
        app.command("/cronofy")(self.on_command)
        app.view(SETUP_DONE_FORM)(self.on_done_view)
        app.view(_ANY)(self.on_form)
        app.action(_ANY)(self.on_action)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_uninstalled")(self.on_app_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)
        app.event("user_change")(self.on_user_change)
        app.error(self.on_error)

    def _where(self, client: AsyncWebClient, body: dict[str, Any], channel_id: str) -> ReplyChannel:
        user = body.get("user")
        user_id = _str(body.get("user_id")) or (
            _str(user.get("id")) if isinstance(user, dict) else ""
        )
        return ReplyChannel(
            client,
            _str(body.get("response_url")) or None,
            channel_id or None,
            user_id,
            self.session,
            trigger_id=_str(body.get("trigger_id")) or None,
            reach=self.reach,
        )

    # slash commands and buttons ------------------------------------------------------
    async def on_command(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The answer travels in the ack when it is ready within COMMAND_ACK_BUDGET (one
        request instead of an ack and a response_url post); a slower one (Slack or Cronofy
        slow to answer) is acked empty at the budget and posted through response_url."""
        self._track()
        if self.reach.down and not await self.reach.probe(client, self.identity):
            # the answer can only travel back on this request: say why there is no other
            unreachable = render_message(note(SLACK_UNREACHABLE))
            await ack(text=unreachable.text, blocks=unreachable.blocks, response_type="ephemeral")
            return
        early: list[asyncio.Future[Any]] = []
        budget = asyncio.get_running_loop().call_later(
            COMMAND_ACK_BUDGET, lambda: early.append(asyncio.ensure_future(ack()))
        )
        try:
            replies = await self._command_replies(client, body)
        except BaseException:
            # a bug or a cancellation: Slack gets its 200 all the same, bolt logs the error
            budget.cancel()
            if not early:
                await ack()
            raise
        budget.cancel()
        if early:
            await early[0]
        elif replies and not replies[0].opens_form:
            await ack(**ack_answer(replies[0]))
            replies = replies[1:]
        else:
            await ack()
        await send_replies(replies, self._where(client, body, _str(body.get("channel_id"))))

    async def _command_replies(self, client: AsyncWebClient, body: dict[str, Any]) -> list[Reply]:
        try:
            return await handle_turn(self.services, await self.turns.command(client, body))
        except SlotbotError as exc:
            return [Reply(note(exc.public_message))]

    async def on_action(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._track()
        await ack()
        actions = body.get("actions") or []
        if not actions or not isinstance(actions[0], dict):
            return
        if actions[0].get("url"):
            return  # a link button: Slack opens the URL, nothing to do here
        channel = body.get("channel")
        where = self._where(
            client, body, _str(channel.get("id")) if isinstance(channel, dict) else ""
        )
        try:
            turn = await self.turns.action(client, body, actions[0])
            replies = await handle_turn(self.services, turn)
        except SlotbotError as exc:
            await deliver_reply(Reply(note(exc.public_message)), where)
            return
        await send_replies(replies, where)

    # submitted modals ----------------------------------------------------------------
    async def on_form(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Answer within Slack's window: the problems beside their inputs, or the modal
        updated with the outcome; a slow answer (Slack or Cronofy slow to answer, the
        member's admin rights included) shows "working on it" first."""
        self._track()
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        assert isinstance(view, dict)
        work = asyncio.ensure_future(self._form_replies(client, body))
        try:
            replies = await asyncio.wait_for(asyncio.shield(work), timeout=FORM_ACK_BUDGET)
        except TimeoutError:
            pending = setup_cards.form_pending(_str(view.get("callback_id")))
            await ack(response_action="update", view=modal_view(pending, SETUP_DONE_FORM))
            await self._answer_later(client, body, work)
            return
        except SlotbotError as exc:
            await ack(response_action="update", view=done_view(Reply(note(exc.public_message))))
            return
        reply = replies[0] if replies else Reply(setup_cards.saved())
        await ack(**form_answer(reply, set(form_values(view))))

    async def _form_replies(self, client: AsyncWebClient, body: dict[str, Any]) -> list[Reply]:
        return await handle_turn(self.services, await self.turns.form(client, body))

    async def _answer_later(
        self, client: AsyncWebClient, body: dict[str, Any], work: asyncio.Future[list[Reply]]
    ) -> None:
        try:
            replies = await work
            reply = replies[0] if replies else Reply(setup_cards.saved())
        except SlotbotError as exc:
            reply = Reply(note(exc.public_message))
        view = body.get("view")
        view_id = _str(view.get("id")) if isinstance(view, dict) else ""
        try:
            await client.views_update(view_id=view_id, view=done_view(reply))
        except SlackApiError as exc:
            log.warning(slack_logs.SLACK_REPLY_FAILED, exc.response.get("error"))

    async def on_done_view(self, ack: AsyncAck) -> None:
        await ack()

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
            admin = await self.turns.admins.is_admin(client, team_id, user_id)
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

    async def on_user_change(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A member changed (their admin rights among what can change): what Slotbot
        remembered of them is forgotten, so the next command asks Slack again."""
        user = event.get("user")
        if not isinstance(user, dict) or not _str(user.get("id")):
            return
        teams = {_str(body.get("team_id")), _str(user.get("team_id"))} - {""}
        if self.turns.admins.forget(_str(user.get("id")), teams):
            log.info(slack_logs.SLACK_ADMIN_FORGOTTEN, _str(user.get("id")))

    # what no listener takes, and failures --------------------------------------------------
    async def on_error(self, error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        """A request no listener takes is answered 200 all the same: Slack sends only what
        the manifest asks for, and counts any other answer to an event as a failure (enough
        of them and it turns the app's events off). A slash command Slotbot does not have
        says so. Any other error is logged as bolt would and keeps bolt's answer."""
        if isinstance(error, BoltUnhandledRequestError):
            command = body.get("command")
            kind = command if isinstance(command, str) else _kind_of(body)
            log.info(slack_logs.SLACK_UNHANDLED, kind)
            if isinstance(command, str):
                answer = render_message(note(unknown_command(command)))
                return BoltResponse(
                    status=200, body={"response_type": "ephemeral", "text": answer.text}
                )
            return BoltResponse(status=200, body="")
        log.error(slack_logs.SLACK_LISTENER_FAILED, type(error).__name__, exc_info=error)
        return None

    # installation ends ---------------------------------------------------------------------
    async def on_app_uninstalled(self, body: dict[str, Any]) -> None:
        await self._deactivate(body, "Slack app uninstalled", None)

    async def on_tokens_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        tokens = event.get("tokens") or {}
        bots = tokens.get("bot") if isinstance(tokens, dict) else None
        if isinstance(bots, list) and bots:
            revoked = frozenset(b for b in bots if isinstance(b, str))
            await self._deactivate(body, "Slack bot token revoked", revoked)

    async def _deactivate(
        self, body: dict[str, Any], reason: str, revoked: frozenset[str] | None
    ) -> None:
        """A workspace's uninstall or revocation ends that workspace. An org-level one
        (Enterprise Grid: an enterprise id and no team id) ends the workspaces of that
        enterprise Slotbot knows — and says in the log when it knows none, never silently."""
        self._track()
        team_id = _str(body.get("team_id"))
        if not team_id:
            enterprise_id = _str(body.get("enterprise_id"))
            ended = 0
            if enterprise_id and self.on_org_uninstalled is not None:
                ended = await self.on_org_uninstalled(enterprise_id, reason, revoked)
            if not ended:
                log.warning(slack_logs.SLACK_ORG_EVENT_IGNORED, reason, enterprise_id or "?")
            return
        if self.on_uninstalled is not None:
            await self.on_uninstalled(team_id, reason)
