"""The App Home tab: the member's connection and link, then what `/schedule upcoming` and
(for admins) `/cronofy status` show, built by the command layer itself."""

from __future__ import annotations

import logging

from bot.chat import Actor, Conversation
from bot.commands import CommandContext, run_command
from bot.cronofy.connect import authorize_url_for
from bot.errors import SlotbotError
from bot.runtime import Services
from cards.model import (
    Actions,
    Button,
    Card,
    Divider,
    Element,
    Footer,
    Header,
    Section,
    Strong,
)

log = logging.getLogger(__name__)


async def _connect_url(services: Services, org_id: str, user_id: str) -> str | None:
    """The recruiter's Cronofy connect link, when the org is set up for it."""
    try:
        return await authorize_url_for(services, org_id, user_id)
    except SlotbotError:
        return None


async def _command_blocks(ctx: CommandContext, command: str) -> list[Element]:
    """The blocks of the cards a command answers with: Home shows what the commands show."""
    replies = await run_command(ctx, command)
    return [block for reply in replies for block in reply.card.blocks]


async def home_card(services: Services, org_id: str, user_id: str, *, is_admin: bool) -> Card:
    store = services.store
    member = await store.get_member(org_id, user_id)
    org = await store.get_org(org_id)
    blocks: list[Element] = [Header("Slotbot")]

    if member is not None and member.connected:
        who = member.email or member.name or "your calendar"
        blocks.append(Section(["✅ Calendar connected as ", Strong(who)]))
    else:
        blocks.append(Section("Your calendar is not connected yet."))
        url = None
        if org is not None and org.cronofy is not None:
            url = await _connect_url(services, org_id, user_id)
        if isinstance(url, str):
            blocks.append(
                Actions(
                    [Button("Connect your calendar", kind="open_url", url=url, style="primary")]
                )
            )
        elif org is None or org.cronofy is None:
            blocks.append(
                Footer("An admin needs to run /cronofy setup before calendars can be connected.")
            )
        else:
            blocks.append(Footer("Run /schedule connect to connect your calendar."))

    if member is not None and member.public_link:
        blocks.append(Section(["Your scheduling link: ", member.public_link]))
        blocks.append(
            Actions([Button("Share link", action_id="link.share", value=member.public_link)])
        )
    else:
        blocks.append(Footer("Set your scheduling link with /schedule link set <url>."))

    ctx = CommandContext(
        services=services,
        actor=Actor("slack", org_id, user_id, is_platform_admin=is_admin),
        conversation=Conversation("slack", org_id, user_id, kind="dm"),
    )
    blocks.append(Divider())
    blocks += await _command_blocks(ctx, "schedule upcoming")
    if is_admin:
        blocks.append(Divider())
        blocks += await _command_blocks(ctx, "cronofy status")
    return Card(blocks=blocks, fallback="Slotbot home")
