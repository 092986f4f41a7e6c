"""The SQLite store's feeds (`bot.store.feeds`): an org's timeline events and audit log in
the order they were written, a page at a time. A position is the row's sequence number
(both tables are AUTOINCREMENT, so a number is never reused, even after an erase)."""

from __future__ import annotations

from bot.store.feeds import (
    AuditPage,
    AuditRow,
    EventPage,
    EventRow,
    check_limit,
    number,
)
from bot.store.records import AuditEntry, TimelineEntry, from_json
from bot.store.sqlite.connection import SQLiteBase, translating


class FeedsMixin(SQLiteBase):
    """Timeline events and audit entries of an org, after a position."""

    @translating
    async def list_org_events(
        self, org_id: str, after: str | None = None, limit: int = 100
    ) -> EventPage:
        start = number(after)
        rows = await self._fetchall(
            # the timeline_by_org index (schema version 4) makes this one range scan
            "SELECT seq, candidate_id, doc FROM timeline WHERE org_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (org_id, start, check_limit(limit)),
        )
        found = [EventRow(row[1], from_json(TimelineEntry, row[2]), str(row[0])) for row in rows]
        return EventPage(found, found[-1].position if found else None)

    @translating
    async def list_audit_after(
        self, org_id: str, after: str | None = None, limit: int = 100
    ) -> AuditPage:
        start = number(after)
        rows = await self._fetchall(
            "SELECT seq, doc FROM audit WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (org_id, start, check_limit(limit)),
        )
        found = [AuditRow(from_json(AuditEntry, row[1]), str(row[0])) for row in rows]
        return AuditPage(found, found[-1].position if found else None)
