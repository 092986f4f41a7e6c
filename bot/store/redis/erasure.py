"""The Redis store's erasures: one candidate and everything that hangs off them, or what is
older than a retention cutoff.

Each erasure reads what to remove, then removes it all in one APPLY script (one step for
Redis: no reader sees half an erasure). A record written between the read and the script (a
callback for the candidate arriving that very moment) is left; running the erasure again
removes it, and a second run over an erased candidate finds nothing and changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from bot.store.erasure import ErasureCounts, Traces, booking_is_older
from bot.store.records import Booking, Candidate, Job, TimelineEntry, TrackedLink, from_json
from bot.store.redis.connection import writing
from bot.store.redis.outbox import CONSUMER_GROUP, OutboxMixin
from bot.store.redis.profiles import ProfilesMixin


class ErasureMixin(ProfilesMixin, OutboxMixin):
    """erase_candidate, erase_older_than."""

    def _drop_booking_ops(self, org_id: str, booking_id: str) -> list[list[Any]]:
        return [
            ["HDEL", self._key("bookings", org_id), booking_id],
            [
                "ZUNINDEX",
                self._key("booking_starts", org_id),
                self._key("booking_start_of", org_id),
                booking_id,
            ],
            ["DEL", self._message_refs_key(org_id, booking_id)],
        ]

    def _drop_job_op(self, job_id: str) -> list[Any]:
        return [
            "DROPJOB",
            self._job_prefix,
            job_id,
            self._stream,
            CONSUMER_GROUP,
            self._delayed,
            self._org_jobs_prefix,
            self._timers,
            self._dead,
        ]

    async def _org_bookings(self, org_id: str) -> list[Booking]:
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("bookings", org_id)))
        return [from_json(Booking, doc) for doc in docs.values()]

    async def _org_job_docs(self, org_id: str) -> list[tuple[str, str, str]]:
        """(job id, timer key, stored doc) of every job of the org: pending, in flight, dead."""
        ids = set(cast("set[str]", await self._r.smembers(self._org_jobs_prefix + org_id)))
        entries = cast("list[tuple[str, dict[str, str]]]", await self._r.xrange(self._dead))
        ids.update(fields["job_id"] for _, fields in entries if "job_id" in fields)
        ordered = sorted(ids)
        pipe = self._r.pipeline(transaction=False)
        for job_id in ordered:
            pipe.hgetall(self._job_key(job_id))
        rows = cast("list[dict[str, str]]", await pipe.execute())
        return [
            (job_id, row.get("timer", ""), row["doc"])
            for job_id, row in zip(ordered, rows, strict=True)
            if row.get("org") == org_id and "doc" in row
        ]

    @writing
    async def erase_candidate(
        self, org_id: str, candidate_id: str, *, jobs: Sequence[Job] = ()
    ) -> ErasureCounts:
        doc = await self._hget(self._key("candidates", org_id), candidate_id)
        if doc is None:
            return ErasureCounts()
        candidate = from_json(Candidate, doc)
        mine = [b for b in await self._org_bookings(org_id) if b.candidate_id == candidate_id]
        traces = Traces.of(candidate, mine)
        dropped = [
            job_id
            for job_id, timer, text in await self._org_job_docs(org_id)
            if traces.in_job(text, timer)
        ]
        links = [
            correlation_id
            for correlation_id, text in cast(
                "dict[str, str]", await self._r.hgetall(self._key("links"))
            ).items()
            if (link := from_json(TrackedLink, text)).org_id == org_id
            and link.candidate_id == candidate_id
        ]
        timeline_key = self._timeline_key(org_id, candidate_id)
        timeline = int(await self._r.llen(timeline_key))
        refs = 0
        ops: list[list[Any]] = [self._drop_job_op(job_id) for job_id in dropped]
        for booking in mine:
            refs += int(await self._r.hlen(self._message_refs_key(org_id, booking.booking_id)))
            ops += self._drop_booking_ops(org_id, booking.booking_id)
        if links:
            ops.append(["HDEL", self._key("links"), *links])
        ops += [
            ["DEL", timeline_key],
            ["HDEL", self._key("candidates", org_id), candidate_id],
            [
                "INDEX",
                self._key("candidate_emails", org_id),
                self._key("candidate_email_of", org_id),
                candidate_id,
                "",
            ],
        ]
        ops += self._enqueue_ops(list(jobs))
        await self._run(ops)
        return ErasureCounts(
            candidates=1,
            timeline=timeline,
            bookings=len(mine),
            message_refs=refs,
            links=len(links),
            jobs=len(dropped),
        )

    @writing
    async def erase_older_than(self, org_id: str, cutoff: float) -> ErasureCounts:
        ops: list[list[Any]] = []
        entries = 0
        trimmed: dict[str, int] = {}
        candidate_ids = cast("list[str]", await self._r.hkeys(self._key("candidates", org_id)))
        for candidate_id in candidate_ids:
            key = self._timeline_key(org_id, candidate_id)
            docs = cast("list[str]", await self._r.lrange(key, 0, -1))
            # entries are appended as they happen: the old ones are a run at the head, and
            # trimming from the head leaves an entry appended meanwhile (at the tail) alone
            old = 0
            for text in docs:
                if from_json(TimelineEntry, text).at >= cutoff:
                    break
                old += 1
            # what the timeline will hold after the trim: 0 makes its candidate idle
            trimmed[candidate_id] = len(docs) - old
            if old:
                entries += old
                ops.append(["LTRIM", key, old, -1])
        bookings = await self._org_bookings(org_id)
        expired = [b for b in bookings if booking_is_older(b, cutoff)]
        refs = 0
        for booking in expired:
            refs += int(await self._r.hlen(self._message_refs_key(org_id, booking.booking_id)))
            ops += self._drop_booking_ops(org_id, booking.booking_id)
        # a candidate with nothing left on record, first seen before the cutoff, goes too
        # (DROPIDLE checks again, in the script, that their timeline is still empty)
        gone = {b.booking_id for b in expired}
        booked = {b.candidate_id for b in bookings if b.booking_id not in gone}
        profiles = cast("dict[str, str]", await self._r.hgetall(self._key("candidates", org_id)))
        idle = [
            candidate_id
            for candidate_id, text in profiles.items()
            if from_json(Candidate, text).created_at < cutoff
            and candidate_id not in booked
            and trimmed.get(candidate_id) == 0
        ]
        links = await self._links_of(org_id, set(idle))
        for candidate_id in idle:
            ops.append(
                [
                    "DROPIDLE",
                    self._key("candidates", org_id),
                    self._key("candidate_emails", org_id),
                    self._key("candidate_email_of", org_id),
                    self._timeline_key(org_id, candidate_id),
                    candidate_id,
                    self._key("links"),
                    *links.get(candidate_id, []),
                ]
            )
        if ops:
            await self._run(ops)
        return ErasureCounts(
            candidates=len(idle),
            timeline=entries,
            bookings=len(expired),
            message_refs=refs,
            links=sum(len(found) for found in links.values()),
        )

    async def _links_of(self, org_id: str, candidate_ids: set[str]) -> dict[str, list[str]]:
        """The tracked links of these candidates of the org, by candidate (one read of the
        links hash, which every org shares)."""
        found: dict[str, list[str]] = {}
        if not candidate_ids:
            return found
        docs = cast("dict[str, str]", await self._r.hgetall(self._key("links")))
        for correlation_id, text in docs.items():
            link = from_json(TrackedLink, text)
            if link.org_id == org_id and link.candidate_id in candidate_ids:
                found.setdefault(link.candidate_id, []).append(correlation_id)
        return found
