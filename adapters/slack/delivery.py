"""Sending cards to Slack for the outbox worker (`bot.chat.DeliveryAdapter`), and finding
what a job already posted (`bot.chat.FindsSentMessages`).

A job's posts and thread replies carry message metadata naming the job (event type
`slotbot_job`, payload `{"label": "<job id>/<step>"}`: nothing about the candidate). When the
worker tries a job again that may have posted already, the conversation's recent history
(or the thread's replies) is read with that metadata, a bounded page, before posting again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import log_lines as slack_logs
from adapters.slack.errors import (
    KNOWN_ERRORS,
    delivery_error_from_slack,
    delivery_error_from_transport,
)
from adapters.slack.reach import SlackReach
from adapters.slack.render import render_message
from adapters.slack.settings import SlackSettings
from bot.chat import DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError, SecretError, StoreError
from bot.org_state import APP_UNINSTALLED, uninstalled
from bot.runtime import Services
from bot.store.records import MessageRef
from cards.model import Card

# where a channel's team is remembered, so a later update/thread reply uses its token
CHANNEL_TEAMS = "slack_channel_teams"
# one Slack call may not hold a delivery longer than this (retries included)
CALL_TIMEOUT = 30.0
CLIENT_TIMEOUT = 10
# members whose direct-message channel is remembered (the least recently used are dropped)
DM_CHANNEL_CACHE = 1024
# channels whose workspace this process wrote or read (CHANNEL_TEAMS) and remembers
CHANNEL_TEAM_CACHE = 4096
# the message metadata a job's posts carry (Slack shows it to apps, never to people)
JOB_METADATA_TYPE = "slotbot_job"
# how many of the newest messages since the job was made are read when looking for it
LOOKBACK = 200
# messages a little older than the job are read too (clocks of Slack and Slotbot differ)
LOOKBACK_SKEW = 120.0
# failures of a lookup that trying again would not fix: posting again is all that is left
_CANNOT_LOOK = (
    DeliveryFailure.NOT_MEMBER,
    DeliveryFailure.AUTH,
    DeliveryFailure.GONE,
    DeliveryFailure.REJECTED,
)

TokenLookup = Callable[[str], Awaitable[str | None]]

log = logging.getLogger(__name__)


def retry_handlers(reach: SlackReach | None = None) -> list[AsyncRetryHandler]:
    """Connection errors and 429s are retried by the SDK itself (429 after Retry-After);
    `reach`, when given, is told how each call went."""
    handlers: list[AsyncRetryHandler] = [] if reach is None else [reach.observer()]
    return [
        *handlers,
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
    ]


def web_client(
    base_url: str,
    token: str | None = None,
    session: aiohttp.ClientSession | None = None,
    *,
    reach: SlackReach | None = None,
) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=retry_handlers(reach),
        timeout=CLIENT_TIMEOUT,
        session=session,
    )


def team_of(org_id: str) -> str:
    return org_id.split(":", 1)[1] if org_id.startswith("slack:") else org_id


class SlackDelivery:
    """Posts, updates and threads messages; every failure is a `DeliveryError`."""

    platform = "slack"

    def __init__(
        self,
        services: Services,
        token_for_team: TokenLookup,
        *,
        api_url: str | None = None,
        reach: SlackReach | None = None,
    ) -> None:
        self._services = services
        self._token_for_team = token_for_team
        self._api_url = api_url or SlackSettings.from_env(services.settings.env).api_url
        self._reach = reach
        self._clients: dict[str, AsyncWebClient] = {}
        self._dm_channels: OrderedDict[tuple[str, str], str] = OrderedDict()
        # channel -> org, as stored in CHANNEL_TEAMS: a channel belongs to one workspace for
        # good and nothing else writes or removes these documents, so what this process wrote
        # or read once needs no second write (one store write less per post) or read
        self._channel_orgs: OrderedDict[str, str] = OrderedDict()
        # the app's shared connection pool while it runs (None: one session per call)
        self.session: aiohttp.ClientSession | None = None

    # plumbing --------------------------------------------------------------
    async def _client(self, org_id: str) -> AsyncWebClient:
        try:
            gone = await uninstalled(self._services, org_id)
        except StoreError as exc:
            raise DeliveryError(
                f"store unavailable: {exc}", failure=DeliveryFailure.TRANSIENT
            ) from None
        if gone:
            raise DeliveryError(
                "Slotbot was uninstalled from this Slack workspace; reinstall it to resume.",
                failure=DeliveryFailure.AUTH,
                reason=APP_UNINSTALLED,
            )
        try:
            token = await self._token_for_team(team_of(org_id))
        except SecretError:
            token = None
        if not token:
            raise DeliveryError(
                "Slotbot has no Slack bot token for this workspace. Install the Slack app "
                "(multi-workspace) or set SLACK_BOT_TOKEN.",
                failure=DeliveryFailure.AUTH,
                reason="no_bot_token",
            )
        client = self._clients.get(token)
        if client is None or client.session is not self.session:
            client = web_client(self._api_url, token, self.session, reach=self._reach)
            self._clients[token] = client
        return client

    async def _call(self, method: str, call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(CALL_TIMEOUT):  # (no task of its own, as wait_for makes)
                response = await call()
        except SlackApiError as exc:
            raise delivery_error_from_slack(exc, method) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise delivery_error_from_transport(exc, method) from None
        data = response.data
        return data if isinstance(data, dict) else {}

    def _known_org(self, channel: str) -> str | None:
        org_id = self._channel_orgs.get(channel)
        if org_id is not None:
            self._channel_orgs.move_to_end(channel)
        return org_id

    def _learn_org(self, channel: str, org_id: str) -> None:
        self._channel_orgs[channel] = org_id
        self._channel_orgs.move_to_end(channel)
        while len(self._channel_orgs) > CHANNEL_TEAM_CACHE:
            self._channel_orgs.popitem(last=False)

    async def _remember_team(self, channel: str, org_id: str) -> None:
        if self._known_org(channel) == org_id:
            return  # stored already
        try:
            await self._services.store.kv_put(CHANNEL_TEAMS, channel, {"org_id": org_id})
        except StoreError:
            return  # only needed for multi-workspace updates; the post itself succeeded
        self._learn_org(channel, org_id)

    async def _org_for_channel(self, channel: str) -> str:
        known = self._known_org(channel)
        if known is not None:
            return known
        doc = await self._services.store.kv_get(CHANNEL_TEAMS, channel)
        if doc is None or not isinstance(doc.get("org_id"), str):
            # no way to reach the message any more: as good as deleted, so a new one is posted
            raise DeliveryError(
                "Slotbot does not know which workspace this message was posted in. "
                + KNOWN_ERRORS["message_not_found"].advice,
                failure=DeliveryFailure.GONE,
                reason="message_not_found",
            )
        self._learn_org(channel, str(doc["org_id"]))
        return str(doc["org_id"])

    async def _dm_channel(self, client: AsyncWebClient, org_id: str, user_id: str) -> str:
        cached = self._dm_channels.get((org_id, user_id))
        if cached is not None:
            self._dm_channels.move_to_end((org_id, user_id))
            return cached
        data = await self._call(
            "conversations.open", lambda: client.conversations_open(users=user_id)
        )
        channel = data.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        if not isinstance(channel_id, str):
            raise DeliveryError(
                "Slack conversations.open returned no channel", failure=DeliveryFailure.TRANSIENT
            )
        self._dm_channels[(org_id, user_id)] = channel_id
        while len(self._dm_channels) > DM_CHANNEL_CACHE:
            self._dm_channels.popitem(last=False)
        return channel_id

    async def _channel_of(self, client: AsyncWebClient, target: DeliveryTarget) -> str:
        if target.kind == "dm":
            if not target.user_id:
                raise DeliveryError(
                    "a direct message needs a user id", failure=DeliveryFailure.REJECTED
                )
            return await self._dm_channel(client, target.org_id, target.user_id)
        if not target.conversation_id:
            raise DeliveryError(
                "a channel message needs a channel id", failure=DeliveryFailure.REJECTED
            )
        return target.conversation_id

    # DeliveryAdapter -------------------------------------------------------
    async def send(self, target: DeliveryTarget, card: Card) -> MessageRef:
        return await self._send(target, card, None)

    async def send_labelled(self, target: DeliveryTarget, card: Card, label: str) -> MessageRef:
        return await self._send(target, card, label)

    async def _send(self, target: DeliveryTarget, card: Card, label: str | None) -> MessageRef:
        client = await self._client(target.org_id)
        channel = await self._channel_of(client, target)
        message = render_message(card)
        data = await self._call(
            "chat.postMessage",
            lambda: client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                metadata=_metadata(label),
            ),
        )
        ts = str(data.get("ts") or "")
        posted_in = str(data.get("channel") or channel)
        await self._remember_team(posted_in, target.org_id)
        return MessageRef(platform="slack", conversation_id=posted_in, message_id=ts, thread_id=ts)

    async def update(self, ref: MessageRef, card: Card) -> None:
        client = await self._client(await self._org_for_channel(ref.conversation_id))
        message = render_message(card)
        await self._call(
            "chat.update",
            lambda: client.chat_update(
                channel=ref.conversation_id,
                ts=ref.message_id,
                text=message.text,
                blocks=message.blocks,
            ),
        )

    async def reply_in_thread(self, ref: MessageRef, card: Card) -> MessageRef:
        return await self._reply(ref, card, None)

    async def reply_labelled(self, ref: MessageRef, card: Card, label: str) -> MessageRef:
        return await self._reply(ref, card, label)

    async def _reply(self, ref: MessageRef, card: Card, label: str | None) -> MessageRef:
        org_id = await self._org_for_channel(ref.conversation_id)
        client = await self._client(org_id)
        parent = ref.thread_id or ref.message_id
        message = render_message(card)
        data = await self._call(
            "chat.postMessage",
            lambda: client.chat_postMessage(
                channel=ref.conversation_id,
                thread_ts=parent,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                metadata=_metadata(label),
            ),
        )
        return MessageRef(
            platform="slack",
            conversation_id=ref.conversation_id,
            message_id=str(data.get("ts") or ""),
            thread_id=parent,
        )

    # FindsSentMessages -----------------------------------------------------
    async def find_sent(
        self, target: DeliveryTarget, label: str, *, since: float
    ) -> MessageRef | None:
        client = await self._client(target.org_id)
        channel = await self._channel_of(client, target)
        messages = await self._read(
            "conversations.history",
            label,
            lambda: client.conversations_history(
                channel=channel,
                oldest=_ts(since - LOOKBACK_SKEW),
                limit=LOOKBACK,
                include_all_metadata=True,
            ),
        )
        for found in messages:
            if _labelled(found, label):
                ts = str(found.get("ts") or "")
                return MessageRef(
                    platform="slack", conversation_id=channel, message_id=ts, thread_id=ts
                )
        return None

    async def find_reply(self, ref: MessageRef, label: str, *, since: float) -> MessageRef | None:
        client = await self._client(await self._org_for_channel(ref.conversation_id))
        parent = ref.thread_id or ref.message_id
        messages = await self._read(
            "conversations.replies",
            label,
            lambda: client.conversations_replies(
                channel=ref.conversation_id,
                ts=parent,
                oldest=_ts(since - LOOKBACK_SKEW),
                limit=LOOKBACK,
                include_all_metadata=True,
            ),
        )
        for found in messages:
            if _labelled(found, label) and found.get("ts") != parent:
                return MessageRef(
                    platform="slack",
                    conversation_id=ref.conversation_id,
                    message_id=str(found.get("ts") or ""),
                    thread_id=parent,
                )
        return None

    async def _read(
        self, method: str, label: str, call: Callable[[], Awaitable[Any]]
    ) -> list[dict[str, Any]]:
        """The messages a history call answers; none (logged) when Slack will not show them
        for a reason trying again would not fix. A failure worth another try is raised."""
        try:
            data = await self._call(method, call)
        except DeliveryError as exc:
            if exc.failure not in _CANNOT_LOOK:
                raise
            log.warning(slack_logs.SLACK_CANNOT_LOOK, label, method, exc.reason)
            return []
        messages = data.get("messages")
        if not isinstance(messages, list):
            return []
        return [m for m in messages if isinstance(m, dict)]


def _metadata(label: str | None) -> dict[str, Any] | None:
    if label is None:
        return None
    return {"event_type": JOB_METADATA_TYPE, "event_payload": {"label": label}}


def _labelled(message: dict[str, Any], label: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != JOB_METADATA_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("label") == label


def _ts(epoch: float) -> str:
    return f"{max(0.0, epoch):.6f}"
