"""What a member did on Slack, as the core's `Turn`: a slash command, a button press, a
submitted modal. Who they are (workspace admin or not) is asked of Slack and remembered
briefly."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import base_action_id
from adapters.slack.text import mentions_for, neutral_text, users_info
from adapters.slack.verify import workspace_of
from bot.chat import Actor, Conversation, ConversationKind, Turn, TurnKind

log = logging.getLogger(__name__)

NAME = "slack"
ADMIN_CACHE_TTL = 300.0


def org_id_for(team_id: str) -> str:
    """The one place a Slack org id is made."""
    return f"{NAME}:{team_id}"


def conversation_kind(channel_id: str, channel_name: str = "") -> ConversationKind:
    if channel_id.startswith("D") or channel_name == "directmessage":
        return "dm"
    if channel_name == "mpdm" or channel_name.startswith("mpdm-"):
        return "group"
    return "channel"


class AdminCache:
    """Workspace owners and admins per `users.info`, remembered briefly — and forgotten as
    soon as Slack says the member changed (a `user_change` event: promoted, demoted,
    deactivated), so a demotion takes effect at once rather than after `ADMIN_CACHE_TTL`.
    The same answer carries the member's time zone (`tz`), which the Turn passes on."""

    def __init__(self, clock: Callable[[], float], ttl: float = ADMIN_CACHE_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._known: dict[tuple[str, str], tuple[UserFacts, float]] = {}

    async def is_admin(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        return (await self.user(client, team_id, user_id)).admin

    async def user(self, client: AsyncWebClient, team_id: str, user_id: str) -> UserFacts:
        now = self._clock()
        hit = self._known.get((team_id, user_id))
        if hit is not None and hit[1] > now:
            return hit[0]
        user = await users_info(client, user_id)
        if user is None:
            return UserFacts()  # no token, or Slack cannot say now: not remembered
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        tz = user.get("tz")
        known = UserFacts(admin=admin, zone=tz if isinstance(tz, str) and tz else None)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[(team_id, user_id)] = (known, now + self._ttl)
        return known

    def forget(self, user_id: str, team_ids: set[str]) -> bool:
        """Drop what is remembered of `user_id` in these workspaces; True when there was."""
        dropped = [self._known.pop((team, user_id), None) for team in team_ids]
        return any(entry is not None for entry in dropped)


@dataclass(frozen=True)
class UserFacts:
    """What a turn needs of `users.info`: a workspace admin or not, and the member's zone."""

    admin: bool = False
    zone: str | None = None  # `tz`, an IANA name; the core checks it before using it


def _text(value: object) -> str:
    return str(value or "") if not isinstance(value, dict | list) else ""


class TurnMaker:
    """Slack payloads (as bolt hands them to listeners) → Turns."""

    def __init__(self, admins: AdminCache) -> None:
        self.admins = admins

    async def _turn(
        self,
        client: AsyncWebClient,
        kind: TurnKind,
        *,
        team_id: str,
        user_id: str,
        user_name: str = "",
        channel_id: str = "",
        channel_name: str = "",
        **fields: Any,
    ) -> Turn:
        org_id = org_id_for(team_id)
        user = await self.admins.user(client, team_id, user_id)
        actor = Actor(NAME, org_id, user_id, display_name=user_name, is_platform_admin=user.admin)
        conversation = Conversation(
            NAME,
            org_id,
            channel_id or user_id,
            kind=conversation_kind(channel_id, channel_name) if channel_id else "dm",
            name=channel_name,
        )
        return Turn(actor, conversation, kind, zone=user.zone, **fields)

    async def command(self, client: AsyncWebClient, body: dict[str, Any]) -> Turn:
        """A slash command: Slack's <@U…>, <#C…> and <url|…> markup becomes the core's
        neutral form, and the ids it names are checked with Slack."""
        team_id = _text(body.get("team_id"))
        command = _text(body.get("command")).lstrip("/")
        neutral = neutral_text(_text(body.get("text")).strip())
        return await self._turn(
            client,
            "command",
            team_id=team_id,
            user_id=_text(body.get("user_id")),
            user_name=_text(body.get("user_name")),
            channel_id=_text(body.get("channel_id")),
            channel_name=_text(body.get("channel_name")),
            text=f"{command} {neutral.text}".strip(),
            mentions=await mentions_for(client, team_id, neutral),
        )

    async def action(
        self, client: AsyncWebClient, body: dict[str, Any], action: dict[str, Any]
    ) -> Turn:
        """A button of one of our messages."""
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
        assert isinstance(user, dict) and isinstance(channel, dict)
        return await self._turn(
            client,
            "action",
            team_id=workspace_of(body) or "",
            user_id=_text(user.get("id")),
            user_name=_text(user.get("username") or user.get("name")),
            channel_id=_text(channel.get("id")),
            channel_name=_text(channel.get("name")),
            action_id=base_action_id(_text(action.get("action_id"))),
            value=_text(action.get("value")),
        )

    async def form(self, client: AsyncWebClient, body: dict[str, Any]) -> Turn:
        """A submitted modal: its callback id is the form's id, its inputs the values, and
        its submit button's value what `open_form` kept in its metadata."""
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        assert isinstance(view, dict) and isinstance(user, dict)
        context = metadata(view)
        return await self._turn(
            client,
            "form",
            team_id=workspace_of(body) or "",
            user_id=_text(user.get("id")),
            user_name=_text(user.get("name")),
            channel_id=context.get("channel_id", ""),
            action_id=_text(view.get("callback_id")),
            values=form_values(view),
            value=context.get("value", ""),
        )


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """A modal's inputs by name (the renderer makes block_id = action_id = the input name)."""
    out: dict[str, str] = {}
    values = (view.get("state") or {}).get("values") or {}
    if not isinstance(values, dict):
        return out
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        for state in actions.values():
            if not isinstance(state, dict):
                continue
            value = state.get("value")
            if value is None:
                selected = state.get("selected_option")
                value = selected.get("value") if isinstance(selected, dict) else None
            if isinstance(value, str):
                out[str(block_id)] = value.strip()
    return out


def metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
