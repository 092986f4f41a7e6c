"""The App Home tab: the member's connection and link, then what `/schedule upcoming` and
(for admins) `/cronofy status` show, built by the command layer itself."""

from __future__ import annotations

import logging

from adapters.slack.turns import NAME
from bot.chat import Actor, Conversation, Turn
from bot.commands import handle_turn
from bot.cronofy.connect import authorize_url_for
from bot.errors import SlotbotError
from bot.runtime import Services
from cards.home import home
from cards.model import Card, Element

log = logging.getLogger(__name__)


async def _connect_url(services: Services, org_id: str, user_id: str) -> str | None:
    """The recruiter's Cronofy connect link, when the org is set up for it."""
    try:
        return await authorize_url_for(services, org_id, user_id)
    except SlotbotError:
        return None


async def _command_blocks(services: Services, asker: Turn, command: str) -> list[Element]:
    """The blocks of the cards a command answers with: Home shows what the commands show."""
    turn = Turn(asker.actor, asker.conversation, "command", text=command)
    replies = await handle_turn(services, turn)
    return [block for reply in replies for block in reply.card.blocks]


async def home_card(services: Services, org_id: str, user_id: str, *, is_admin: bool) -> Card:
    store = services.store
    member = await store.get_member(org_id, user_id)
    org = await store.get_org(org_id)
    connected = member is not None and member.connected
    set_up = org is not None and org.cronofy is not None
    url = None
    if not connected and set_up:
        url = await _connect_url(services, org_id, user_id)

    asker = Turn(
        Actor(NAME, org_id, user_id, is_platform_admin=is_admin),
        Conversation(NAME, org_id, user_id, kind="dm"),
        "command",
    )
    sections = [await _command_blocks(services, asker, "schedule upcoming")]
    if is_admin:
        sections.append(await _command_blocks(services, asker, "cronofy status"))
    return home(
        connected=connected,
        email=member.email if member is not None else None,
        name=member.name if member is not None else None,
        connect_url=url,
        set_up=set_up,
        public_link=member.public_link if member is not None else None,
        sections=sections,
    )
