"""The SQLite store's candidate profiles and what hangs off them: candidates (by id and by
email), their timelines, bookings, the tracked scheduling links, and the references to the
chat messages posted about a booking."""

from __future__ import annotations

from typing import Any

from bot.store.records import (
    Booking,
    Candidate,
    MessageRef,
    TimelineEntry,
    TrackedLink,
    from_json,
    to_json,
)
from bot.store.sqlite import rows as stmt
from bot.store.sqlite.connection import SQLiteBase, translating


class ProfilesMixin(SQLiteBase):
    """Candidates, timelines, bookings, tracked links and message references."""

    # candidates and their timeline ----------------------------------------
    @translating
    async def get_candidate(self, org_id: str, candidate_id: str) -> Candidate | None:
        row = await self._fetchone(
            "SELECT doc FROM candidates WHERE org_id = ? AND candidate_id = ?",
            (org_id, candidate_id),
        )
        return None if row is None else from_json(Candidate, row[0])

    @translating
    async def find_candidate_by_email(self, org_id: str, email: str) -> Candidate | None:
        row = await self._fetchone(
            "SELECT doc FROM candidates WHERE org_id = ? AND email_lower = ? "
            "ORDER BY candidate_id LIMIT 1",
            (org_id, email.strip().lower()),
        )
        return None if row is None else from_json(Candidate, row[0])

    @translating
    async def put_candidate(self, candidate: Candidate) -> None:
        await self._execute(stmt.INSERT_CANDIDATE, stmt.candidate_row(candidate))

    @translating
    async def append_timeline(self, org_id: str, candidate_id: str, entry: TimelineEntry) -> None:
        await self._execute(stmt.INSERT_TIMELINE, (org_id, candidate_id, to_json(entry)))

    @translating
    async def list_timeline(
        self, org_id: str, candidate_id: str, limit: int = 50
    ) -> list[TimelineEntry]:
        if limit <= 0:
            return []
        rows = await self._fetchall(
            "SELECT doc FROM timeline WHERE org_id = ? AND candidate_id = ? "
            "ORDER BY seq DESC LIMIT ?",
            (org_id, candidate_id, limit),
        )
        return [from_json(TimelineEntry, row[0]) for row in reversed(rows)]

    # bookings --------------------------------------------------------------
    @translating
    async def get_booking(self, org_id: str, booking_id: str) -> Booking | None:
        row = await self._fetchone(
            "SELECT doc FROM bookings WHERE org_id = ? AND booking_id = ?", (org_id, booking_id)
        )
        return None if row is None else from_json(Booking, row[0])

    @translating
    async def put_booking(self, booking: Booking) -> None:
        await self._execute(stmt.INSERT_BOOKING, stmt.booking_row(booking))

    @translating
    async def list_bookings(
        self, org_id: str, *, recruiter_id: str | None = None, start_after: str | None = None
    ) -> list[Booking]:
        sql = "SELECT doc FROM bookings WHERE org_id = ?"
        params: list[Any] = [org_id]
        if recruiter_id is not None:
            sql += " AND recruiter_id = ?"
            params.append(recruiter_id)
        if start_after is not None:
            sql += " AND start > ?"
            params.append(start_after)
        # soonest first; bookings without a start (none known yet) last
        sql += " ORDER BY start IS NULL, start, booking_id"
        rows = await self._fetchall(sql, params)
        return [from_json(Booking, row[0]) for row in rows]

    # tracked links ---------------------------------------------------------
    @translating
    async def put_tracked_link(self, link: TrackedLink) -> None:
        await self._execute(
            stmt.INSERT_LINK,
            (link.correlation_id, to_json(link)),
        )

    @translating
    async def get_tracked_link(self, correlation_id: str) -> TrackedLink | None:
        row = await self._fetchone(
            "SELECT doc FROM tracked_links WHERE correlation_id = ?", (correlation_id,)
        )
        return None if row is None else from_json(TrackedLink, row[0])

    # message references ----------------------------------------------------
    @translating
    async def put_message_ref(
        self, org_id: str, booking_id: str, target: str, ref: MessageRef
    ) -> None:
        await self._execute(
            stmt.INSERT_MESSAGE_REF,
            (org_id, booking_id, target, to_json(ref)),
        )

    @translating
    async def get_message_refs(self, org_id: str, booking_id: str) -> dict[str, MessageRef]:
        rows = await self._fetchall(
            "SELECT target, doc FROM message_refs WHERE org_id = ? AND booking_id = ? "
            "ORDER BY target",
            (org_id, booking_id),
        )
        return {row[0]: from_json(MessageRef, row[1]) for row in rows}
