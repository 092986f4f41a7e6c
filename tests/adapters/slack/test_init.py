"""Building the Slack runtime: bolt is configured so that it has nothing to warn about."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import build_runtime
from adapters.slack.delivery import web_client
from adapters.slack.runtime import SDK_REQUEST_LOGGERS, SLACK, setup
from adapters.slack.settings import SlackSettings
from bot.runtime import SERVICES, Services
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from tests.adapters.slack.support import slack_settings
from tests.fakes.slack import FakeSlack


async def test_single_workspace_bolt_does_not_warn_that_the_token_is_unused(
    store: Store,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = slack_settings(fake_slack)
    slack = SlackSettings.from_env(settings.env)
    assert slack.bot_token
    # a deployment sets the token in the environment, where bolt looks for it too
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
    services = Services(settings=settings, store=store, secrets=SecretBox([generate_key()]))
    with caplog.at_level(logging.INFO):
        runtime = build_runtime(services, slack)
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == []
    client = runtime.bolt.client
    assert client.base_url == slack.api_url
    assert client.retry_handlers, "bolt's client retries like Slotbot's own"
    # the token reaches each request through Slotbot's authorize, which asks Slack nothing
    result = await runtime.bolt._async_authorize(
        context=AsyncBoltContext(), enterprise_id=None, team_id="T1", user_id="U1"
    )
    assert result is not None and result.bot_token == slack.bot_token
    assert fake_slack.calls("auth.test") == []


async def test_slack_sdk_builds_no_debug_line_of_each_request(
    store: Store, fake_slack: FakeSlack
) -> None:
    """slack_sdk formats a debug line of every request (its body too) unless the logger its
    client uses has a level of its own above DEBUG: after setup, every such logger has."""
    settings = slack_settings(fake_slack)
    app = web.Application()
    services = Services(settings=settings, store=store, secrets=SecretBox([generate_key()]))
    app[SERVICES] = services
    setup(app, SlackSettings.from_env(settings.env))
    runtime = app[SLACK]
    webhook = AsyncWebhookClient("https://hooks.slack.invalid/x")
    delivery_client = web_client(fake_slack.api_url, "xoxb-test")
    for logger in (runtime.bolt.client.logger, delivery_client.logger, webhook.logger):
        assert logger.name in SDK_REQUEST_LOGGERS
        assert logger.level > logging.DEBUG, logger.name
