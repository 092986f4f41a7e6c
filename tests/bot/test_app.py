"""The app factory: health, readiness, metrics, body cap, unknown routes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.errors import StoreUnavailable
from bot.runtime import SERVICES
from bot.secrets import SecretBox, generate_key
from bot.store.sqlite import SQLiteStore
from tests.support.secret_watch import register_secret


def make_app(tmp_path: Path, **env: str) -> web.Application:
    settings = Settings.from_env({"BOT_STORE_URL": f"sqlite:///{tmp_path}/bot.db", **env})
    return create_app(settings, secrets=SecretBox([generate_key()]), run_worker=False)


async def test_health_ready_and_metrics(tmp_path: Path, aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(make_app(tmp_path))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ready"
    metrics = await client.get("/metrics")
    text = await metrics.text()
    assert metrics.status == 200
    assert 'slotbot_http_requests_total{method="GET",route="/readyz",status="200"} 1.0' in text
    assert "slotbot_outbox_depth 0.0" in text
    assert "slotbot_http_request_seconds_bucket" in text


async def test_the_home_page_says_what_this_is_and_where_to_talk_to_it(
    tmp_path: Path,
    aiohttp_client,  # type: ignore[no-untyped-def]
) -> None:
    secret = "slack-signing-secret-home-page"
    client: TestClient = await aiohttp_client(
        make_app(tmp_path, SLACK_SIGNING_SECRET=secret, SLACK_BOT_TOKEN="xoxb-home-page-token")
    )
    page = await client.get("/")
    text = await page.text()
    assert page.status == 200 and page.content_type == "text/html"
    assert "Slotbot" in text and "Slack" in text and "Teams" not in text
    assert secret not in text and "xoxb-" not in text and str(tmp_path) not in text
    nothing_on: TestClient = await aiohttp_client(make_app(tmp_path / "two"))
    assert "no chat platform yet" in await (await nothing_on.get("/")).text()


async def test_unknown_route_is_404(tmp_path: Path, aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(make_app(tmp_path))
    assert (await client.get("/nowhere")).status == 404
    assert (await client.post("/healthz")).status == 405


async def test_body_over_the_cap_is_413(tmp_path: Path, aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = await aiohttp_client(make_app(tmp_path))
    response = await client.post("/cronofy/push/anything", data=b"x" * (1024 * 1024 + 1))
    assert response.status == 413


class FlakyStore(SQLiteStore):
    """A real SQLite store whose ping can be switched off, as when the disk goes away."""

    down = False

    async def ping(self) -> None:
        if self.down:
            raise StoreUnavailable("database is not answering")
        await super().ping()


async def test_readyz_follows_the_store_and_logs_each_change_once(
    tmp_path: Path,
    aiohttp_client,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyStore(str(tmp_path / "flaky.db"))
    settings = Settings.from_env({"BOT_STORE_URL": f"sqlite:///{tmp_path}/flaky.db"})
    app = create_app(settings, store=store, secrets=SecretBox([generate_key()]), run_worker=False)
    client: TestClient = await aiohttp_client(app)
    assert app[SERVICES].store is store
    caplog.set_level(logging.INFO, logger="bot.app")
    store.down = True
    statuses = [(await client.get("/readyz")).status for _ in range(3)]
    store.down = False
    statuses += [(await client.get("/readyz")).status for _ in range(2)]
    assert statuses == [503, 503, 503, 200, 200]
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert sum("store unreachable" in m for m in messages) == 1
    assert sum("store reachable again" in m for m in messages) == 1


async def test_readyz_answers_a_fixed_reason_and_logs_the_detail(
    tmp_path: Path,
    aiohttp_client,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The store's own error names its host and port: the log gets it, the answer does not."""

    class HostStore(FlakyStore):
        async def ping(self) -> None:
            raise StoreUnavailable("Error 111 connecting to redis-7.internal:6380. Refused.")

    store = HostStore(str(tmp_path / "host.db"))
    settings = Settings.from_env({"BOT_STORE_URL": f"sqlite:///{tmp_path}/host.db"})
    app = create_app(settings, store=store, secrets=SecretBox([generate_key()]), run_worker=False)
    client: TestClient = await aiohttp_client(app)
    caplog.set_level(logging.INFO, logger="bot.app")
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.text()
    assert "redis-7.internal" not in body and "6380" not in body
    assert await response.json() == {"status": "unavailable", "store": "unreachable"}
    assert "redis-7.internal:6380" in caplog.text


async def test_metrics_ask_for_the_bearer_token_when_one_is_set(
    tmp_path: Path,
    aiohttp_client,  # type: ignore[no-untyped-def]
) -> None:
    token = "m3tr1cs-t0ken-for-tests"
    register_secret("METRICS_TOKEN", token)
    client: TestClient = await aiohttp_client(make_app(tmp_path, METRICS_TOKEN=token))
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-of-some-length"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": "Bearer"},
    ):
        refused = await client.get("/metrics", headers=headers)
        assert refused.status == 401, headers
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "slotbot_" not in await refused.text()
    allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert allowed.status == 200 and "slotbot_outbox_depth" in await allowed.text()
    # without METRICS_TOKEN, /metrics stays open (a private network's scraper)
    open_client: TestClient = await aiohttp_client(make_app(tmp_path / "open"))
    assert (await open_client.get("/metrics")).status == 200


@pytest.mark.parametrize("value", ["short", "has a space in it!!", "tøken-with-ünicode-chars"])
def test_a_weak_metrics_token_is_refused_naming_the_variable(value: str) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env({"METRICS_TOKEN": value})


def test_the_metrics_token_is_masked_when_settings_are_printed() -> None:
    settings = Settings.from_env({"METRICS_TOKEN": "m3tr1cs-t0ken-for-tests"})
    assert "m3tr1cs" not in repr(settings)
