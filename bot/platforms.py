"""Chat platforms: what an adapter implements, and how the core finds the installed ones.

A platform is one package under `adapters/` exposing a factory `(Settings) -> Platform`,
declared in pyproject.toml under the entry-point group `slotbot.platforms`. The core knows
platforms only through this interface: it never names one, and adding a platform changes
nothing in `bot/`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.config import Settings

ENTRY_POINTS = "slotbot.platforms"

# a subcommand's entry: `python -m bot <name> …` runs it with the rest of the command line and
# exits with what it returns
Command = Callable[[list[str]], int]


@dataclass
class Findings:
    """What `doctor` says: problems make it exit 1, warnings are printed only."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, other: Findings) -> None:
        self.problems += other.problems
        self.warnings += other.warnings


@runtime_checkable
class Platform(Protocol):
    """One chat platform: its settings, its routes and lifecycle, its delivery, its orgs."""

    @property
    def name(self) -> str:
        """Lower-case id: org ids start with it (`<name>:<native id>`), and delivery targets
        and message references carry it."""

    @property
    def title(self) -> str:
        """What people call it, for logs and `doctor`."""

    @property
    def enabled(self) -> bool:
        """Whether its settings turn it on."""

    @property
    def status(self) -> str:
        """How it runs when on, or what to set to turn it on."""

    def describe(self) -> dict[str, str]:
        """Its settings as text, secrets masked."""

    def check(self) -> Findings:
        """What is wrong (or risky) with its settings, in plain words; no I/O."""

    def setup(self, app: web.Application) -> None:
        """Add its routes and lifecycle to the app, and register its delivery adapter in
        `app[SERVICES].delivery[name]`. Called only when enabled."""

    def org_id(self, native_id: str) -> str:
        """The org id of a workspace / tenant the platform names `native_id`."""

    def manifest(self, argv: list[str]) -> int:
        """`python -m bot manifest <name> …`: print or write the app's manifest."""

    def commands(self) -> dict[str, Command]:
        """Subcommands of its own, by name (`python -m bot <name> …`), each imported only
        when run; {} for none. A name the core already uses is never run. No I/O: the core
        asks whether or not the platform's settings turn it on."""


PlatformFactory = Callable[[Settings], Platform]


def installed_platforms(settings: Settings) -> list[Platform]:
    """Every installed platform, built from `settings` (ConfigError names a bad variable),
    in name order; enabled or not."""
    found = sorted(entry_points(group=ENTRY_POINTS), key=lambda point: point.name)
    factories: list[PlatformFactory] = [point.load() for point in found]
    return [factory(settings) for factory in factories]


def enabled(platforms: list[Platform]) -> list[Platform]:
    return [platform for platform in platforms if platform.enabled]


def platform_commands(platforms: list[Platform], taken: Collection[str] = ()) -> dict[str, Command]:
    """The subcommands the platforms add, by name, leaving out the names in `taken` (the
    core's own) and, when two platforms offer one name, keeping the first's."""
    found: dict[str, Command] = {}
    for platform in platforms:
        for name, command in platform.commands().items():
            if name not in taken and name not in found:
                found[name] = command
    return found
