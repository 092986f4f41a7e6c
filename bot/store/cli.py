"""`python -m bot migrate`, `store copy`, `backup` and `restore`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.config import Settings, check_store_url, redis_durability
from bot.errors import ConfigError, SlotbotError
from bot.secrets import DEV_KEY_FILE
from bot.store import open_store, sqlite_path_of, store_for_url
from bot.store.backup import BackupInfo, backup_sqlite, inspect_backup, restore, write_dump
from bot.store.base import Store
from bot.store.copying import copy_store
from bot.store.migrations import MigrationReport, SchemaStatus, refuse_newer
from bot.store.transfer import KINDS, Counts


def _run(work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        return asyncio.run(work())
    except (SlotbotError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _settings() -> Settings:
    from bot.cli import settings_or_exit

    return settings_or_exit()


def _missing_sqlite(url: str) -> Path | None:
    """The path of a SQLite store that does not exist yet (None for Redis, or when it does)."""
    path = sqlite_path_of(url)
    return path if path is not None and not path.exists() else None


def _counts_table(columns: dict[str, Counts]) -> str:
    head = f"  {'record kind':14}" + "".join(f"{name:>10}" for name in columns)
    rows = [
        f"  {kind:14}" + "".join(f"{counts.get(kind, 0):>10}" for counts in columns.values())
        for kind in KINDS
    ]
    return "\n".join([head, *rows])


# migrate ----------------------------------------------------------------------------------


def _describe(status: SchemaStatus) -> str:
    if status.too_new:
        return (
            f"schema version {status.store_version}, written by a newer Slotbot (this one "
            f"knows up to {status.code_version}): it will not start on it"
        )
    if status.current:
        return f"schema version {status.store_version}: up to date"
    steps = ", ".join(str(step) for step in status.pending)
    return (
        f"schema version {status.store_version}; this Slotbot uses {status.code_version}: "
        f"`serve` or `migrate` will apply step(s) {steps}"
    )


def _report(report: MigrationReport) -> str:
    if not report.applied:
        return f"already at schema version {report.to_version}: nothing to do"
    steps = ", ".join(str(step) for step in report.applied)
    if report.dry_run:
        return (
            f"dry run: step(s) {steps} would take the store from schema version "
            f"{report.from_version} to {report.to_version}; nothing was changed"
        )
    return f"migrated from schema version {report.from_version} to {report.to_version}: {steps}"


def migrate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot migrate",
        description="Bring the store named by BOT_STORE_URL to this Slotbot's schema version "
        "(serve and worker also do this at start).",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--status", action="store_true", help="say where the store stands")
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would change (SQLite: run the steps, then roll them back)",
    )
    args = parser.parse_args(argv)
    settings = _settings()
    missing = _missing_sqlite(settings.store_url)
    if missing is not None and (args.status or args.dry_run):
        print(f"no store at {missing} yet: `serve` creates it at the current schema version")
        return 0

    async def work() -> int:
        store = open_store(settings)
        await store.open(migrate=False)
        try:
            print(f"store: {store.where}")
            status = await store.schema_status()
            if args.status:
                print(_describe(status))
                return 1 if status.too_new else 0
            print(_report(await store.migrate(dry_run=args.dry_run)))
            return 0
        finally:
            await store.close()

    return _run(work)


# store copy -------------------------------------------------------------------------------


def store_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot store",
        description="Move what Slotbot holds between stores (from one process to several: "
        "SQLite to Redis).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    copy = sub.add_parser(
        "copy",
        help="copy every record from one store to another, then compare the counts",
        description="Copy every record (secrets still encrypted, pending jobs still pending) "
        "from one store to another, then count each kind on both sides. Stop Slotbot first: "
        "what arrives during the copy is not copied.",
    )
    copy.add_argument("source", help="sqlite:///path/to/slotbot.db or redis://host:port/db")
    copy.add_argument("target", help="sqlite:///path/to/slotbot.db or redis://host:port/db")
    copy.add_argument(
        "--force", action="store_true", help="replace whatever the target holds already"
    )
    args = parser.parse_args(argv)
    try:
        source_url = check_store_url(args.source, "the source")
        target_url = check_store_url(args.target, "the target")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if source_url == target_url:
        print("error: the source and the target are the same store", file=sys.stderr)
        return 2
    missing = _missing_sqlite(source_url)
    if missing is not None:
        print(f"error: there is no SQLite store at {missing}", file=sys.stderr)
        return 1

    async def work() -> int:
        # the target is checked as `serve` would check it (BOT_REDIS_DURABILITY)
        durability = redis_durability()
        source = store_for_url(source_url)
        target = store_for_url(target_url, redis_durability=durability)
        await source.open(migrate=False)
        try:
            await target.open()
            try:
                print(f"copying {source.where}\n     to {target.where}")
                report = await copy_store(source, target, force=args.force)
            finally:
                await target.close()
        finally:
            await source.close()
        print(
            _counts_table(
                {"copied": report.copied, "source": report.source, "target": report.target}
            )
        )
        _key_reminder(source_url)
        if report.problems:
            print("✗ the counts differ: " + "; ".join(report.problems), file=sys.stderr)
            return 1
        print("✓ every kind of record is in the target")
        return 0

    return _run(work)


def _key_reminder(source_url: str) -> None:
    """Records are copied still encrypted: the target needs the same keys to read them."""
    path = sqlite_path_of(source_url)
    if path is not None and (path.parent / DEV_KEY_FILE).exists():
        print(
            f"note: secrets in the copy are encrypted as they were; if {path.parent / DEV_KEY_FILE} "
            "is the key that made them (no BOT_SECRET_KEYS was set), set BOT_SECRET_KEYS to "
            "its content wherever the target is served"
        )


# backup and restore -----------------------------------------------------------------------


def _show(info: BackupInfo) -> None:
    kind = "SQLite database" if info.kind == "sqlite" else "portable dump"
    print(f"{info.path}: {kind}, schema version {info.schema_version}")
    print(_counts_table({"records": info.counts}))


def backup_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot backup",
        description="Write what the store named by BOT_STORE_URL holds to a new file (0600): "
        "a SQLite store as a SQLite database (safe while Slotbot serves), Redis as a "
        "portable dump.",
    )
    parser.add_argument("file", type=Path, help="the backup file to create (never overwritten)")
    parser.add_argument(
        "--portable",
        action="store_true",
        help="write a portable dump (JSON Lines) from a SQLite store too",
    )
    args = parser.parse_args(argv)
    settings = _settings()
    path = sqlite_path_of(settings.store_url)
    if path is not None and not path.exists():
        print(f"error: there is no SQLite store at {path}", file=sys.stderr)
        return 1

    async def work() -> int:
        if path is not None and not args.portable:
            info = await asyncio.to_thread(backup_sqlite, path, args.file)
        else:
            store = open_store(settings)
            await store.open(migrate=False)
            try:
                await _refuse_too_new(store)
                info = await write_dump(store, args.file)
            finally:
                await store.close()
        _show(info)
        print(f"✓ backed up to {args.file}")
        return 0

    return _run(work)


async def _refuse_too_new(store: Store) -> None:
    status = await store.schema_status()
    refuse_newer(store.where, status.store_version, status.code_version)


def restore_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot restore",
        description="Put a backup's records into the store named by BOT_STORE_URL. Stop "
        "Slotbot first. The file is checked whole before anything is written.",
    )
    parser.add_argument("file", type=Path, help="a file made by `python -m bot backup`")
    parser.add_argument(
        "--force", action="store_true", help="replace whatever the store holds already"
    )
    args = parser.parse_args(argv)
    settings = _settings()

    async def work() -> int:
        _show(await asyncio.to_thread(inspect_backup, args.file))
        store = open_store(settings)
        await store.open()
        try:
            print(f"restoring into {store.where}")
            report = await restore(args.file, store, force=args.force)
        finally:
            await store.close()
        print(_counts_table({"restored": report.restored, "store": report.target}))
        if report.problems:
            print("✗ the counts differ: " + "; ".join(report.problems), file=sys.stderr)
            return 1
        print("✓ restored")
        return 0

    return _run(work)
