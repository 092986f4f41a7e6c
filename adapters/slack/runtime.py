"""The Slack runtime: the bolt app, its listeners and delivery for these settings, the
install and uninstall paths, and `setup(app)`, which mounts `POST /slack/events` (through
the core's ingress chain, see adapters.slack.events), the OAuth install routes when
SLACK_CLIENT_ID is set, Socket Mode when SLACK_APP_TOKEN is set, and registers the delivery.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError

from adapters.slack import log_lines as slack_logs
from adapters.slack.delivery import SlackDelivery, web_client
from adapters.slack.events import EVENTS_PATH, SlackEventsEndpoint
from adapters.slack.installations import BOTS, StoreInstallationStore, StoreOAuthStateStore
from adapters.slack.listeners import SlackListeners
from adapters.slack.reach import BotIdentity, InstalledAuthorize, SlackReach, StaticAuthorize
from adapters.slack.settings import SlackSettings
from adapters.slack.turns import NAME, org_id_for
from bot import ingress, logs
from bot.errors import StoreError
from bot.org_state import deactivate_org
from bot.org_state import reactivate_org as reactivate
from bot.pages import limited
from bot.runtime import SERVICES, Services

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# the *:history scopes let an alert's retry find the message an earlier try posted before
# posting it again (adapters.slack.delivery); users:read also brings user_change events
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
)
# how long shutdown waits for listeners that acked and are still replying
DRAIN_TIMEOUT = 10.0


@dataclass
class SlackRuntime:
    services: Services
    bolt: AsyncApp
    listeners: SlackListeners
    delivery: SlackDelivery
    installations: StoreInstallationStore | None
    signing_secret: str | None
    slack: SlackSettings
    # whether Slack's Web API answers; the one workspace's bot, as auth.test says
    reach: SlackReach = field(default_factory=SlackReach)
    identity: BotIdentity = field(default_factory=BotIdentity)


SLACK = web.AppKey("slack", SlackRuntime)


class _BoltLogFilter(logging.Filter):
    """What bolt logs, made fit for Slotbot's log.

    bolt picks SLACK_BOT_TOKEN up from the environment when it is not handed a token, and
    warns that it goes unused beside the client Slotbot gives it: the token reaches every
    request through Slotbot's authorize instead (adapters.slack.reach). That one note is
    dropped; every other bolt warning still shows.

    At DEBUG bolt logs the body of every answer, and a command's answer can carry a
    candidate's name and email: the body is cut from that line, the status kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message == warning_client_prioritized_and_token_skipped():
            return False
        if message.startswith(_RESPONDING) and _BODY in message:
            record.msg, record.args = message[: message.index(_BODY)], ()
        return True


_RESPONDING = "Responding with status:"
_BODY = " body:"
_BOLT_LOG_FILTER = _BoltLogFilter()


def _oauth_settings(
    services: Services, slack: SlackSettings, installations: StoreInstallationStore
) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=f"{services.settings.public_url}{REDIRECT_PATH}",
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=StoreOAuthStateStore(services.store, services.clock),
    )


def build_runtime(services: Services, slack: SlackSettings) -> SlackRuntime:
    """The bolt app, its listeners and the delivery adapter for these settings.

    Requests are authorised without calling Slack (adapters.slack.reach): bolt's own
    authorisation asks `auth.test` before the request is acknowledged, and fails it late
    with a 500 when Slack cannot be reached."""
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_BOLT_LOG_FILTER)  # once: a set
    installations: StoreInstallationStore | None = None
    reach = SlackReach()
    identity = BotIdentity()
    # bolt reads SLACK_* from the process environment when an argument is missing, so
    # every one it would look at is passed explicitly
    signing_secret = slack.signing_secret
    client = web_client(slack.api_url, reach=reach)
    if slack.multi_workspace:
        installations = StoreInstallationStore(services.store, services.secrets)
        bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret or "unused-in-socket-mode",
            oauth_settings=_oauth_settings(services, slack, installations),
            # bolt takes an AsyncAuthorize as it is (its annotation names only callables)
            authorize=InstalledAuthorize(installations),  # type: ignore[arg-type]
            # our handler verified the request already, on the raw bytes
            request_verification_enabled=False,
            # what no listener takes is answered by SlackListeners.on_error
            raise_error_for_unhandled_request=True,
            name="slotbot",
        )
    else:
        token = slack.bot_token
        authorize: Any = StaticAuthorize(token, identity) if token else _no_token_authorize
        bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret or "unused-in-socket-mode",
            authorize=authorize,
            request_verification_enabled=False,
            raise_error_for_unhandled_request=True,
            name="slotbot",
        )
        bolt.middleware(_reactivating(services))
    listeners = SlackListeners(services, reach, identity)
    listeners.register(bolt)

    async def token_for_team(team_id: str) -> str | None:
        if installations is not None:
            found = await installations.async_find_bot(enterprise_id=None, team_id=team_id)
            return found.bot_token if found is not None else None
        return slack.bot_token

    runtime = SlackRuntime(
        services=services,
        bolt=bolt,
        listeners=listeners,
        delivery=SlackDelivery(services, token_for_team, api_url=slack.api_url, reach=reach),
        installations=installations,
        signing_secret=signing_secret,
        slack=slack,
        reach=reach,
        identity=identity,
    )

    async def uninstalled(team_id: str, reason: str) -> None:
        await deactivate_installation(runtime, team_id, reason)

    async def installed(team_id: str) -> None:
        await reactivate_org(services, team_id)

    async def org_uninstalled(
        enterprise_id: str, reason: str, revoked: frozenset[str] | None
    ) -> int:
        return await deactivate_enterprise(runtime, enterprise_id, reason, revoked)

    listeners.on_uninstalled = uninstalled
    listeners.on_org_uninstalled = org_uninstalled
    if installations is not None:
        installations.on_installed = installed
    return runtime


async def reactivate_org(services: Services, team_id: str) -> None:
    """The app is (re)installed in a workspace: deliveries to it resume, held alerts too."""
    released = await reactivate(services, org_id_for(team_id))
    if released is not None:
        log.info(slack_logs.SLACK_REINSTALLED, team_id)


# the events that say the app is leaving: they must not count as a sign it is installed
_LEAVING_EVENTS = frozenset({"app_uninstalled", "tokens_revoked"})


def _reactivating(services: Services) -> Callable[..., Awaitable[None]]:
    """Single workspace: any verified request from the workspace shows the app is installed
    there, so an org marked inactive by an uninstall becomes active again (no restart)."""

    async def middleware(
        body: dict[str, Any], context: AsyncBoltContext, next_: Callable[[], Awaitable[None]]
    ) -> None:
        event = body.get("event")
        leaving = isinstance(event, dict) and event.get("type") in _LEAVING_EVENTS
        if context.team_id and not leaving:
            try:
                await reactivate_org(services, context.team_id)
            except StoreError as exc:
                log.warning(logs.STORE_DOWN, exc)
        await next_()

    return middleware


async def _no_token_authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
    """Without a bot token or an install, commands still answer through response_url."""
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id)


async def deactivate_installation(
    runtime: SlackRuntime, team_id: str, reason: str, *, enterprise_id: str | None = None
) -> int:
    """The app left a workspace: mark the org inactive, hold its pending jobs and forget its
    tokens (stored under the workspace, or under its enterprise too on Enterprise Grid).
    Returns how many jobs were held."""
    count = await deactivate_org(runtime.services, org_id_for(team_id))
    if runtime.installations is not None:
        await runtime.installations.async_delete_all(enterprise_id=None, team_id=team_id)
        if enterprise_id:
            await runtime.installations.async_delete_all(
                enterprise_id=enterprise_id, team_id=team_id
            )
    log.warning(slack_logs.SLACK_UNINSTALLED, reason, team_id, count)
    return count


async def deactivate_enterprise(
    runtime: SlackRuntime, enterprise_id: str, reason: str, revoked: frozenset[str] | None
) -> int:
    """An org-level uninstall (`revoked` None) or revocation of the bot users in `revoked`
    (Enterprise Grid): each workspace of that enterprise Slotbot is installed in, and whose
    bot it concerns, ends as its own uninstall would. Returns how many."""
    ended: list[str] = []
    if runtime.installations is None:
        identity = runtime.identity
        if (
            identity.team_id
            and identity.enterprise_id == enterprise_id
            and (revoked is None or identity.user_id in revoked)
        ):
            ended.append(identity.team_id)
    else:
        for key in await runtime.services.store.kv_list(BOTS, prefix=f"{enterprise_id}:"):
            team_id = key.split(":", 1)[1]
            if team_id == "none":
                continue
            bot = await runtime.installations.async_find_bot(
                enterprise_id=enterprise_id, team_id=team_id
            )
            if bot is not None and (revoked is None or bot.bot_user_id in revoked):
                ended.append(team_id)
    for team_id in ended:
        log.warning(slack_logs.SLACK_ORG_EVENT, reason, enterprise_id, team_id)
        await deactivate_installation(runtime, team_id, reason, enterprise_id=enterprise_id)
    return len(ended)


def _add_oauth_routes(app: web.Application, runtime: SlackRuntime) -> None:
    flow = runtime.bolt.oauth_flow
    if flow is None:
        return

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def callback(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    # anyone can open these (and /slack/install stores a state per visit): each client
    # address gets only so many requests
    app.router.add_get(INSTALL_PATH, limited(install))
    app.router.add_get(REDIRECT_PATH, limited(callback))


async def _check_slack(runtime: SlackRuntime, session: aiohttp.ClientSession) -> None:
    """Ask Slack at start: one workspace, who the bot is (auth.test), so a wrong token shows
    now; several, whether the Web API answers at all (api.test). Slack out of reach is
    logged (by the reach observer) and does not stop the start: slash commands say so until
    Slack answers again."""
    token = runtime.slack.bot_token
    single = bool(token) and runtime.installations is None
    if not single and runtime.installations is None:
        return  # commands only: every answer goes through response_url
    client = web_client(
        runtime.slack.api_url, token if single else None, session, reach=runtime.reach
    )
    try:
        response = await (client.auth_test() if single else client.api_test())
    except SlackApiError as exc:
        log.warning(slack_logs.SLACK_AUTH_TEST_FAILED, exc.response.get("error"))
        return
    except (aiohttp.ClientError, OSError, TimeoutError):
        return  # said by the reach observer
    if not single:
        return
    runtime.identity.learn(response)
    team_id = runtime.identity.team_id
    if team_id is not None:
        # a working token means the app is installed again after an uninstall
        try:
            await reactivate_org(runtime.services, team_id)
        except StoreError as exc:
            log.warning(logs.STORE_DOWN, exc)


# slack_sdk's clients decide whether to build a debug line of every request (its whole body,
# a candidate's name among it) from their module logger's own level, not the level it takes
# from "slack_sdk": left unset, they build it on every call, for nothing
SDK_REQUEST_LOGGERS = (
    "slack_sdk.web.async_base_client",
    "slack_sdk.web.base_client",
    "slack_sdk.webhook.async_client",
    "slack_sdk.webhook.client",
)


def setup(app: web.Application, slack: SlackSettings) -> None:
    """Mount the Slack routes and register the Slack delivery adapter."""
    logs.quiet("slack_bolt", "slack_sdk", *SDK_REQUEST_LOGGERS)
    services = app[SERVICES]
    runtime = build_runtime(services, slack)
    app[SLACK] = runtime
    services.delivery[NAME] = runtime.delivery
    if slack.signing_secret:
        endpoint = SlackEventsEndpoint(runtime.bolt, runtime.signing_secret, services.clock)

        async def slack_events(request: web.Request) -> web.StreamResponse:
            return await ingress.run(endpoint, request)

        app.router.add_post(EVENTS_PATH, slack_events)
    _add_oauth_routes(app, runtime)
    log.info(slack_logs.SLACK_MODE, mode_of(slack))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        # one connection pool for every Slack call and response_url post while the app runs
        session = aiohttp.ClientSession()
        runtime.bolt.client.session = session
        runtime.listeners.session = session
        runtime.delivery.session = session
        await _check_slack(runtime, session)
        handler = None
        if slack.app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(runtime.bolt, app_token=slack.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info(slack_logs.SLACK_SOCKET_MODE, "connected")
        try:
            yield
        finally:
            if handler is not None:  # no new work from the socket while draining
                await handler.close_async()  # type: ignore[no-untyped-call]
                log.info(slack_logs.SLACK_SOCKET_MODE, "closed")
            # replies still being written need the store and the session: let them finish
            unfinished = await runtime.listeners.drain(DRAIN_TIMEOUT)
            if unfinished:
                log.warning(slack_logs.SLACK_DRAIN_TIMEOUT, unfinished, DRAIN_TIMEOUT)
            runtime.bolt.client.session = None
            runtime.listeners.session = None
            runtime.delivery.session = None
            await session.close()

    app.cleanup_ctx.append(lifecycle)


def mode_of(slack: SlackSettings) -> str:
    """How Slack runs with these settings, in words."""
    if slack.app_token:
        return "Socket Mode"
    if slack.multi_workspace:
        return "multi-workspace OAuth install"
    if slack.bot_token:
        return "single workspace"
    return "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are not set: commands only, no outbound messages"
