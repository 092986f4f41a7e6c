"""The Microsoft Teams adapter: every botbuilder import of Slotbot lives in this package.

`setup(app)` mounts POST /api/messages and registers `TeamsDelivery` as
`services.delivery["teams"]`, so the outbox worker can post alerts into Teams.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import ServiceClientCredentialsFactory

from adapters.teams.auth import build_authentication
from adapters.teams.bot import SlotbotTeamsBot
from adapters.teams.delivery import TeamsDelivery
from adapters.teams.http import ROUTE, MessagesHandler
from adapters.teams.refs import ConversationRefs
from bot import logs
from bot.runtime import SERVICES
from cards.errors import APOLOGY

log = logging.getLogger(__name__)

TEAMS_ADAPTER = web.AppKey("teams_adapter", CloudAdapter)
TEAMS_BOT = web.AppKey("teams_bot", SlotbotTeamsBot)
TEAMS_DELIVERY = web.AppKey("teams_delivery", TeamsDelivery)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    # the exception type only: botbuilder errors can embed request bodies
    log.error(logs.TEAMS_TURN_ERROR, type(error).__name__, exc_info=error)
    try:
        await context.send_activity(MessageFactory.text(APOLOGY))
    except Exception:
        log.warning(logs.TEAMS_APOLOGY_FAILED)


def setup(
    app: web.Application,
    *,
    endpoints: Mapping[str, str] | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> None:
    """Mount the Teams routes and register the Teams delivery adapter.

    `endpoints` (botbuilder configuration keys such as TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    or TO_CHANNEL_FROM_BOT_LOGIN_URL) point token checks and outbound tokens elsewhere: tests
    use local servers; the public Microsoft cloud needs none. `credentials_factory` replaces
    the outbound token source altogether.
    """
    services = app[SERVICES]
    settings = services.settings
    app_id = settings.microsoft_app_id or ""
    adapter = CloudAdapter(build_authentication(settings, endpoints, credentials_factory))
    adapter.on_turn_error = on_turn_error
    refs = ConversationRefs(services.store)
    delivery = TeamsDelivery(adapter, app_id, refs)
    bot = SlotbotTeamsBot(services, refs, delivery, app_id)
    services.delivery["teams"] = delivery
    app[TEAMS_ADAPTER] = adapter
    app[TEAMS_BOT] = bot
    app[TEAMS_DELIVERY] = delivery
    # no app id is only reachable with TEAMS_DEV_MODE=1 (Settings.teams_enabled)
    handler = MessagesHandler(services, adapter, bot, auth_required=bool(app_id))
    app.router.add_post(ROUTE, handler.handle)
