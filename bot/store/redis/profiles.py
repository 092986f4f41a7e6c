"""The Redis store's candidate profiles and what hangs off them: candidates (with the email
index), their timelines, bookings (with the start-date index), the tracked scheduling links,
and the references to the chat messages posted about a booking."""

from __future__ import annotations

from typing import Any, cast

from bot.store.records import (
    Booking,
    Candidate,
    MessageRef,
    TimelineEntry,
    TrackedLink,
    from_json,
    to_json,
)
from bot.store.redis.connection import RedisBase, part, translating, writing

_BOOKING_SEPARATOR = "\x1f"  # below every character of an ISO date, so prefixes sort first
_NO_START = "~"  # above every character of an ISO date


def _booking_member(booking: Booking) -> str:
    if booking.start is None:
        return _NO_START + booking.booking_id
    return booking.start + _BOOKING_SEPARATOR + booking.booking_id


def _booking_id_of(member: str) -> str:
    if member.startswith(_NO_START):
        return member[len(_NO_START) :]
    return member.split(_BOOKING_SEPARATOR, 1)[1]


class ProfilesMixin(RedisBase):
    """Candidates, timelines, bookings, tracked links and message references."""

    # candidates and their timeline ----------------------------------------
    @translating
    async def get_candidate(self, org_id: str, candidate_id: str) -> Candidate | None:
        doc = await self._hget(self._key("candidates", org_id), candidate_id)
        return None if doc is None else from_json(Candidate, doc)

    @translating
    async def find_candidate_by_email(self, org_id: str, email: str) -> Candidate | None:
        doc = await self._via(
            self._key("candidate_emails", org_id),
            self._key("candidates", org_id),
            email.strip().lower(),
        )
        return None if doc is None else from_json(Candidate, doc)

    def _candidate_ops(self, candidate: Candidate) -> list[list[Any]]:
        org_id = candidate.org_id
        return [
            ["HSET", self._key("candidates", org_id), candidate.candidate_id, to_json(candidate)],
            [
                "INDEX",
                self._key("candidate_emails", org_id),
                self._key("candidate_email_of", org_id),
                candidate.candidate_id,
                candidate.email.strip().lower(),
            ],
        ]

    @writing
    async def put_candidate(self, candidate: Candidate) -> None:
        await self._run(self._candidate_ops(candidate))

    def _timeline_key(self, org_id: str, candidate_id: str) -> str:
        return self._key("timeline", f"{part(org_id)}|{part(candidate_id)}")

    def _timeline_op(self, org_id: str, candidate_id: str, entry: TimelineEntry) -> list[Any]:
        """Append the entry and its reference in the org's event index (`feeds`) at once."""
        return [
            "TIMELINE",
            self._timeline_key(org_id, candidate_id),
            self._key("events", org_id),
            candidate_id,
            to_json(entry),
            repr(entry.at),
        ]

    @writing
    async def append_timeline(self, org_id: str, candidate_id: str, entry: TimelineEntry) -> None:
        await self._run([self._timeline_op(org_id, candidate_id, entry)])

    @translating
    async def list_timeline(
        self, org_id: str, candidate_id: str, limit: int = 50
    ) -> list[TimelineEntry]:
        if limit <= 0:
            return []
        docs = cast(
            "list[str]", await self._r.lrange(self._timeline_key(org_id, candidate_id), -limit, -1)
        )
        return [from_json(TimelineEntry, doc) for doc in docs]

    # bookings --------------------------------------------------------------
    @translating
    async def get_booking(self, org_id: str, booking_id: str) -> Booking | None:
        doc = await self._hget(self._key("bookings", org_id), booking_id)
        return None if doc is None else from_json(Booking, doc)

    def _booking_ops(self, booking: Booking) -> list[list[Any]]:
        org_id = booking.org_id
        return [
            ["HSET", self._key("bookings", org_id), booking.booking_id, to_json(booking)],
            [
                "ZINDEX",
                self._key("booking_starts", org_id),
                self._key("booking_start_of", org_id),
                booking.booking_id,
                _booking_member(booking),
            ],
        ]

    @writing
    async def put_booking(self, booking: Booking) -> None:
        await self._run(self._booking_ops(booking))

    @translating
    async def list_bookings(
        self, org_id: str, *, recruiter_id: str | None = None, start_after: str | None = None
    ) -> list[Booking]:
        if start_after is None:
            low, high = "-", "+"
        else:
            # after every "<start_after>\x1f<id>" member, before every later date; bookings
            # without a start ("~...") are left out, as no start sorts after anything
            low, high = "[" + start_after + chr(ord(_BOOKING_SEPARATOR) + 1), "(" + _NO_START
        members = cast(
            "list[str]", await self._r.zrangebylex(self._key("booking_starts", org_id), low, high)
        )
        if not members:
            return []
        ids = [_booking_id_of(member) for member in members]
        docs = cast("list[str | None]", await self._r.hmget(self._key("bookings", org_id), ids))
        bookings = [from_json(Booking, doc) for doc in docs if doc is not None]
        if recruiter_id is not None:
            bookings = [b for b in bookings if b.recruiter_id == recruiter_id]
        return bookings

    # tracked links ---------------------------------------------------------
    @writing
    async def put_tracked_link(self, link: TrackedLink) -> None:
        await self._r.hset(self._key("links"), link.correlation_id, to_json(link))

    @translating
    async def get_tracked_link(self, correlation_id: str) -> TrackedLink | None:
        doc = await self._hget(self._key("links"), correlation_id)
        return None if doc is None else from_json(TrackedLink, doc)

    # message references ----------------------------------------------------
    @writing
    async def put_message_ref(
        self, org_id: str, booking_id: str, target: str, ref: MessageRef
    ) -> None:
        await self._send("HSET", self._message_refs_key(org_id, booking_id), target, to_json(ref))

    @translating
    async def get_message_refs(self, org_id: str, booking_id: str) -> dict[str, MessageRef]:
        docs = cast(
            "dict[str, str]",
            await self._send("HGETALL", self._message_refs_key(org_id, booking_id)),
        )
        return {target: from_json(MessageRef, docs[target]) for target in sorted(docs)}
