"""The Microsoft Teams adapter: every botbuilder import of Slotbot lives in this package.

`TeamsPlatform.setup(app)` mounts POST /api/messages and registers `TeamsDelivery` as the
platform's delivery, so the outbox worker can post alerts into Teams.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import ServiceClientCredentialsFactory

from adapters.teams import log_lines as teams_logs
from adapters.teams.auth import TokenCheck, build_authentication
from adapters.teams.bot import SlotbotTeamsBot
from adapters.teams.connector import OutboundCalls, TeamsAuthentication
from adapters.teams.delivery import TeamsDelivery
from adapters.teams.http import ROUTE, MessagesHandler
from adapters.teams.keys import SigningKeys
from adapters.teams.refs import NAME, ConversationRefs, org_id_for
from adapters.teams.settings import TeamsSettings
from bot import logs
from bot.config import Settings
from bot.platforms import Command, Findings
from bot.runtime import SERVICES
from cards.errors import APOLOGY

log = logging.getLogger(__name__)

TEAMS_ADAPTER = web.AppKey("teams_adapter", CloudAdapter)
TEAMS_BOT = web.AppKey("teams_bot", SlotbotTeamsBot)
TEAMS_DELIVERY = web.AppKey("teams_delivery", TeamsDelivery)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    # the exception type only: botbuilder errors can embed request bodies
    log.error(teams_logs.TEAMS_TURN_ERROR, type(error).__name__, exc_info=error)
    try:
        await context.send_activity(MessageFactory.text(APOLOGY))
    except Exception:
        log.warning(teams_logs.TEAMS_APOLOGY_FAILED)


def setup(
    app: web.Application,
    teams: TeamsSettings,
    *,
    endpoints: Mapping[str, str] | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    signing_keys: SigningKeys | None = None,
) -> None:
    """Mount the Teams routes and register the Teams delivery adapter (see TeamsPlatform)."""
    logs.quiet("msrest", "botbuilder", "botframework")
    services = app[SERVICES]
    app_id = teams.app_id or ""
    calls = OutboundCalls()
    token_check = TokenCheck.for_endpoints(endpoints, signing_keys)
    adapter = CloudAdapter(
        TeamsAuthentication(build_authentication(teams, endpoints, credentials_factory), calls)
    )
    adapter.on_turn_error = on_turn_error
    refs = ConversationRefs(services.store)
    delivery = TeamsDelivery(adapter, app_id, refs, services)
    bot = SlotbotTeamsBot(services, refs, delivery, app_id)
    services.delivery[NAME] = delivery
    app[TEAMS_ADAPTER] = adapter
    app[TEAMS_BOT] = bot
    app[TEAMS_DELIVERY] = delivery
    # no app id is only reachable with TEAMS_DEV_MODE=1 (TeamsSettings.enabled)
    handler = MessagesHandler(
        services,
        adapter,
        bot,
        auth_required=bool(app_id),
        token_check=token_check,
        bot_id=f"28:{app_id}" if app_id else None,
    )
    app.router.add_post(ROUTE, handler.handle_request)

    async def close_threads(_: web.Application) -> None:
        calls.close()
        token_check.keys.close()

    app.on_cleanup.append(close_threads)
    if teams.unauthenticated:
        log.warning(teams_logs.TEAMS_DEV_MODE)


class TeamsPlatform:
    """Microsoft Teams, as the core sees a platform (bot.platforms.Platform).

    `endpoints` (botbuilder configuration keys such as TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    or TO_CHANNEL_FROM_BOT_LOGIN_URL) point token checks and outbound tokens elsewhere: tests
    use local servers; the public Microsoft cloud needs none. `credentials_factory` replaces
    the outbound token source altogether; `signing_keys` the source of the keys inbound tokens
    are checked with (tests give it other time limits and a clock).
    """

    name = NAME
    title = "Teams"

    def __init__(
        self,
        teams: TeamsSettings,
        *,
        endpoints: Mapping[str, str] | None = None,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        signing_keys: SigningKeys | None = None,
        public_url: str | None = None,
    ) -> None:
        self.teams = teams
        self.endpoints = endpoints
        self.credentials_factory = credentials_factory
        self.signing_keys = signing_keys
        self.public_url = public_url  # BOT_PUBLIC_URL: the manifest's default address

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        endpoints: Mapping[str, str] | None = None,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        signing_keys: SigningKeys | None = None,
    ) -> TeamsPlatform:
        return cls(
            TeamsSettings.from_env(settings.env),
            endpoints=endpoints,
            credentials_factory=credentials_factory,
            signing_keys=signing_keys,
            public_url=settings.public_url,
        )

    @property
    def enabled(self) -> bool:
        return self.teams.enabled

    @property
    def status(self) -> str:
        if self.teams.off_reason:
            return self.teams.off_reason
        if self.teams.unauthenticated:
            return "TEAMS_DEV_MODE=1, inbound requests NOT authenticated"
        return f"{self.teams.app_type}, inbound JWTs verified"

    def describe(self) -> dict[str, str]:
        return self.teams.describe()

    def check(self) -> Findings:
        found = Findings()
        if self.teams.dev_mode and self.teams.app_id:
            found.warnings.append("TEAMS_DEV_MODE=1 is ignored because MICROSOFT_APP_ID is set")
        elif self.teams.dev_mode:
            found.warnings.append(
                "TEAMS_DEV_MODE=1: Teams requests are NOT authenticated; never use this in "
                "production"
            )
        return found

    def setup(self, app: web.Application) -> None:
        setup(
            app,
            self.teams,
            endpoints=self.endpoints,
            credentials_factory=self.credentials_factory,
            signing_keys=self.signing_keys,
        )

    def org_id(self, native_id: str) -> str:
        return org_id_for(native_id)

    def manifest(self, argv: list[str]) -> int:
        from adapters.teams.manifest import main

        return main(argv, app_id=self.teams.app_id, url=self.public_url)

    def commands(self) -> dict[str, Command]:
        return {}


def platform(settings: Settings) -> TeamsPlatform:
    """The entry point the core finds Teams by (pyproject.toml, `slotbot.platforms`)."""
    return TeamsPlatform.from_settings(settings)
