"""Slack's settings: read from the core's environment, validated with the variable named."""

from __future__ import annotations

import pytest

from adapters.slack.settings import SlackSettings
from bot.errors import ConfigError


def test_defaults_leave_slack_off_and_say_why() -> None:
    slack = SlackSettings.from_env({})
    assert not slack.enabled and "SLACK_SIGNING_SECRET" in (slack.off_reason or "")
    assert slack.api_url == "https://slack.com/api/"


def test_values_are_parsed() -> None:
    slack = SlackSettings.from_env(
        {"SLACK_API_URL": "http://127.0.0.1:9999/api", "SLACK_SIGNING_SECRET": "s"}
    )
    assert slack.api_url == "http://127.0.0.1:9999/api/"
    assert slack.enabled and slack.off_reason is None


def test_invalid_values_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="SLACK_API_URL"):
        SlackSettings.from_env({"SLACK_API_URL": "not a url"})


def test_client_id_and_secret_come_together() -> None:
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET"):
        SlackSettings.from_env({"SLACK_CLIENT_ID": "123.456"})
