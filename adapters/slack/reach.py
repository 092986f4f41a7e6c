"""Whether Slack's Web API answers Slotbot, and authorising requests without asking it.

Slack can reach Slotbot while Slotbot cannot reach Slack (an outage of the Web API, a proxy
or firewall on the way out). bolt's own authorisation calls `auth.test` before a request is
acknowledged, so then every request failed late, with a 500. Here:

- `SlackReach` follows every Slack call Slotbot makes (through an observer among the SDK
  clients' retry handlers): any answer from Slack means it is reachable, a connection that
  fails or times out means it is not. A slash command that arrives while Slack was last seen
  unreachable asks once more, briefly (`probe`); when Slack still does not answer, the
  command is answered at once with a note that says so (that answer goes back on the
  request itself and needs no call to Slack).
- `StaticAuthorize` (one workspace, SLACK_BOT_TOKEN) and `InstalledAuthorize` (several, the
  installs in Slotbot's store) authorise a request without calling Slack: the bot's identity
  is what `auth.test` said at start (or at the last probe), or what the install recorded.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import log_lines as slack_logs
from adapters.slack.installations import StoreInstallationStore
from bot.errors import SecretError, StoreError

log = logging.getLogger(__name__)

# how long a slash command waits for Slack to answer the probe before saying it could not
# reach Slack (Slack itself gives the answer 3 seconds)
PROBE_TIMEOUT = 1.5
# set in a bolt request's context when the store failed while authorising it: the events
# endpoint answers 503 (try again) rather than bolt's 500
STORE_DOWN = "slotbot_store_down"

_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


@dataclass
class BotIdentity:
    """Who the bot is in its one workspace (from `auth.test`); unknown until Slack said."""

    team_id: str | None = None
    enterprise_id: str | None = None
    user_id: str | None = None
    bot_id: str | None = None

    def learn(self, answer: Any) -> None:
        def text(name: str) -> str | None:
            value = answer.get(name)
            return value if isinstance(value, str) and value else None

        self.team_id = text("team_id") or self.team_id
        self.enterprise_id = text("enterprise_id") or self.enterprise_id
        self.user_id = text("user_id") or self.user_id
        self.bot_id = text("bot_id") or self.bot_id


class SlackReach:
    """Whether Slack answered Slotbot's last call. Not known to be down until a call failed."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, error: BaseException) -> None:
        if not self.down:
            log.warning(slack_logs.SLACK_UNREACHABLE, type(error).__name__)
        self.down = True

    def answered(self) -> None:
        if self.down:
            log.info(slack_logs.SLACK_REACHABLE)
        self.down = False

    def observer(self) -> AsyncRetryHandler:
        """A retry handler that never retries: it only tells this object how each call went.
        Put it first among a client's retry handlers."""
        return _Observer(self)

    async def probe(self, client: AsyncWebClient, identity: BotIdentity | None = None) -> bool:
        """Ask Slack once (`auth.test`, no retries, `PROBE_TIMEOUT`): True when it answered
        at all (even to refuse the token). A successful answer teaches `identity`."""
        quick = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            session=client.session,
            timeout=int(PROBE_TIMEOUT) + 1,
            retry_handlers=[self.observer()],
        )
        try:
            answer = await asyncio.wait_for(quick.auth_test(), timeout=PROBE_TIMEOUT)
        except SlackApiError:
            self.answered()
            return True
        except _TRANSPORT_ERRORS as exc:
            self.failed(exc)
            return False
        if identity is not None:
            identity.learn(answer)
        self.answered()
        return True


class _Observer(AsyncRetryHandler):
    def __init__(self, reach: SlackReach) -> None:
        super().__init__(max_retry_count=1_000_000)
        self._reach = reach

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None:
            self._reach.answered()
        elif isinstance(error, _TRANSPORT_ERRORS):
            self._reach.failed(error)
        return False


class StaticAuthorize(AsyncAuthorize):
    """One workspace: the configured bot token, and the identity `auth.test` gave."""

    def __init__(self, token: str, identity: BotIdentity) -> None:
        self.token = token
        self.identity = identity

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: str | None,
    ) -> AuthorizeResult | None:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=self.token,
            bot_user_id=self.identity.user_id,
            bot_id=self.identity.bot_id,
            user_id=user_id,
        )


class InstalledAuthorize(AsyncAuthorize):
    """Several workspaces: the workspace's install as Slotbot's store keeps it. None (bolt
    answers "reinstall") when there is none, or it can no longer be decrypted."""

    def __init__(self, installations: StoreInstallationStore) -> None:
        self.installations = installations

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: str | None,
    ) -> AuthorizeResult | None:
        try:
            bot = await self.installations.async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=context.is_enterprise_install,
            )
        except StoreError:
            context[STORE_DOWN] = True
            raise
        except SecretError:
            log.warning(slack_logs.SLACK_INSTALL_UNREADABLE, team_id)
            return None
        if bot is None or not bot.bot_token:
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )
