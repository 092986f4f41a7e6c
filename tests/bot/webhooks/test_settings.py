"""The BOT_WEBHOOK_* variables: read with defaults, refused with the variable named, and
`doctor` says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.doctor import check_settings
from bot.errors import ConfigError
from bot.webhooks.settings import WebhookSettings


def _settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_defaults() -> None:
    assert WebhookSettings.of(_settings()) == WebhookSettings(False, None, 10.0)


def test_values(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-")
    got = WebhookSettings.of(
        _settings(
            BOT_WEBHOOK_ALLOW_LOOPBACK="1",
            BOT_WEBHOOK_CA_BUNDLE=str(bundle),
            BOT_WEBHOOK_TIMEOUT="2.5",
        )
    )
    assert got == WebhookSettings(True, str(bundle), 2.5)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BOT_WEBHOOK_ALLOW_LOOPBACK": "maybe"}, "BOT_WEBHOOK_ALLOW_LOOPBACK"),
        ({"BOT_WEBHOOK_TIMEOUT": "0"}, "BOT_WEBHOOK_TIMEOUT"),
        ({"BOT_WEBHOOK_TIMEOUT": "soon"}, "BOT_WEBHOOK_TIMEOUT"),
        ({"BOT_WEBHOOK_CA_BUNDLE": "/no/such/file.pem"}, "BOT_WEBHOOK_CA_BUNDLE"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        WebhookSettings.of(_settings(**env))
    assert any(named in problem for problem in check_settings(_settings(**env), []).problems)


def test_doctor_warns_of_loopback() -> None:
    found = check_settings(_settings(BOT_WEBHOOK_ALLOW_LOOPBACK="1"), [])
    assert any("BOT_WEBHOOK_ALLOW_LOOPBACK" in warning for warning in found.warnings)
