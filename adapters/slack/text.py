"""Slack command text to Slotbot's neutral command text (see `bot.commands.parser`).

Slack wraps what a member picked in angle brackets: `<@U123|jane>` for a user, `<#C123|hiring>`
for a channel, `<https://x|label>` / `<mailto:a@b|a@b>` for links, and escapes `&`, `<` and `>`
as entities. The core reads `@U123`, `#C123` and plain links; names travel in `Mentions`, and a
user counts only once `users.info` says it is a real, active person of the workspace.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import log_lines as slack_logs
from bot.commands import Mentions

log = logging.getLogger(__name__)

_USER = re.compile(r"<@([UW][A-Z0-9]{1,30})(?:\|([^<>]{0,80}))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]{1,30})(?:\|([^<>]{0,80}))?>")
# `<https://…|label>`, `<mailto:…|…>`; `<!here>`-style specials start with "!" and stay as typed
_LINK = re.compile(r"<((?:https?|mailto):[^<>|\s]{1,400})(?:\|[^<>]{0,400})?>")
MAX_USERS_CHECKED = 5


@dataclass
class SlackText:
    """Command text in the neutral form, with what Slack named in it."""

    text: str
    user_ids: list[str] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)  # id -> name ("" when not given)


def neutral_text(text: str) -> SlackText:
    users: list[str] = []
    channels: dict[str, str] = {}

    def user(match: re.Match[str]) -> str:
        if match.group(1) not in users:
            users.append(match.group(1))
        return "@" + match.group(1)

    def channel(match: re.Match[str]) -> str:
        name = (match.group(2) or "").strip()
        if name or match.group(1) not in channels:
            channels[match.group(1)] = name
        return "#" + match.group(1)

    def link(match: re.Match[str]) -> str:
        value = match.group(1)
        return value[len("mailto:") :] if value.lower().startswith("mailto:") else value

    out = _USER.sub(user, text)
    out = _CHANNEL.sub(channel, out)
    out = _LINK.sub(link, out)
    # Slack's own escapes last, so a typed "&lt;#C1&gt;" never turns into a channel mention
    out = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return SlackText(out, users, channels)


async def users_info(client: AsyncWebClient, user_id: str) -> dict[str, Any] | None:
    """What `users.info` says of a user; None when there is no token or Slack cannot say
    (logged)."""
    if not client.token:
        return None
    try:
        response = await client.users_info(user=user_id)
    except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
        log.warning(slack_logs.SLACK_USERS_INFO_FAILED, user_id, type(exc).__name__)
        return None
    user = response.get("user")
    return user if isinstance(user, dict) else {}


async def real_user_name(client: AsyncWebClient, team_id: str, user_id: str) -> str | None:
    """The user's display name when `users.info` knows an active person of this workspace;
    None for an unknown id, a deactivated account, a bot, or when Slack cannot say."""
    user = await users_info(client, user_id)
    if not isinstance(user, dict) or user.get("id") != user_id:
        return None
    if user.get("deleted") or user.get("is_bot") or user_id == "USLACKBOT":
        return None
    home = user.get("team_id")
    if home and team_id and home != team_id:
        return None
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    name = ""
    if isinstance(profile, dict):
        name = str(profile.get("real_name") or profile.get("display_name") or "")
    return name or str(user.get("real_name") or user.get("name") or "")


async def mentions_for(client: AsyncWebClient, team_id: str, parsed: SlackText) -> Mentions:
    """The users Slack confirms (at most a few per command) and the channels named."""
    users: dict[str, str] = {}
    for user_id in parsed.user_ids[:MAX_USERS_CHECKED]:
        name = await real_user_name(client, team_id, user_id)
        if name is not None:
            users[user_id] = name
    return Mentions(users=users, channels=dict(parsed.channels), can_name_channels=True)
