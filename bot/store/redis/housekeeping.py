"""The rest of what the Redis store keeps: the audit log (a list per org), namespaced
documents (a hash per kv namespace), OAuth states (a key each, with a time to live); and
every record at once, for copies and backups (export, import, count, clear)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, cast

from redis import exceptions as redis_errors

from bot.errors import StoreError, StoreUnavailable
from bot.store import orgcache
from bot.store.records import AuditEntry, OAuthState, from_json, to_json
from bot.store.redis import transfer
from bot.store.redis.connection import RedisBase, json_object, ms, translating, writing
from bot.store.transfer import Counts, Item

if TYPE_CHECKING:
    from bot.store.redis import RedisStore

OAUTH_STATE_GRACE = 86400.0  # expired states stay readable a day, to say "expired" not "unknown"


class HousekeepingMixin(RedisBase):
    """Audit, kv, OAuth states, and the whole store for copies."""

    # audit -----------------------------------------------------------------
    @writing
    async def append_audit(self, entry: AuditEntry) -> None:
        await self._r.lpush(self._key("audit", entry.org_id), to_json(entry))

    @translating
    async def list_audit(self, org_id: str, limit: int = 50) -> list[AuditEntry]:
        if limit <= 0:
            return []
        docs = cast("list[str]", await self._r.lrange(self._key("audit", org_id), 0, limit - 1))
        return [from_json(AuditEntry, doc) for doc in docs]

    # generic namespaced documents -------------------------------------------
    @translating
    async def kv_get(self, namespace: str, key: str) -> dict[str, object] | None:
        doc = await self._hget(self._key("kv", namespace), key)
        return None if doc is None else json_object(str(doc))

    @writing
    async def kv_put(self, namespace: str, key: str, value: dict[str, object]) -> None:
        doc = json.dumps(value, separators=(",", ":"), sort_keys=True)
        await self._send("HSET", self._key("kv", namespace), key, doc)

    @writing
    async def kv_delete(self, namespace: str, key: str) -> None:
        await self._send("HDEL", self._key("kv", namespace), key)

    @translating
    async def kv_list(self, namespace: str, prefix: str = "") -> dict[str, dict[str, object]]:
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("kv", namespace)))
        return {key: json_object(docs[key]) for key in sorted(docs) if key.startswith(prefix)}

    # OAuth states ----------------------------------------------------------
    @writing
    async def put_oauth_state(self, state: OAuthState) -> None:
        await self._send("SET", *self._oauth_state_args(state))

    def _oauth_state_args(self, state: OAuthState) -> tuple[str, str, str, int]:
        """SET arguments: expired states stay readable a while, to say "expired"."""
        keep = max(state.expires_at - time.time(), 0.0) + OAUTH_STATE_GRACE
        return self._key("oauth_state", state.state), to_json(state), "PX", ms(keep)

    @writing
    async def consume_oauth_state(self, state: str) -> OAuthState | None:
        # GETDEL reads and deletes in one command: of many concurrent callers, one gets it
        doc = await self._r.getdel(self._key("oauth_state", state))
        return None if doc is None else from_json(OAuthState, doc)

    # everything, for copies and backups (bot.store.transfer) ---------------
    @property
    def _whole(self) -> RedisStore:
        """The store this mixin is part of: copies read and write every kind of record."""
        return cast("RedisStore", self)

    async def export_records(self) -> AsyncIterator[list[Item]]:
        """Every record, kind after kind in `transfer.KINDS` order, in batches."""
        try:
            async for batch in transfer.export(self._whole):
                yield batch
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
            raise StoreUnavailable(f"{self.where} does not answer: {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"{self.where} holds a record that does not read back: {exc}"
            ) from None

    @writing
    async def import_records(self, items: list[Item]) -> None:
        """Write the items: the records in one script call (all or none), then dead letters."""
        try:
            await transfer.write_batch(self._whole, items)
        finally:
            orgcache.orgs_changed()

    @translating
    async def count_records(self) -> Counts:
        return await transfer.count(self._whole)

    @writing
    async def clear(self) -> None:
        """Delete every record (the schema version stays): `--force` copies."""
        try:
            await transfer.clear(self._whole)
        finally:
            orgcache.orgs_changed()
