"""Driving the running app the way Slack does: really signed slash commands, interactivity
payloads and events, posted over HTTP to /slack/events."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from cryptography.fernet import Fernet
from slack_sdk.signature import SignatureVerifier

from bot.app import create_app
from bot.config import Settings
from bot.secrets import SecretBox
from bot.store.base import Store
from tests.fakes.slack import FakeSlack

SIGNING_SECRET = "slack-signing-secret-for-tests"
BOT_TOKEN = "xoxb-T1-slotbot"
TEAM = "T1"
ORG = "slack:T1"
CHANNEL = "C1"


def slack_settings(
    fake_slack: FakeSlack, *, cronofy_url: str | None = None, **extra: str
) -> Settings:
    env = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake_slack.api_url,
        "BOT_PUBLIC_URL": "https://slotbot.test",
    }
    if cronofy_url is not None:
        env["CRONOFY_API_URL"] = cronofy_url
        env["CRONOFY_APP_URL"] = cronofy_url
    env.update(extra)
    return Settings.from_env(env)


def make_app(settings: Settings, store: Store, *, run_worker: bool = False) -> web.Application:
    return create_app(
        settings,
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        run_worker=run_worker,
    )


def signed_headers(
    body: str, content_type: str, *, ts: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(signature),
    }


FORM = "application/x-www-form-urlencoded"


def command_body(
    fake_slack: FakeSlack,
    text: str,
    *,
    command: str = "/schedule",
    user: str = "U1",
    channel: str = CHANNEL,
    team: str = TEAM,
    hook: str | None = None,
) -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "hiring" if channel.startswith("C") else "directmessage",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": fake_slack.response_url(hook),
            "trigger_id": f"trigger.{user}.{int(time.time() * 1000)}",
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], *, event_id: str = "Ev1", team: str = TEAM) -> str:
    return json.dumps(
        {
            "token": "unused",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        }
    )


async def post_signed(
    client: Any,
    body: str,
    content_type: str,
    *,
    extra_headers: dict[str, str] | None = None,
    ts: int | None = None,
) -> Any:
    headers = signed_headers(body, content_type, ts=ts)
    headers.update(extra_headers or {})
    return await client.post("/slack/events", data=body.encode(), headers=headers)


@dataclass
class SlashRun:
    """A slash command sent: the message its ack carried (if any) and the response_url its
    later replies go to."""

    hook: str
    ack: dict[str, Any]
    fake_slack: FakeSlack

    def acked(self) -> list[dict[str, Any]]:
        return [self.ack] if self.ack.get("text") or self.ack.get("blocks") else []

    async def answers(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """What the member is shown for this command, in order: the ack's message, then what
        was posted to its response_url; waits until there are `count` of them."""
        acked = self.acked()
        if len(acked) < count:
            await self.fake_slack.wait_for(
                lambda r: r.match_info.get("hook_id") == self.hook,
                count=count - len(acked),
                timeout=timeout,
            )
        return acked + self.fake_slack.responses(self.hook)


async def slash(client: Any, fake_slack: FakeSlack, text: str, **kw: Any) -> SlashRun:
    """Run a slash command the way Slack does; what it answers is in the result."""
    hook = kw.pop("hook", None) or f"hook{time.monotonic_ns()}"
    response = await post_signed(client, command_body(fake_slack, text, hook=hook, **kw), FORM)
    assert response.status == 200, await response.text()
    return SlashRun(str(hook), await ack_body(response), fake_slack)


async def ack_body(response: Any) -> dict[str, Any]:
    """The JSON an ack carries ({} for an empty ack)."""
    text = await response.text()
    if not text:
        return {}
    body = json.loads(text)
    assert isinstance(body, dict), text
    return body


def all_text(value: Any) -> str:
    """Every string inside a Slack payload (blocks, text), for assertions on content."""
    if isinstance(value, str):
        try:
            return all_text(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return " ".join(all_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(all_text(v) for v in value)
    return ""


async def install_workspace(
    runtime: Any, team_id: str, token: str, *, bot_user_id: str = "UBOT"
) -> None:
    """A multi-workspace install of `team_id`, stored as the OAuth flow stores it."""
    from slack_sdk.oauth.installation_store.models.bot import Bot

    await runtime.installations.async_save_bot(
        Bot(
            app_id="A1",
            enterprise_id=None,
            team_id=team_id,
            bot_token=token,
            bot_id="B" + bot_user_id[1:],
            bot_user_id=bot_user_id,
            bot_scopes="commands,chat:write",
            installed_at=time.time(),
        )
    )
