"""The Redis store's accepted callbacks: the dedupe claim and every record a callback changes
(candidate, timeline, booking, jobs, audit), in one Lua script."""

from __future__ import annotations

import json
from typing import Any

from bot.errors import StaleBooking
from bot.store.records import EventWrite, to_json
from bot.store.redis.connection import ms, writing
from bot.store.redis.outbox import OutboxMixin
from bot.store.redis.profiles import ProfilesMixin


class EventsMixin(ProfilesMixin, OutboxMixin):
    """An accepted event: its dedupe claim and every record it changes, at once."""

    # accepted events, in one step -----------------------------------------
    @writing
    async def commit_event(self, write: EventWrite) -> bool:
        if write.timeline is not None and write.candidate is None:
            raise ValueError("an EventWrite with a timeline entry needs its candidate")
        ops: list[list[Any]] = []
        if write.candidate is not None:
            ops += self._candidate_ops(write.candidate)
            if write.timeline is not None:
                candidate = write.candidate
                ops.append(
                    self._timeline_op(candidate.org_id, candidate.candidate_id, write.timeline)
                )
        if write.booking is not None:
            ops += self._booking_ops(write.booking)
        ops += [self._untimer_op(key) for key in write.cancel_timers]
        ops += self._enqueue_ops(write.jobs)
        if write.audit is not None:
            ops.append(["LPUSH", self._key("audit", write.audit.org_id), to_json(write.audit)])
        args: list[Any] = [
            self._key("once", write.dedupe_key),
            ms(write.dedupe_ttl),
            json.dumps(ops),
        ]
        booking = write.booking
        if booking is not None and write.booking_version is not None:
            args += [
                self._key("bookings", booking.org_id),
                booking.booking_id,
                write.booking_version,
            ]
        done = await self._eval(self._apply, [], args)
        if done == -1:
            raise StaleBooking(
                f"booking {booking.booking_id if booking else '-'} is no longer at version "
                f"{write.booking_version}"
            )
        return bool(done)
