"""Teams' settings: read from the core's environment, validated with the variable named."""

from __future__ import annotations

import pytest

from adapters.teams.settings import TeamsSettings
from bot.errors import ConfigError

APP_ID = "00000000-0000-0000-0000-000000000001"


def test_defaults_leave_teams_off_and_say_why() -> None:
    teams = TeamsSettings.from_env({})
    assert not teams.enabled and "MICROSOFT_APP_ID" in (teams.off_reason or "")


def test_dev_mode_turns_teams_on_without_auth() -> None:
    teams = TeamsSettings.from_env({"TEAMS_DEV_MODE": "1"})
    assert teams.enabled and teams.unauthenticated


@pytest.mark.parametrize(
    ("name", "value"), [("MICROSOFT_APP_TYPE", "Everyone"), ("TEAMS_DEV_MODE", "maybe")]
)
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TeamsSettings.from_env({name: value})
    assert name in str(caught.value)


def test_combinations_that_cannot_work_are_named() -> None:
    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD"):
        TeamsSettings.from_env({"MICROSOFT_APP_ID": APP_ID})
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        TeamsSettings.from_env(
            {
                "MICROSOFT_APP_ID": APP_ID,
                "MICROSOFT_APP_PASSWORD": "pw",
                "MICROSOFT_APP_TYPE": "singletenant",
            }
        )
