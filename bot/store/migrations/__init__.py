"""Schema versions and numbered migrations, the same numbers for every store.

Each store records the schema version of what it holds (SQLite: the `schema_version` table;
Redis: the `<prefix>schema_version` key). Version 1 is the layout of the first release. Every
later change to what a store holds is one numbered step in `bot.store.sqlite.schema.STEPS`
and `bot.store.redis.schema.STEPS`, and `SCHEMA_VERSION` is the highest number: a store is
opened only once it is at that version (`serve` and `worker` migrate it at start, under a
lock, so one process migrates while the others wait), and a store at a higher version,
written by a newer Slotbot, is refused rather than half understood.

How the steps run differs by store, which is why each store has its own list:
- SQLite runs every pending step in one transaction: a step that fails rolls them all back,
  and the store stays at the version it had.
- Redis has no multi-key rollback, so each step must be safe to run again over its own partial
  work; the version is recorded after each step, and a failed run resumes at the step that
  failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import logs
from bot.errors import StoreTooNew

log = logging.getLogger(__name__)

# The schema version this Slotbot reads and writes. Adding a migration: append a step with
# the next number to both stores' schema.STEPS (bot/store/sqlite/schema.py and
# bot/store/redis/schema.py), raise this, and extend the version-1 fixture test
# (tests/bot/store/test_fixture_v1.py) to check what it changed.
SCHEMA_VERSION = 4


@dataclass(frozen=True)
class StepInfo:
    """What a step is called, for `migrate --status` and error messages."""

    version: int
    title: str

    def __str__(self) -> str:
        return f"{self.version} ({self.title})"


@dataclass(frozen=True)
class SchemaStatus:
    """Where a store stands against this Slotbot."""

    store_version: int  # 0: nothing written yet (a new, empty store)
    code_version: int
    pending: tuple[StepInfo, ...]

    @property
    def too_new(self) -> bool:
        return self.store_version > self.code_version

    @property
    def current(self) -> bool:
        return self.store_version == self.code_version


@dataclass(frozen=True)
class MigrationReport:
    """What `migrate` did (or, with dry_run, would do)."""

    from_version: int
    to_version: int
    applied: tuple[StepInfo, ...]
    dry_run: bool = False


def pending_steps(steps: tuple[StepInfo, ...], store_version: int) -> tuple[StepInfo, ...]:
    return tuple(step for step in steps if step.version > store_version)


def refuse_newer(where: str, store_version: int, code_version: int = SCHEMA_VERSION) -> None:
    """Raise StoreTooNew for a store written by a newer Slotbot."""
    if store_version > code_version:
        raise StoreTooNew(
            f"{where} has schema version {store_version}, written by a newer Slotbot; this "
            f"Slotbot knows versions up to {code_version}. Run the newer Slotbot, or restore "
            "a backup taken before the upgrade."
        )


def check_numbering(steps: tuple[StepInfo, ...]) -> None:
    """Steps are numbered 1..N with no gap and N == SCHEMA_VERSION (checked at import)."""
    numbers = [step.version for step in steps]
    if numbers != list(range(1, SCHEMA_VERSION + 1)):
        raise RuntimeError(f"migration steps are numbered {numbers}, not 1..{SCHEMA_VERSION}")


def log_migration(where: str, report: MigrationReport) -> None:
    """One line at start when a store was migrated; nothing when it was already current.

    A new, empty store is "migrated" from version 0 too: the line says where it was made."""
    if report.applied and not report.dry_run:
        steps = ", ".join(str(step) for step in report.applied)
        log.info(logs.STORE_MIGRATED, where, report.from_version, report.to_version, steps)
