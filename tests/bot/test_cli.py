"""`python -m bot <name>` runs the subcommands installed platforms offer beside the core's."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from bot import cli
from bot.config import Settings
from bot.platforms import Command, Findings, Platform, platform_commands


class Offering:
    """A platform that offers subcommands and does nothing else."""

    title = "Offering"
    enabled = False
    status = "off"

    def __init__(self, name: str, commands: dict[str, Command]) -> None:
        self.name = name
        self._commands = commands

    def describe(self) -> dict[str, str]:
        return {}

    def check(self) -> Findings:
        return Findings()

    def setup(self, app: web.Application) -> None:
        raise AssertionError("not served")

    def org_id(self, native_id: str) -> str:
        return f"{self.name}:{native_id}"

    def manifest(self, argv: list[str]) -> int:
        return 2

    def commands(self) -> dict[str, Command]:
        return self._commands


@pytest.fixture
def ran() -> list[tuple[str, list[str]]]:
    return []


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, ran: list[tuple[str, list[str]]]) -> list[Any]:
    def command(label: str, code: int) -> Command:
        def run(argv: list[str]) -> int:
            ran.append((label, argv))
            return code

        return run

    platforms: list[Any] = [
        Offering("first", {"hello": command("first hello", 3), "serve": command("not core", 9)}),
        Offering("second", {"hello": command("second hello", 4), "bye": command("bye", 0)}),
    ]
    seen: list[Settings] = []

    def installed_platforms(settings: Settings) -> list[Platform]:
        seen.append(settings)
        return platforms

    monkeypatch.setattr(cli, "installed_platforms", installed_platforms)
    return seen


def test_a_platform_command_runs_with_the_rest_of_the_line(
    installed: list[Settings], ran: list[tuple[str, list[str]]]
) -> None:
    assert cli.main(["hello", "--flag", "x"]) == 3
    assert cli.main(["bye"]) == 0
    # two platforms offering one name: the first's (platforms come in name order)
    assert ran == [("first hello", ["--flag", "x"]), ("bye", [])]


def test_a_core_command_is_never_taken_over(
    monkeypatch: pytest.MonkeyPatch, installed: list[Settings], ran: list[tuple[str, list[str]]]
) -> None:
    monkeypatch.setitem(cli.COMMANDS, "serve", lambda argv: 42)
    assert cli.main(["serve"]) == 42
    assert ran == []
    assert installed == []  # the core's own commands do not load the platforms


def test_help_lists_them_and_an_unknown_name_exits_2(
    installed: list[Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--help"]) == 0
    # argparse wraps the help where it likes: compare the words
    assert "from the installed platforms: bye, hello" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit) as unknown:
        cli.main(["nonesuch"])
    assert unknown.value.code == 2


def test_a_wrong_variable_does_not_hide_them(
    monkeypatch: pytest.MonkeyPatch, installed: list[Settings], ran: list[tuple[str, list[str]]]
) -> None:
    monkeypatch.setenv("BOT_PORT", "not-a-port")
    assert cli.main(["bye"]) == 0
    assert installed[-1] == Settings()


def test_platform_commands_leave_taken_names_out() -> None:
    def noop(argv: list[str]) -> int:
        return 0

    offers: list[Any] = [Offering("a", {"x": noop, "doctor": noop}), Offering("b", {"y": noop})]
    assert set(platform_commands(offers, taken=cli.COMMANDS)) == {"x", "y"}
