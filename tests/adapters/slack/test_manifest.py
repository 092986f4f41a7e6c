"""The Slack app manifest validates against Slack's own schema, with URLs filled in."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from adapters.slack import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
from adapters.slack.listeners import EVENTS
from adapters.slack.manifest import build_manifest, main
from tests.support.schemas import slack_manifest_validator


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return slack_manifest_validator()


def _errors(validator: jsonschema.Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(manifest)]


def test_manifest_with_urls_is_valid_and_points_at_the_deployment(
    validator: jsonschema.Draft7Validator,
) -> None:
    manifest = build_manifest("https://slotbot.acme.test/")
    assert _errors(validator, manifest) == []
    base = "https://slotbot.acme.test"
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/schedule", "/cronofy"}
    assert all(c["url"] == base + EVENTS_PATH for c in commands.values())
    assert all(c["usage_hint"] for c in commands.values())
    assert manifest["settings"]["event_subscriptions"]["request_url"] == base + EVENTS_PATH
    assert manifest["settings"]["interactivity"]["request_url"] == base + EVENTS_PATH
    assert manifest["oauth_config"]["redirect_urls"] == [base + REDIRECT_PATH]
    # the events Slack is asked for are the ones Slotbot listens to
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(EVENTS)
    assert set(EVENTS) == {"app_home_opened", "app_uninstalled", "tokens_revoked", "user_change"}
    # the scopes the OAuth install asks for are the ones the manifest grants
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert "bot.example.com" not in json.dumps(manifest)


def test_socket_mode_manifest_has_no_request_urls(validator: jsonschema.Draft7Validator) -> None:
    manifest = build_manifest("https://bot.example.com", socket_mode=True)
    assert _errors(validator, manifest) == []
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "https://" not in json.dumps(manifest["settings"])
    assert all("url" not in c for c in manifest["features"]["slash_commands"])


def test_schema_catches_a_broken_manifest(validator: jsonschema.Draft7Validator) -> None:
    manifest = build_manifest("https://slotbot.acme.test")
    manifest["features"]["slash_commands"][0]["command"] = "schedule"  # no leading slash
    assert _errors(validator, manifest)


def test_cli_prints_yaml_with_the_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", "https://slotbot.acme.test"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == build_manifest("https://slotbot.acme.test")


def test_cli_through_the_bot_command(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import manifest_main as manifests_main

    assert manifests_main(["slack", "--url", "https://slotbot.acme.test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["interactivity"]["request_url"] == (
        "https://slotbot.acme.test/slack/events"
    )


@pytest.mark.parametrize(
    "url", ["http://slotbot.acme.test", "slotbot.acme.test", "https://x.test/?a=1"]
)
def test_cli_refuses_a_url_slack_cannot_call(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--url", url])
    assert exc.value.code == 2
    assert "--url" in capsys.readouterr().err


def test_cli_needs_a_url_or_socket_mode(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([])
    assert "--url is required" in capsys.readouterr().err
