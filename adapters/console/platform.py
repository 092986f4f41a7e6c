"""The console, as the core sees a platform (bot.platforms.Platform).

Installed, it is off: the core finds it through its entry point only to offer its subcommand,
`python -m bot console`, which builds an enabled one with the terminal to deliver to and hands
it to `create_app` itself. So `serve` and `doctor` list it as off and say how to run it.
"""

from __future__ import annotations

import sys

from aiohttp import web

from adapters.console.delivery import ConsoleDelivery
from adapters.console.workspace import NAME, org_id_for
from bot.config import Settings
from bot.platforms import Command, Findings
from bot.runtime import SERVICES
from cards import console as say


def run_console(argv: list[str]) -> int:
    """`python -m bot console …` (imported only when run)."""
    from adapters.console.main import main

    return main(argv)


class ConsolePlatform:
    """The terminal, as the core sees a platform (bot.platforms.Platform)."""

    name = NAME
    title = "Console"

    def __init__(self, delivery: ConsoleDelivery | None = None) -> None:
        self.delivery = delivery

    @property
    def enabled(self) -> bool:
        return self.delivery is not None

    @property
    def status(self) -> str:
        return say.STATUS_ON if self.enabled else say.STATUS_OFF

    def describe(self) -> dict[str, str]:
        return {}

    def check(self) -> Findings:
        return Findings()

    def setup(self, app: web.Application) -> None:
        if self.delivery is not None:
            app[SERVICES].delivery[NAME] = self.delivery

    def org_id(self, native_id: str) -> str:
        return org_id_for(native_id)

    def manifest(self, argv: list[str]) -> int:
        print(say.NO_MANIFEST, file=sys.stderr)
        return 2

    def commands(self) -> dict[str, Command]:
        return {NAME: run_console}


def platform(settings: Settings) -> ConsolePlatform:
    """The entry point the core finds the console by (pyproject.toml, `slotbot.platforms`):
    off, offering its subcommand."""
    return ConsolePlatform()
