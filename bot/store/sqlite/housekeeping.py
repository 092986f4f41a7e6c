"""The rest of what the SQLite store keeps: the audit log, namespaced documents (kv), OAuth
states; and every record at once, for copies and backups (export, import, count, clear)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from bot.store import orgcache
from bot.store.records import AuditEntry, OAuthState, from_json, to_json
from bot.store.sqlite import rows as stmt
from bot.store.sqlite import transfer
from bot.store.sqlite.connection import SQLiteBase, json_object, translating
from bot.store.transfer import KINDS, Counts, Item


class HousekeepingMixin(SQLiteBase):
    """Audit, kv, OAuth states, and the whole store for copies."""

    # audit -----------------------------------------------------------------
    @translating
    async def append_audit(self, entry: AuditEntry) -> None:
        await self._execute(stmt.INSERT_AUDIT, (entry.org_id, to_json(entry)))

    @translating
    async def list_audit(self, org_id: str, limit: int = 50) -> list[AuditEntry]:
        if limit <= 0:
            return []
        rows = await self._fetchall(
            "SELECT doc FROM audit WHERE org_id = ? ORDER BY seq DESC LIMIT ?", (org_id, limit)
        )
        return [from_json(AuditEntry, row[0]) for row in rows]

    # generic namespaced documents -------------------------------------------
    @translating
    async def kv_get(self, namespace: str, key: str) -> dict[str, object] | None:
        row = await self._fetchone(
            "SELECT doc FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        )
        return None if row is None else json_object(row[0])

    @translating
    async def kv_put(self, namespace: str, key: str, value: dict[str, object]) -> None:
        await self._execute(
            stmt.INSERT_KV,
            (namespace, key, stmt.kv_doc(value)),
        )

    @translating
    async def kv_delete(self, namespace: str, key: str) -> None:
        await self._execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))

    @translating
    async def kv_list(self, namespace: str, prefix: str = "") -> dict[str, dict[str, object]]:
        # prefix compared with substr rather than LIKE: no wildcard escaping to get wrong
        rows = await self._fetchall(
            "SELECT key, doc FROM kv WHERE namespace = ? AND substr(key, 1, ?) = ? ORDER BY key",
            (namespace, len(prefix), prefix),
        )
        return {row[0]: json_object(row[1]) for row in rows}

    # OAuth states ----------------------------------------------------------
    @translating
    async def put_oauth_state(self, state: OAuthState) -> None:
        await self._execute(
            stmt.INSERT_OAUTH_STATE,
            (state.state, to_json(state)),
        )

    @translating
    async def consume_oauth_state(self, state: str) -> OAuthState | None:
        # DELETE ... RETURNING reads and removes in one statement: only one caller gets it
        row = await self._fetchone(
            "DELETE FROM oauth_states WHERE state = ? RETURNING doc", (state,)
        )
        return None if row is None else from_json(OAuthState, row[0])

    # everything, for copies and backups (bot.store.transfer) ---------------
    async def export_records(self) -> AsyncIterator[list[Item]]:
        """Every record, a page at a time, kind after kind in `transfer.KINDS` order. Pages
        are read one by one: a copy never holds more than a page of the store in memory."""
        now = time.time()
        for kind in KINDS:
            after: Any = None
            while True:
                items, after = await self._read_page(kind, after, now)
                if items:
                    yield items
                if after is None:
                    break

    @translating
    async def _read_page(self, kind: str, after: Any, now: float) -> tuple[list[Item], Any]:
        return await self._call(partial(transfer.read_page, kind=kind, after=after, now=now))

    @translating
    async def import_records(self, items: list[Item]) -> None:
        """Write the items in one transaction (all of them, or none)."""
        try:
            await self._call(partial(transfer.write_batch, items=items))
        finally:
            orgcache.orgs_changed()

    @translating
    async def count_records(self) -> Counts:
        return await self._call(partial(transfer.count, now=time.time()))

    @translating
    async def clear(self) -> None:
        """Delete every record (the schema and its version stay): `--force` copies."""
        try:
            await self._call(transfer.clear)
        finally:
            orgcache.orgs_changed()
