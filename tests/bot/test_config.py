"""Settings: defaults, validation messages that name the variable, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ConfigError


def test_defaults_on_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.public_url == "http://localhost:3978"
    assert (settings.host, settings.port) == ("0.0.0.0", 3978)
    assert settings.store_url == "sqlite:///data/slotbot.db"
    assert settings.sqlite_path == Path("data/slotbot.db")
    assert settings.data_dir == Path("data")
    assert not settings.slack_enabled and settings.slack_off_reason
    assert "SLACK_SIGNING_SECRET" in (settings.slack_off_reason or "")
    assert not settings.teams_enabled and "MICROSOFT_APP_ID" in (settings.teams_off_reason or "")
    assert settings.slack_api_url == "https://slack.com/api/"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_PORT", "eighty"),
        ("BOT_PORT", "70000"),
        ("BOT_PUBLIC_URL", "localhost:3978"),
        ("BOT_PUBLIC_URL", "ftp://bot.example.com"),
        ("BOT_STORE_URL", "postgres://db/slotbot"),
        ("BOT_STORE_URL", "sqlite:///"),
        ("LOG_LEVEL", "loud"),
        ("LOG_FORMAT", "xml"),
        ("MICROSOFT_APP_TYPE", "Everyone"),
        ("TEAMS_DEV_MODE", "maybe"),
        ("SLACK_API_URL", "not a url"),
        ("CRONOFY_API_URL", "api.cronofy.com"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)


def test_combinations_that_cannot_work_are_named() -> None:
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET"):
        Settings.from_env({"SLACK_CLIENT_ID": "123.456"})
    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD"):
        Settings.from_env({"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001"})
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        Settings.from_env(
            {
                "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
                "MICROSOFT_APP_PASSWORD": "pw",
                "MICROSOFT_APP_TYPE": "singletenant",
            }
        )


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "BOT_PUBLIC_URL": "https://bot.example.com/",
            "BOT_PORT": "8080",
            "BOT_ADMINS": "U1, U2 ,,",
            "BOT_STORE_URL": "redis://127.0.0.1:6379/2",
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "SLACK_SIGNING_SECRET": "s",
            "TEAMS_DEV_MODE": "1",
            "LOG_LEVEL": "DEBUG",
        }
    )
    assert settings.public_url == "https://bot.example.com"
    assert settings.port == 8080
    assert settings.admins == ("U1", "U2")
    assert settings.sqlite_path is None
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.slack_enabled and settings.teams_enabled
    assert settings.log_level == "debug"


def test_secrets_are_masked_when_printed() -> None:
    secrets = {
        "SLACK_SIGNING_SECRET": "signing-secret-value-123",
        "SLACK_BOT_TOKEN": "xoxb-token-value-456",
        "SLACK_CLIENT_ID": "111.222",
        "SLACK_CLIENT_SECRET": "client-secret-value-789",
        "SLACK_APP_TOKEN": "xapp-app-token-000",
        "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
        "MICROSOFT_APP_PASSWORD": "app-password-value-xyz",
        "BOT_SECRET_KEYS": "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=",
        "BOT_STORE_URL": "redis://:redis-password-abc@127.0.0.1:6379/0",
    }
    settings = Settings.from_env(secrets)
    printed = repr(settings) + str(settings) + str(settings.describe())
    for name, value in secrets.items():
        if name in ("SLACK_CLIENT_ID", "MICROSOFT_APP_ID"):
            continue
        secret_part = value.split(":")[2].split("@")[0] if name == "BOT_STORE_URL" else value
        assert secret_part not in printed, name
    assert "111.222" in printed  # ids are not secrets and help when debugging


def test_cronofy_timeout_is_validated() -> None:
    assert Settings.from_env({}).cronofy_timeout == 10.0
    assert Settings.from_env({"CRONOFY_TIMEOUT": "2.5"}).cronofy_timeout == 2.5
    for bad in ("soon", "0", "-1", "301"):
        with pytest.raises(ConfigError, match="CRONOFY_TIMEOUT"):
            Settings.from_env({"CRONOFY_TIMEOUT": bad})
