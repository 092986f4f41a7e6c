"""Doctor's judgement of a deployment from its settings alone."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.doctor import check_settings
from bot.secrets import generate_key

PRODUCTION = {
    "BOT_PUBLIC_URL": "https://slotbot.example.org",
    "BOT_SECRET_KEYS": generate_key(),
    "SLACK_SIGNING_SECRET": "signing",
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
}


def test_a_complete_production_setup_has_nothing_to_say() -> None:
    found = check_settings(Settings.from_env(PRODUCTION))
    assert found.problems == [] and found.warnings == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"SLACK_SIGNING_SECRET": "", "SLACK_BOT_TOKEN": ""}, "no chat platform is on"),
        ({"SLACK_BOT_TOKEN": ""}, "cannot post alerts"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "starts with xoxb-"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "starts with xapp-"),
        ({"BOT_PUBLIC_URL": "http://slotbot.example.org"}, "must be https://"),
    ],
)
def test_problems_are_named(change: dict[str, str], expected: str) -> None:
    found = check_settings(Settings.from_env({**PRODUCTION, **change}))
    assert any(expected in problem for problem in found.problems), found.problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"BOT_SECRET_KEYS": ""}, "development key"),
        ({"BOT_PUBLIC_URL": "http://localhost:3978"}, "only work on this machine"),
        (
            {"SLACK_SIGNING_SECRET": "", "SLACK_BOT_TOKEN": "", "TEAMS_DEV_MODE": "1"},
            "NOT authenticated",
        ),
    ],
)
def test_warnings_do_not_fail_a_development_machine(change: dict[str, str], expected: str) -> None:
    found = check_settings(Settings.from_env({**PRODUCTION, **change}))
    assert found.problems == []
    assert any(expected in warning for warning in found.warnings), found.warnings
