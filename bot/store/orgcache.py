"""Orgs by push key, kept for a moment: the Cronofy push route reads the org of every callback,
and it hardly ever changes.

Correct in one process and across several:

- In this process every org write (`put_org`, a restore, `clear`) goes through a store, and
  each store calls `orgs_changed()` once it has written: an entry read before that is not
  used again, so `/cronofy setup`, a reset or an uninstall is seen by the very next callback.
- A change made by another process (another replica, `python -m bot …` commands) is seen
  once the entry is older than `ORG_CACHE_TTL` seconds: until then a callback may be checked
  against the keys it replaced (401: Cronofy retries) or routed as the org was.

Unknown keys are remembered too (for the same time), so a stream of callbacks for a removed
org does not read the store for each one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.store.base import Store
from bot.store.records import Org

ORG_CACHE_TTL = 2.0
MAX_ENTRIES = 1024

_generation = 0


def orgs_changed() -> None:
    """Called by the stores after every write that may change an org: entries read before it
    are dropped."""
    global _generation
    _generation += 1


def generation() -> int:
    return _generation


@dataclass(frozen=True)
class _Entry:
    org: Org | None
    generation: int
    expires: float


class OrgKeyCache:
    """`store.get_org_by_key`, remembered for `ttl` seconds or until an org is written in this
    process, whichever comes first. The org it returns is shared: read it, never change it."""

    def __init__(
        self,
        ttl: float = ORG_CACHE_TTL,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}

    async def get(self, store: Store, org_key: str) -> Org | None:
        entry = self._entries.get(org_key)
        now = self.clock()
        if entry is not None and entry.generation == _generation and now < entry.expires:
            return entry.org
        seen = _generation  # read before the store: a write during the read makes it stale
        org = await store.get_org_by_key(org_key)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[org_key] = _Entry(org, seen, now + self.ttl)
        return org

    def clear(self) -> None:
        self._entries.clear()


class RecentlyActive:
    """Orgs read as active a moment ago, by id, on the same terms as `OrgKeyCache` (dropped
    by any org write in this process, or after `ttl`): every Slack or Teams request checks
    that its org is active (an uninstall marks it inactive, the next request from it marks it
    active again), and needs no read when it was active a moment ago."""

    def __init__(
        self,
        ttl: float = ORG_CACHE_TTL,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self._seen: dict[str, tuple[int, float]] = {}

    def seen(self, org_id: str) -> bool:
        entry = self._seen.get(org_id)
        return entry is not None and entry[0] == _generation and self.clock() < entry[1]

    def saw(self, org_id: str, seen_generation: int) -> None:
        """`org_id` was read active; `seen_generation` is `generation()` from before the read."""
        if len(self._seen) >= self.max_entries:
            self._seen.clear()
        self._seen[org_id] = (seen_generation, self.clock() + self.ttl)
