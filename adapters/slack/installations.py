"""Slack workspace installations and OAuth states, kept in Slotbot's own store.

Installations are stored whole, encrypted with the service's SecretBox (they carry bot and
user tokens), in the `slack_installations` / `slack_bots` kv namespaces. OAuth `state`s use the
store's single-use OAuth states, so a state can be consumed once, atomically, on any replica.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import OAuthState

INSTALLATIONS = "slack_installations"
BOTS = "slack_bots"
STATE_PURPOSE = "slack_install"
STATE_TTL = 600.0
_STATE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

log = logging.getLogger(__name__)


def _team_key(enterprise_id: str | None, team_id: str | None) -> str:
    return f"{enterprise_id or 'none'}:{team_id or 'none'}"


class StoreInstallationStore(AsyncInstallationStore):
    """bolt's installation store interface on `Store.kv_*`, values encrypted."""

    def __init__(
        self,
        store: Store,
        secrets: SecretBox,
        on_installed: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._secrets = secrets
        # told the team id after every completed install (a reinstall reactivates the org)
        self.on_installed = on_installed

    @property
    def logger(self) -> logging.Logger:
        return log

    # encoding --------------------------------------------------------------
    def _seal(self, fields: dict[str, Any], team_id: str | None) -> dict[str, object]:
        return {
            "team_id": team_id or "",
            "sealed": self._secrets.encrypt(json.dumps(fields, separators=(",", ":"))),
        }

    def _open(self, doc: dict[str, object] | None) -> dict[str, Any] | None:
        if doc is None or not isinstance(doc.get("sealed"), str):
            return None
        data = json.loads(self._secrets.decrypt(str(doc["sealed"])))
        return data if isinstance(data, dict) else None

    # bolt interface ---------------------------------------------------------
    async def async_save(self, installation: Installation) -> None:
        key = _team_key(installation.enterprise_id, installation.team_id)
        sealed = self._seal(dict(installation.__dict__), installation.team_id)
        await self._store.kv_put(INSTALLATIONS, f"{key}:latest", sealed)
        await self._store.kv_put(
            INSTALLATIONS, f"{key}:user:{installation.user_id or 'none'}", sealed
        )
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        if bot.bot_token is None:
            return
        key = _team_key(bot.enterprise_id, bot.team_id)
        await self._store.kv_put(BOTS, key, self._seal(dict(bot.__dict__), bot.team_id))
        # bolt saves only the bot when installs are bot-only: this is where an install ends
        if self.on_installed is not None and bot.team_id:
            await self.on_installed(bot.team_id)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        if is_enterprise_install:
            team_id = None
        data = self._open(await self._store.kv_get(BOTS, _team_key(enterprise_id, team_id)))
        return Bot(**data) if data is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        if is_enterprise_install:
            team_id = None
        key = _team_key(enterprise_id, team_id)
        suffix = f"user:{user_id}" if user_id else "latest"
        data = self._open(await self._store.kv_get(INSTALLATIONS, f"{key}:{suffix}"))
        if data is None:
            return None
        installation = Installation(**data)
        if user_id is not None or installation.bot_token is None:
            # a user's own installation may predate the workspace's current bot token
            latest_bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
            if latest_bot is not None and latest_bot.bot_token != installation.bot_token:
                installation.bot_id = latest_bot.bot_id
                installation.bot_user_id = latest_bot.bot_user_id
                installation.bot_token = latest_bot.bot_token
                installation.bot_scopes = latest_bot.bot_scopes
                installation.bot_refresh_token = latest_bot.bot_refresh_token
                installation.bot_token_expires_at = latest_bot.bot_token_expires_at
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._store.kv_delete(BOTS, _team_key(enterprise_id, team_id))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        key = _team_key(enterprise_id, team_id)
        if user_id is not None:
            await self._store.kv_delete(INSTALLATIONS, f"{key}:user:{user_id}")
            return
        for name in await self._store.kv_list(INSTALLATIONS, prefix=f"{key}:"):
            await self._store.kv_delete(INSTALLATIONS, name)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class StoreOAuthStateStore(AsyncOAuthStateStore):
    """Single-use, expiring `state` values for the "Add to Slack" round trip."""

    def __init__(self, store: Store, clock: Callable[[], float], ttl: float = STATE_TTL) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        await self._store.put_oauth_state(
            OAuthState(
                state=state,
                purpose=STATE_PURPOSE,
                org_id="",
                member_id="",
                expires_at=self._clock() + self._ttl,
            )
        )
        return state

    async def async_consume(self, state: str) -> bool:
        # the state comes from the query string: refuse odd shapes before touching storage
        if not _STATE_PATTERN.match(state or ""):
            return False
        record = await self._store.consume_oauth_state(state)
        if record is None or record.purpose != STATE_PURPOSE:
            return False
        return record.expires_at >= self._clock()
