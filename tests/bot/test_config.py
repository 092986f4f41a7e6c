"""Settings: defaults, validation messages that name the variable, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms import installed_platforms


def test_defaults_on_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.public_url == "http://localhost:3978"
    assert (settings.host, settings.port) == ("0.0.0.0", 3978)
    assert settings.store_url == "sqlite:///data/slotbot.db"
    assert settings.sqlite_path == Path("data/slotbot.db")
    assert settings.data_dir == Path("data")


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
        ("CRONOFY_API_URL", "api.cronofy.com"),
        ("BOT_REDIS_DURABILITY", "lenient"),
        ("BOT_REDIS_DURABILITY", "off"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)


def test_redis_durability_is_strict_unless_relaxed() -> None:
    assert Settings.from_env({}).redis_durability == "strict"
    assert Settings.from_env({"BOT_REDIS_DURABILITY": " Relaxed "}).redis_durability == "relaxed"
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"BOT_REDIS_DURABILITY": "none"})
    assert str(caught.value) == "BOT_REDIS_DURABILITY must be one of strict, relaxed, got 'none'"


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "BOT_PUBLIC_URL": "https://bot.example.com/",
            "BOT_PORT": "8080",
            "BOT_ADMINS": "U1, U2 ,,",
            "BOT_STORE_URL": "redis://127.0.0.1:6379/2",
            "LOG_LEVEL": "DEBUG",
        }
    )
    assert settings.public_url == "https://bot.example.com"
    assert settings.port == 8080
    assert settings.admins == ("U1", "U2")
    assert settings.sqlite_path is None
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
    described = {**settings.describe()}
    for platform in installed_platforms(settings):
        described.update(platform.describe())
    printed = repr(settings) + str(settings) + str(described)
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
