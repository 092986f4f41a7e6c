"""`backup` and `restore`: a store into one file and back, so a team can move, inspect or
roll back what Slotbot holds.

Two kinds of file:
- a SQLite store is backed up with SQLite's online backup API: a consistent copy of the
  database while Slotbot keeps serving (in WAL mode the copy's read does not block writers),
  as a single database file (journal mode DELETE), checked with `PRAGMA quick_check`;
- any store (Redis always) can write a portable dump: JSON Lines, one header line, one line
  per record (`transfer.item_to_dict`), and a last line with the count of each kind and the
  SHA-256 of everything before it.

A backup file is read whole and checked (format, schema version, every line, counts,
checksum) before anything is written: a damaged, cut-short or foreign file is refused with
nothing overwritten. A file from a newer schema is refused; an older one is restored as it
was and then migrated, the way Slotbot migrates a store at start.

Backups hold candidates' personal data and encrypted secrets: they are created 0600.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from bot.errors import StoreTooNew, TransferError
from bot.store.base import Store
from bot.store.copying import fill, make_room
from bot.store.migrations import SCHEMA_VERSION, refuse_newer
from bot.store.sqlite import FILE_MODE, SQLiteStore
from bot.store.sqlite import schema as sqlite_schema
from bot.store.sqlite import transfer as sqlite_transfer
from bot.store.sqlite.schema import SQLiteStep
from bot.store.transfer import (
    BATCH,
    Counts,
    Item,
    compare_counts,
    encode_item,
    item_from_dict,
    kind_of,
    zero_counts,
)

DUMP_FORMAT = "slotbot-backup"
DUMP_FORMAT_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
_REQUIRED_TABLES = frozenset({"schema_version", "orgs", "members", "outbox"})

Kind = Literal["sqlite", "dump"]


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: Kind
    schema_version: int
    counts: Counts
    created_at: float | None = None


@dataclass(frozen=True)
class RestoreReport:
    backup: BackupInfo
    restored: Counts
    target: Counts
    problems: list[str]


# writing ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _new_private_file(dest: Path) -> Iterator[Path]:
    """A 0600 file beside `dest`, renamed onto it once complete; never overwrites."""
    if dest.exists():
        raise TransferError(f"{dest} already exists; choose another name (nothing was written)")
    if not dest.parent.is_dir():
        raise TransferError(f"cannot write {dest}: {dest.parent} is not a folder")
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    part = Path(name)
    os.chmod(part, FILE_MODE)
    try:
        yield part
        if dest.exists():
            raise TransferError(f"{dest} appeared while the backup was written; kept it")
        part.rename(dest)
    finally:
        part.unlink(missing_ok=True)


def backup_sqlite(database: Path, dest: Path) -> BackupInfo:
    """Copy a SQLite store with the online backup API (safe while Slotbot serves)."""
    if not database.is_file():
        raise TransferError(f"there is no SQLite store at {database}")
    with _new_private_file(dest) as part:
        source = sqlite3.connect(f"file:{quote(str(database.resolve()))}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(part)
            try:
                source.backup(target)  # one step: one read transaction, a consistent copy
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                target.close()
        except sqlite3.Error as exc:
            raise TransferError(f"cannot back up {database}: {exc}") from None
        finally:
            source.close()
        info = _inspect_sqlite(part)
    return BackupInfo(dest, "sqlite", info.schema_version, info.counts, time.time())


async def write_dump(store: Store, dest: Path) -> BackupInfo:
    """Every record of an open store, as a portable dump."""
    status = await store.schema_status()
    counts = zero_counts()
    created = time.time()
    with _new_private_file(dest) as part, part.open("w", encoding="utf-8") as out:
        digest = hashlib.sha256()

        def line(text: str) -> None:
            data = text + "\n"
            digest.update(data.encode("utf-8"))
            out.write(data)

        header = {
            "format": DUMP_FORMAT,
            "format_version": DUMP_FORMAT_VERSION,
            # an empty store (version 0) dumps as the version its records would have
            "schema_version": status.store_version or status.code_version,
            "created_at": created,
            "source": store.where,
        }
        line(json.dumps(header, sort_keys=True))
        async for batch in store.export_records():
            for item in batch:
                counts[kind_of(item)] += 1
                line(encode_item(item))
        trailer = {"end": True, "counts": counts, "sha256": digest.hexdigest()}
        out.write(json.dumps(trailer, sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return BackupInfo(dest, "dump", status.store_version or status.code_version, counts, created)


# reading ----------------------------------------------------------------------------------


def inspect_backup(path: Path, code_version: int = SCHEMA_VERSION) -> BackupInfo:
    """Read a backup file whole and check it; TransferError for anything that is not a
    complete Slotbot backup, or one from a schema newer than `code_version`. Writes nothing."""
    try:
        with path.open("rb") as handle:
            start = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise TransferError(f"cannot read {path}: {exc.strerror}") from None
    if start == SQLITE_MAGIC:
        with tempfile.TemporaryDirectory() as folder:
            staged = Path(folder) / "backup.db"
            shutil.copyfile(path, staged)  # read a copy: opening may touch the file
            info = _inspect_sqlite(staged, code_version)
        return BackupInfo(path, "sqlite", info.schema_version, info.counts, None)
    if start.startswith(b"{"):
        return _inspect_dump(path, code_version)
    raise TransferError(f"{path} is not a Slotbot backup (neither a SQLite store nor a dump)")


def _inspect_sqlite(path: Path, code_version: int = SCHEMA_VERSION) -> BackupInfo:
    try:
        db = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise TransferError(f"{path} cannot be opened as SQLite: {exc}") from None
    try:
        if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise TransferError(f"{path} is damaged (SQLite quick_check failed)")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not _REQUIRED_TABLES <= tables:
            raise TransferError(f"{path} is a SQLite file, but not a Slotbot store")
        version = sqlite_schema.read_version(db)
        _refuse_newer_backup(path, version, code_version)
        counts = sqlite_transfer.count(db, time.time())
    except sqlite3.Error as exc:
        raise TransferError(f"{path} is not a readable Slotbot store: {exc}") from None
    finally:
        db.close()
    return BackupInfo(path, "sqlite", version, counts)


def _refuse_newer_backup(path: Path, version: int, code_version: int) -> None:
    try:
        refuse_newer(f"the backup {path}", version, code_version)
    except StoreTooNew as exc:
        raise TransferError(f"{exc} Nothing was restored.") from None


def _dump_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        yield from enumerate(handle, start=1)


def _inspect_dump(path: Path, code_version: int) -> BackupInfo:
    digest = hashlib.sha256()
    counts = zero_counts()
    header: dict[str, Any] | None = None
    trailer: dict[str, Any] | None = None
    for number, raw in _dump_lines(path):
        if trailer is not None:
            raise TransferError(f"{path} goes on after its last line (line {number})")
        try:
            data = json.loads(raw)
        except ValueError:
            raise TransferError(f"{path} line {number} is not JSON: the file is damaged") from None
        if not isinstance(data, dict):
            raise TransferError(f"{path} line {number} is not a record")
        if header is None:
            if data.get("format") != DUMP_FORMAT:
                raise TransferError(f"{path} is not a Slotbot backup")
            if data.get("format_version") != DUMP_FORMAT_VERSION:
                raise TransferError(
                    f"{path} is a backup format this Slotbot does not read "
                    f"({data.get('format_version')!r})"
                )
            version = data.get("schema_version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise TransferError(f"{path} does not say its schema version")
            _refuse_newer_backup(path, data["schema_version"], code_version)
            header = data
        elif data.get("end") is True:
            trailer = data
            continue
        else:
            counts[kind_of(_item(path, number, data))] += 1
        digest.update(raw)
    if header is None or trailer is None:
        raise TransferError(f"{path} is cut short (no last line): nothing was restored")
    if trailer.get("sha256") != digest.hexdigest():
        raise TransferError(f"{path} does not match its checksum: the file is damaged")
    if trailer.get("counts") != counts:
        raise TransferError(f"{path} holds other records than its last line counts")
    return BackupInfo(path, "dump", int(header["schema_version"]), counts, header.get("created_at"))


def _item(path: Path, number: int, data: dict[str, Any]) -> Item:
    try:
        return item_from_dict(data)
    except TransferError as exc:
        raise TransferError(f"{path} line {number}: {exc}") from None


async def _dump_items(path: Path) -> AsyncIterator[list[Item]]:
    batch: list[Item] = []
    for number, raw in _dump_lines(path):
        data = json.loads(raw)
        if number == 1 or data.get("end") is True:
            continue
        batch.append(_item(path, number, data))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# restoring --------------------------------------------------------------------------------


async def restore(
    path: Path,
    target: Store,
    *,
    force: bool = False,
    steps: tuple[SQLiteStep, ...] = sqlite_schema.STEPS,
) -> RestoreReport:
    """Replace what the open `target` holds with the backup's records (refused when it holds
    any, unless forced). A backup from an older schema is brought to this one on a staging
    copy first; the target itself only ever receives records of its own version."""
    info = inspect_backup(path, steps[-1].info.version)
    await make_room(target, force=force)  # refuse before the slow part, not after it
    with tempfile.TemporaryDirectory() as folder:
        staged: SQLiteStore | None = None
        if info.kind == "sqlite":
            staged = SQLiteStore(str(Path(folder) / "staged.db"), steps=steps)
            shutil.copyfile(path, Path(folder) / "staged.db")
            await staged.open()  # migrates it, if the backup is older
        elif info.schema_version < steps[-1].info.version:
            # stage the dump at its own version, then migrate it like any store
            at_its_version = steps[: info.schema_version]
            first = SQLiteStore(str(Path(folder) / "staged.db"), steps=at_its_version)
            await first.open()
            try:
                await fill(first, _dump_items(path), force=False)
            finally:
                await first.close()
            staged = SQLiteStore(str(Path(folder) / "staged.db"), steps=steps)
            await staged.open()
        try:
            batches = staged.export_records() if staged is not None else _dump_items(path)
            restored = await fill(target, batches, force=force)
            expected = await staged.count_records() if staged is not None else info.counts
        finally:
            if staged is not None:
                await staged.close()
    after = await target.count_records()
    return RestoreReport(info, restored, after, compare_counts(expected, after))
