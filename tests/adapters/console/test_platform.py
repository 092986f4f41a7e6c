"""The console as the core sees a platform: off when installed, on in its own session."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from adapters.console import ConsolePlatform, platform
from adapters.console.delivery import ConsoleDelivery
from adapters.console.main import main
from adapters.console.screen import Screen
from adapters.console.workspace import Workspace
from bot.app import create_app, feature_report
from bot.config import Settings
from bot.doctor import check_settings
from bot.platforms import Platform
from bot.runtime import SERVICES
from bot.secrets import generate_key


def test_installed_it_is_off_and_says_how_to_run_it() -> None:
    settings = Settings.from_env({})
    console = platform(settings)
    assert isinstance(console, Platform)
    assert (console.name, console.title, console.enabled) == ("console", "Console", False)
    assert "python -m bot console" in console.status
    assert ("Console", False, console.status) in feature_report(settings, [console])
    assert console.describe() == {}


def test_it_never_counts_as_a_chat_platform_for_doctor() -> None:
    found = check_settings(Settings.from_env({}), [platform(Settings.from_env({}))])
    assert any("no chat platform is on" in problem for problem in found.problems)
    assert platform(Settings.from_env({})).check().problems == []


def test_it_offers_its_subcommand_and_no_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    console = platform(Settings.from_env({}))
    assert set(console.commands()) == {"console"}
    assert console.manifest([]) == 2
    assert "python -m bot console" in capsys.readouterr().err
    assert console.org_id("local") == "console:local"


def test_in_its_session_it_is_on_and_delivers_to_the_terminal(tmp_path: Path) -> None:
    delivery = ConsoleDelivery(Screen(io.StringIO()), Workspace())
    console = ConsolePlatform(delivery)
    assert console.enabled and "127.0.0.1" in console.status
    settings = Settings.from_env(
        {"BOT_STORE_URL": f"sqlite:///{tmp_path / 'slotbot.db'}", "BOT_SECRET_KEYS": generate_key()}
    )
    app = create_app(settings, platforms=[console], features=[])
    assert app[SERVICES].delivery == {"console": delivery}


def test_help_and_unknown_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as helped:
        main(["--help"])
    assert helped.value.code == 0
    assert "127.0.0.1" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["--no-such-option"])
    assert refused.value.code == 2
