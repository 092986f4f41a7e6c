"""The Redis store's feeds (`bot.store.feeds`): an org's timeline events and audit log in
order, a page at a time.

Timelines are lists per candidate, so the org-wide order lives in an index beside them:
`<p>events:<org>`, a stream with one entry per timeline entry, written in the same script as
the entry (`scripts.APPLY`, op TIMELINE). An index entry holds a reference only, never
personal data: the candidate id, the entry's place in the candidate's list and its `at`.
When a candidate's timeline is erased nothing here changes: a reference whose entry is gone
(or whose place now holds another entry, `at` differing, as a re-created candidate's would)
is skipped. Entries taken off the head of a list (a retention sweep) move the rest toward
the head: a reference then finds its entry there by its `at` (`scripts.FEED`), so what stays
is still served once, in order. A position is the stream id.

The audit log is a list per org, newest first (LPUSH, never trimmed), so an entry's place
counted from the oldest never changes: that count is the position.
"""

from __future__ import annotations

import re
from typing import cast

from bot.store.feeds import (
    AuditPage,
    AuditRow,
    BadPosition,
    EventPage,
    EventRow,
    check_limit,
    number,
)
from bot.store.records import AuditEntry, TimelineEntry, from_json
from bot.store.redis.connection import RedisBase, part, translating

_STREAM_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
# index entries read at most per page: a page of skipped (erased) references ends the page
# early rather than reading on without bound
_MAX_ROUNDS = 4


class FeedsMixin(RedisBase):
    """Timeline events (through the org's event index) and audit entries, after a position."""

    @translating
    async def list_org_events(
        self, org_id: str, after: str | None = None, limit: int = 100
    ) -> EventPage:
        rows, last = await self._indexed_events(org_id, after, limit)
        return EventPage([row for row, _place in rows], last)

    async def _indexed_events(
        self, org_id: str, after: str | None, limit: int
    ) -> tuple[list[tuple[EventRow, int]], str | None]:
        """The page's rows, each with its place in its candidate's list (for copies), and
        the position the next page starts after (None: nothing read)."""
        if after is not None and not _STREAM_ID.fullmatch(after):
            raise BadPosition(after)
        check_limit(limit)
        stream = self._key("events", org_id)
        rows: list[tuple[EventRow, int]] = []
        last = after
        for _ in range(_MAX_ROUNDS):
            wanted = limit - len(rows)
            start = "-" if last is None else "(" + last
            prefix = self._key("timeline", part(org_id) + "|")
            flat = cast(
                "list[str | None]", await self._eval(self._feed, [stream], [start, wanted, prefix])
            )
            if not flat:
                break
            refs = [flat[i : i + 5] for i in range(0, len(flat), 5)]
            for ref_id, candidate_id, place, at, doc in refs:
                if doc is None:
                    continue  # erased
                entry = from_json(TimelineEntry, doc)
                if repr(entry.at) != at:
                    continue  # its place holds another entry now
                rows.append((EventRow(str(candidate_id), entry, str(ref_id)), int(str(place))))
            last = str(refs[-1][0])
            if len(rows) >= limit or len(refs) < wanted:
                break
        return rows, (last if last != after else None)

    @translating
    async def list_audit_after(
        self, org_id: str, after: str | None = None, limit: int = 100
    ) -> AuditPage:
        start = number(after)
        check_limit(limit)
        docs = cast(
            "list[str]",
            await self._r.lrange(self._key("audit", org_id), -(start + limit), -(start + 1)),
        )
        rows = [
            AuditRow(from_json(AuditEntry, doc), str(start + i + 1))
            for i, doc in enumerate(reversed(docs))
        ]
        return AuditPage(rows, rows[-1].position if rows else None)
