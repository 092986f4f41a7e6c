"""The botbuilder configuration built from TeamsSettings, for each Azure Bot app type."""

from __future__ import annotations

import pytest

from adapters.teams.auth import auth_config, build_authentication
from adapters.teams.settings import TeamsSettings
from bot.errors import ConfigError

APP_ID = "6a0f1c55-4b0d-4e7a-9c2e-1f3d5b7a9c11"


def settings(**env: str) -> TeamsSettings:
    return TeamsSettings.from_env({"MICROSOFT_APP_ID": APP_ID, **env})


@pytest.mark.parametrize(
    "env",
    [
        {"MICROSOFT_APP_PASSWORD": "pw"},
        {
            "MICROSOFT_APP_PASSWORD": "pw",
            "MICROSOFT_APP_TYPE": "SingleTenant",
            "MICROSOFT_APP_TENANT_ID": "t1",
        },
        {"MICROSOFT_APP_TYPE": "UserAssignedMSI", "MICROSOFT_APP_TENANT_ID": "t1"},
    ],
    ids=["multi-tenant", "single-tenant", "managed-identity"],
)
async def test_each_app_type_builds_and_requires_a_token(env: dict[str, str]) -> None:
    config = auth_config(settings(**env))
    assert config.APP_ID == APP_ID
    assert config.APP_TYPE == settings(**env).app_type
    auth = build_authentication(settings(**env))
    from botbuilder.schema import Activity

    activity = Activity(type="message", channel_id="msteams", service_url="https://smba.example/")
    with pytest.raises(PermissionError):
        await auth.authenticate_request(activity, "")


def test_managed_identity_without_a_tenant_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        auth_config(settings(MICROSOFT_APP_TYPE="UserAssignedMSI"))


def test_settings_never_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "from-env")
    monkeypatch.setenv("APP_ID", "from-env")
    config = auth_config(settings(MICROSOFT_APP_PASSWORD="pw"))
    assert config.APP_ID == APP_ID


def test_endpoint_overrides_are_passed_through() -> None:
    base = settings(MICROSOFT_APP_PASSWORD="pw")
    config = auth_config(base, {"TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": "http://127.0.0.1:1/m"})
    assert config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL == "http://127.0.0.1:1/m"
    assert not hasattr(auth_config(base), "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")
