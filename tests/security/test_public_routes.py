"""The routes anyone can reach without credentials — the Cronofy OAuth callback, the booked
page a candidate lands on, Slack's install and OAuth redirect — cost nothing in the store
for garbage, and each client address gets only so many requests before a 429."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.slack import SlackPlatform
from bot.app import create_app
from bot.config import Settings
from bot.ratelimit import RateLimiter
from bot.runtime import PAGE_LIMITER, SERVICES
from bot.secrets import SecretBox, generate_key
from bot.store.sqlite import SQLiteStore
from tests.fakes.slack import FakeSlack

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _app(tmp_path: Path, fake_slack: FakeSlack, **env: str) -> web.Application:
    settings = Settings.from_env(
        {
            "BOT_STORE_URL": f"sqlite:///{tmp_path}/bot.db",
            "BOT_PUBLIC_URL": "https://slotbot.test",
            "SLACK_SIGNING_SECRET": "s" * 32,
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": "c" * 32,
            "SLACK_API_URL": fake_slack.api_url,
            **env,
        }
    )
    store = SQLiteStore(str(tmp_path / "bot.db"))
    return create_app(
        settings,
        store=store,
        secrets=SecretBox([generate_key()]),
        platforms=[SlackPlatform.from_settings(settings)],
        run_worker=False,
    )


async def test_random_oauth_states_write_nothing(
    tmp_path: Path, fake_slack: FakeSlack, aiohttp_client: AiohttpClient
) -> None:
    """300 well-formed states Slotbot never issued: each a 400, and the store holds exactly
    what it held before (no "state used" marker, no claim)."""
    app = _app(tmp_path, fake_slack, BOT_PAGE_RATE_LIMIT="0")
    client = await aiohttp_client(app)
    store = app[SERVICES].store
    before = await store.count_records()
    for _ in range(300):
        response = await client.get(
            "/cronofy/oauth/callback", params={"state": secrets.token_urlsafe(32), "code": "x"}
        )
        assert response.status == 400
    for _ in range(50):  # the Slack install round trip's own states: refused, nothing stored
        response = await client.get(
            "/slack/oauth_redirect", params={"state": secrets.token_urlsafe(32), "code": "x"}
        )
        assert response.status < 500
    assert await store.count_records() == before


@pytest.mark.parametrize(
    "path",
    [
        "/cronofy/oauth/callback?state=x",
        "/cronofy/booked",
        "/slack/install",
        "/slack/oauth_redirect?state=x&code=y",
    ],
)
async def test_each_client_address_gets_a_burst_then_429_with_retry_after(
    tmp_path: Path, fake_slack: FakeSlack, aiohttp_client: AiohttpClient, path: str
) -> None:
    app = _app(tmp_path, fake_slack, BOT_PAGE_RATE_LIMIT="5")
    clock = Clock()
    app[PAGE_LIMITER] = RateLimiter(per_minute=5, clock=clock)
    client = await aiohttp_client(app)
    statuses = [(await client.get(path, allow_redirects=False)).status for _ in range(5)]
    assert all(status != 429 for status in statuses), statuses
    refused = await client.get(path, allow_redirects=False)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "12"  # one request's worth of 5 a minute
    assert "Too many requests" in await refused.text()
    # the bucket refills with time: one more request 12 seconds later
    clock.now += 12
    assert (await client.get(path, allow_redirects=False)).status != 429
    assert (await client.get(path, allow_redirects=False)).status == 429


async def test_the_limit_is_per_client_address_behind_a_proxy(
    tmp_path: Path, fake_slack: FakeSlack, aiohttp_client: AiohttpClient
) -> None:
    """With BOT_PROXY_HOPS=1 the address is the one the proxy saw (the last in
    X-Forwarded-For); what a client writes before it is not believed."""
    app = _app(tmp_path, fake_slack, BOT_PAGE_RATE_LIMIT="2", BOT_PROXY_HOPS="1")
    client = await aiohttp_client(app)

    async def booked(forwarded: str) -> int:
        response = await client.get("/cronofy/booked", headers={"X-Forwarded-For": forwarded})
        return response.status

    assert [await booked("203.0.113.9") for _ in range(3)] == [200, 200, 429]
    assert await booked("198.51.100.7") == 200  # another client is not held back
    # a client that makes up addresses of its own still counts as the address the proxy saw
    assert await booked("10.9.9.9, 203.0.113.9") == 429


async def test_webhooks_and_health_are_not_limited(
    tmp_path: Path, fake_slack: FakeSlack, aiohttp_client: AiohttpClient
) -> None:
    app = _app(tmp_path, fake_slack, BOT_PAGE_RATE_LIMIT="1")
    client = await aiohttp_client(app)
    assert [(await client.get("/healthz")).status for _ in range(5)] == [200] * 5
    statuses = [(await client.post("/slack/events", data=b"{}")).status for _ in range(5)]
    assert 429 not in statuses
