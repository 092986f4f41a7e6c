"""The SQLite store's connection and lifecycle: one file in WAL mode, one connection, used on
the store's own thread (`thread`), opened, migrated (`schema`) and closed here; and the
decorator that reports a database failure as the store error callers expect."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from functools import partial, update_wrapper
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from bot import jsonio
from bot.errors import StoreError, StoreUnavailable
from bot.store.migrations import MigrationReport, SchemaStatus, log_migration
from bot.store.sqlite import rows, schema
from bot.store.sqlite.checkpoint import BACKSTOP_PAGES, WAL_SIZE_LIMIT, WalCheckpointer
from bot.store.sqlite.schema import SQLiteStep
from bot.store.sqlite.thread import Outcome, StoreThread

# WAL with synchronous=NORMAL: a COMMIT returns once the transaction is in the WAL file, that
# is in the operating system's hands, so an accepted callback survives the Slotbot process
# being killed (kill -9, the OOM killer, a crash): the failure this store is built to survive.
# The WAL is fsynced at each checkpoint; a power cut or kernel crash can lose the commits made
# since the last one (Redis with appendonly and "appendfsync everysec" promises the same kind
# of thing). FULL would add an fsync to every write transaction, the outbox worker's claims
# and acks included, all on the store's one thread.
SYNCHRONOUS = "NORMAL"

# How long a statement waits for a lock another process holds (a backup, a second process
# reading): long enough for them, short enough that a stuck lock is reported, not waited out.
BUSY_TIMEOUT = 5.0

# The database holds candidates' personal data and members' (encrypted) tokens: the file, and
# the WAL and shared-memory files SQLite makes beside it with the same mode, are the owner's.
FILE_MODE = 0o600
FOLDER_MODE = 0o700

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
S = TypeVar("S", bound="SQLiteBase")


def translating(
    method: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Report a closed or broken database as StoreUnavailable, other failures as StoreError."""

    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._db is None:
            raise StoreUnavailable(f"SQLite store {self._path} is not open")
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.ProgrammingError as exc:
            raise StoreUnavailable(f"SQLite store {self._path} is closed: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self._path} failed: {exc}") from exc

    update_wrapper(wrapper, method)
    return wrapper


class SQLiteBase:
    """The file, its thread and its schema: opening, migrating, closing, and the one hop to
    the store's thread every operation makes. The operations themselves are mixins
    (`orgs`, `profiles`, `events`, `outbox`, `housekeeping`) combined into `SQLiteStore`."""

    def __init__(self, path: str, *, steps: tuple[SQLiteStep, ...] = schema.STEPS) -> None:
        self._path = path
        self._steps = steps  # the migrations; tests give their own to exercise the runner
        # the connection is only ever used on the store's own thread
        self._db: sqlite3.Connection | None = None
        self._thread: StoreThread | None = None
        self._checkpointer: WalCheckpointer | None = None
        self._claims_since_sweep = 0  # `outbox`: claims since expired ones were swept

    # lifecycle -------------------------------------------------------------
    async def open(self, *, migrate: bool = True) -> None:
        """Open the file (created, 0600, when missing) and bring it to the current schema
        version; a store written by a newer Slotbot is refused. `migrate=False` only opens:
        for `migrate --status` and `--dry-run`, which report before they change anything."""
        if self._db is not None:
            return
        await asyncio.to_thread(_prepare_path, self._path)
        thread = StoreThread("slotbot-sqlite")
        checkpointer = WalCheckpointer(self._path)
        try:
            db = await thread.submit(partial(_connect, self._path))
            thread.group_writer = partial(_write_group, db, checkpointer)
            if migrate:
                try:
                    report = await thread.submit(
                        partial(self._migrate_on_thread, db, dry_run=False)
                    )
                except BaseException:
                    await thread.submit(db.close)
                    raise
                log_migration(self.where, report)
        except BaseException:
            thread.stop()
            raise
        checkpointer.start()
        self._db, self._thread, self._checkpointer = db, thread, checkpointer

    @property
    def where(self) -> str:
        return f"SQLite store {self._path}"

    def _migrate_on_thread(self, db: sqlite3.Connection, *, dry_run: bool) -> MigrationReport:
        try:
            return schema.migrate(
                db, self.where, steps=self._steps, dry_run=dry_run, busy_timeout=BUSY_TIMEOUT
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot migrate {self.where}: {exc}") from None

    @translating
    async def schema_status(self) -> SchemaStatus:
        return await self._call(partial(schema.status, steps=self._steps))

    @translating
    async def migrate(self, *, dry_run: bool = False) -> MigrationReport:
        return await self._call(partial(self._migrate_on_thread, dry_run=dry_run))

    async def close(self) -> None:
        # the writes already queued reach the disk (or fail) first: the thread runs them
        # before the close submitted after them
        db, self._db = self._db, None
        thread, self._thread = self._thread, None
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            # its connection closes first: the store's, the last one, then removes the WAL
            await asyncio.to_thread(checkpointer.stop)
        if thread is None:
            return
        try:
            if db is not None:
                await thread.submit(db.close)
        finally:
            thread.stop()

    @translating
    async def ping(self) -> None:
        try:
            await self._fetchone("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self._path} does not answer: {exc}") from exc

    # helpers ---------------------------------------------------------------
    async def _call(self, work: Callable[[sqlite3.Connection], T], *, write: bool = False) -> T:
        """Run `work` with the connection on the store's thread: one hop, however many
        statements it runs. A `write` runs as one atomic write, committed (in a group with
        the writes queued next to it, see `thread`) before this returns; an exception from
        it rolls back its own statements only."""
        db, thread = self._db, self._thread
        if db is None or thread is None:
            raise StoreUnavailable(f"SQLite store {self._path} is not open")
        try:
            future = thread.submit(partial(work, db), write=write)
        except RuntimeError as exc:  # the thread has stopped: the store closed
            raise StoreUnavailable(f"SQLite store {self._path} is closed") from exc
        return await future

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._call(work, write=True)

    async def _fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any:
        args = tuple(params)
        return await self._call(lambda db: db.execute(sql, args).fetchone())

    async def _fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        args = tuple(params)
        return await self._call(lambda db: db.execute(sql, args).fetchall())

    async def _execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement, committed (in a group, see `_write`); the rows it changed."""
        args = tuple(params)
        return await self._write(lambda db: db.execute(sql, args).rowcount)


def _write_group(
    db: sqlite3.Connection, checkpointer: WalCheckpointer, works: list[Callable[[], Any]]
) -> list[Outcome]:
    outcomes = rows.write_group(db, works)
    checkpointer.wrote()
    return outcomes


def _connect(path: str) -> sqlite3.Connection:
    """On the store's thread: open the file and set the connection up (no schema yet)."""
    try:
        # autocommit (isolation_level None): transactions are explicit BEGIN IMMEDIATE
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open SQLite store {path}: {exc}") from None
    try:
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        # erased rows (`erasure`) are overwritten in the file, not left in its free pages
        db.execute("PRAGMA secure_delete=ON")
        # each write of a commit group runs in a savepoint (rows.write_group), whose journal
        # of the pages it changes spills to a temporary file (/var/tmp/etilqs_*) past 64 KiB:
        # a group of callbacks created one, and creating and writing it was a third of the
        # group's CPU; the pages it holds (candidates' data) stay out of /var/tmp too. It is
        # lost with a crash only like the uncommitted transaction it serves, and the store
        # sorts nothing large.
        db.execute("PRAGMA temp_store=MEMORY")
        # the WAL is checkpointed by a thread of its own (`checkpoint`): this is the backstop
        db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    except sqlite3.Error as exc:
        db.close()
        raise StoreError(f"cannot open SQLite store {path}: {exc}") from None
    return db


def json_object(text: str) -> dict[str, object]:
    value = jsonio.loads(text)
    if not isinstance(value, dict):
        raise StoreError("a stored document is not a JSON object")
    return value


def _prepare_path(path: str) -> None:
    """Create the parent folder (0700) and the file (0600); tighten the mode of files an
    earlier Slotbot made readable to others; refuse what SQLite could only fail on obscurely."""
    file = Path(path)
    try:
        file.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for SQLite store {path}: {exc.strerror}"
        ) from None
    if file.is_dir():
        raise StoreError(f"cannot open SQLite store {path}: it is a folder")
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        for each in (file, *sidecar_files(file)):
            if each.exists() and each.stat().st_mode & 0o777 != FILE_MODE:
                each.chmod(FILE_MODE)
    except OSError as exc:
        raise StoreError(f"cannot open SQLite store {path}: {exc.strerror}") from None


def sidecar_files(path: Path) -> tuple[Path, ...]:
    """The files SQLite keeps beside a database in WAL mode."""
    return (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
