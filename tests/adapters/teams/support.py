"""Building Teams activities and a Slotbot app wired to the fake connector."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

from cryptography.fernet import Fernet

from adapters.teams import TeamsPlatform
from bot.app import create_app
from bot.config import Settings
from bot.secrets import SecretBox
from bot.store.base import Store
from tests.fakes.botframework import BOT_FRAMEWORK_ISSUER, FakeConnector

APP_ID = "6a0f1c55-4b0d-4e7a-9c2e-1f3d5b7a9c11"
APP_PASSWORD = "bot-password-for-tests"
TENANT = "tenant-1"
BOT = {"id": f"28:{APP_ID}", "name": "Slotbot"}
ADA = {"id": "29:ada", "name": "Ada Lovelace", "aadObjectId": "aad-ada"}
GRACE = {"id": "29:grace", "name": "Grace Hopper", "aadObjectId": "aad-grace"}
TEAM_ID = "19:team-general@thread.tacv2"
CHANNEL_ID = "19:team-general@thread.tacv2"

_ids = itertools.count(1)


def dev_settings(**env: str) -> Settings:
    return Settings.from_env(
        {"TEAMS_DEV_MODE": "1", "BOT_PUBLIC_URL": "https://slotbot.test", **env}
    )


def auth_settings(**env: str) -> Settings:
    """App id set: every request needs a valid token."""
    return Settings.from_env(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "BOT_PUBLIC_URL": "https://slotbot.test",
            **env,
        }
    )


def fake_endpoints(fake: FakeConnector) -> dict[str, str]:
    """Token validation and outbound tokens pointed at the fake connector."""
    return {
        "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": fake.openid_metadata_url,
        "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": BOT_FRAMEWORK_ISSUER,
        "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": fake.openid_metadata_url,
        "TO_CHANNEL_FROM_BOT_LOGIN_URL": fake.url,
        "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
    }


def make_app(
    settings: Settings,
    store: Store,
    *,
    run_worker: bool = False,
    endpoints: dict[str, str] | None = None,
    platforms: list[Any] | None = None,
) -> Any:
    if platforms is not None:
        return create_app(
            settings,
            store=store,
            secrets=SecretBox([Fernet.generate_key().decode()]),
            run_worker=run_worker,
            platforms=platforms,
        )
    if endpoints is None:
        return create_app(
            settings,
            store=store,
            secrets=SecretBox([Fernet.generate_key().decode()]),
            run_worker=run_worker,
        )
    # the Teams platform given the fake's endpoints
    return create_app(
        settings,
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        run_worker=run_worker,
        platforms=[TeamsPlatform.from_settings(settings, endpoints=endpoints)],
    )


def personal(
    fake: FakeConnector, user: dict[str, str] = ADA, tenant: str = TENANT
) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": fake.service_url,
        "from": dict(user),
        "recipient": dict(BOT),
        "conversation": {
            "id": f"a:personal-{user['id']}",
            "conversationType": "personal",
            "tenantId": tenant,
        },
        "channelData": {"tenant": {"id": tenant}},
    }


def channel(
    fake: FakeConnector,
    user: dict[str, str] = ADA,
    tenant: str = TENANT,
    thread: str | None = None,
) -> dict[str, Any]:
    conv_id = CHANNEL_ID if thread is None else f"{CHANNEL_ID};messageid={thread}"
    return {
        "channelId": "msteams",
        "serviceUrl": fake.service_url,
        "from": dict(user),
        "recipient": dict(BOT),
        "conversation": {
            "id": conv_id,
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": tenant,
        },
        "channelData": {
            "tenant": {"id": tenant},
            "team": {"id": TEAM_ID, "name": "Hiring"},
            "channel": {"id": CHANNEL_ID, "name": "General"},
        },
    }


def message(where: dict[str, Any], text: str, *, mention: bool = False) -> dict[str, Any]:
    activity = dict(where, type="message", id=f"m-{next(_ids)}", text=text)
    if mention:
        tag = f"<at>{BOT['name']}</at>"
        activity["text"] = f"{tag} {text}"
        activity["entities"] = [{"type": "mention", "mentioned": dict(BOT), "text": tag}]
    return activity


def submit(
    where: dict[str, Any], value: dict[str, Any], reply_to: str | None = None
) -> dict[str, Any]:
    activity = dict(where, type="message", id=f"m-{next(_ids)}", value=value)
    if reply_to:
        activity["replyToId"] = reply_to
    return activity


def execute(where: dict[str, Any], verb: str, data: dict[str, Any]) -> dict[str, Any]:
    return dict(
        where,
        type="invoke",
        name="adaptiveCard/action",
        id=f"i-{next(_ids)}",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
    )


def installed(where: dict[str, Any], action: str = "add") -> dict[str, Any]:
    return dict(where, type="installationUpdate", id=f"u-{next(_ids)}", action=action)


def bot_added(where: dict[str, Any]) -> dict[str, Any]:
    return dict(where, type="conversationUpdate", id=f"u-{next(_ids)}", membersAdded=[dict(BOT)])


def bot_removed(where: dict[str, Any]) -> dict[str, Any]:
    return dict(where, type="conversationUpdate", id=f"u-{next(_ids)}", membersRemoved=[dict(BOT)])


def none_token(claims: dict[str, Any], kid: str) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(claims)}."


def adaptive_cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def card_text(card: dict[str, Any]) -> str:
    """Every string in a card, joined: for asserting what a member reads."""
    out: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return "\n".join(out)
