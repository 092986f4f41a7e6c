"""`store copy`: everything one store holds, into another (SQLite → Redis to scale out, and
back), checked by counting each kind of record on both sides afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from bot.errors import TransferError
from bot.store.base import Store
from bot.store.migrations import refuse_newer
from bot.store.transfer import Counts, Item, compare_counts, pour


@dataclass(frozen=True)
class CopyReport:
    copied: Counts  # items written, per kind
    source: Counts  # what the source holds, counted after the copy
    target: Counts  # what the target holds, counted after the copy
    problems: list[str] = field(default_factory=list)  # counts that disagree, in words


async def require_current(store: Store) -> None:
    """Refuse a store that is not at this Slotbot's schema version: records are copied as
    this version reads them."""
    status = await store.schema_status()
    refuse_newer(store.where, status.store_version, status.code_version)
    if status.store_version < status.code_version:
        raise TransferError(
            f"{store.where} is at schema version {status.store_version}; this Slotbot copies "
            f"version {status.code_version}. Migrate it first (`python -m bot migrate` with "
            "BOT_STORE_URL set to it)."
        )


async def make_room(target: Store, *, force: bool) -> None:
    """A target must be empty; with force, whatever it holds is deleted first (so a copy cut
    short can be run again to the same end)."""
    held = {kind: n for kind, n in (await target.count_records()).items() if n}
    if not held:
        return
    if not force:
        summary = ", ".join(f"{n} {kind}" for kind, n in held.items())
        raise TransferError(
            f"{target.where} is not empty ({summary}); nothing was written. Use --force to "
            "replace what it holds."
        )
    await target.clear()


async def fill(
    target: Store,
    batches: AsyncIterator[list[Item]],
    *,
    force: bool,
    on_batch: Callable[[Counts], None] | None = None,
) -> Counts:
    await make_room(target, force=force)
    return await pour(batches, target, on_batch=on_batch)


async def copy_store(
    source: Store,
    target: Store,
    *,
    force: bool = False,
    on_batch: Callable[[Counts], None] | None = None,
) -> CopyReport:
    """Both stores open; the source at this Slotbot's schema version."""
    await require_current(source)
    await require_current(target)
    copied = await fill(target, source.export_records(), force=force, on_batch=on_batch)
    source_counts = await source.count_records()
    target_counts = await target.count_records()
    return CopyReport(
        copied, source_counts, target_counts, compare_counts(source_counts, target_counts)
    )
