"""Callbacks for one booking that arrive late, out of order or at the same moment: the
booking and its messages end in the newest state, and nothing is announced twice."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.store.base import Store
from bot.store.records import Job
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import (
    CANDIDATE_ID,
    CHANNEL,
    ORG_ID,
    RECRUITER,
    start_pipeline,
)

BOOKING = "srq_80f7fece4f37897d62d86d80"
CHANNEL_KEY = f"channel:{CHANNEL}"
DM_KEY = f"dm:{RECRUITER}"
BOOKED = payloads.time_chosen(triggered_at="2026-11-27T18:00:00Z")
CANCELLED = payloads.time_chosen(
    notification_type="scheduling_request_cancelled", triggered_at="2026-11-27T18:10:00Z"
)
LATE_RESCHEDULE = payloads.time_chosen(
    notification_type="scheduling_request_rescheduled",
    start="2026-12-05T10:00:00Z",
    end="2026-12-05T10:30:00Z",
    triggered_at="2026-11-27T18:05:00Z",
)


async def _queued(store: Store) -> list[Job]:
    jobs = await store.claim_jobs("inspect", limit=100, visibility_timeout=0.0)
    return sorted(jobs, key=lambda job: (job.created_at, job.payload.get("seq", 0)))


def _kind(job: Job) -> str:
    return str(job.payload["facts"]["kind"])


async def test_an_older_job_delivered_after_a_newer_one_leaves_the_message_alone(
    aiohttp_client: Any, store: Store
) -> None:
    """The booked alert retried after the cancellation was posted: no "Booked again"."""
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    assert (await p.post(BOOKED)).status == 200
    assert (await p.post(CANCELLED)).status == 200
    jobs = await _queued(store)
    booked = [j for j in jobs if _kind(j) == "booked"]
    cancelled = [j for j in jobs if _kind(j) == "cancelled"]
    assert len(booked) == 2 and len(cancelled) == 2
    worker = p.worker()
    for job in cancelled + booked:  # the newer jobs first, as after a failed send
        await worker.handle(job)
    assert sorted(s.target.key for s in p.adapter.sent) == sorted([CHANNEL_KEY, DM_KEY])
    for sent in p.adapter.sent:
        assert sent.card.title.startswith("Interview cancelled")
    assert p.adapter.updates == [] and p.adapter.replies == []
    assert await store.outbox_depth() == 0


async def test_an_alert_delivered_after_its_booking_moved_on_shows_the_newest_state(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    assert (await p.post(BOOKED)).status == 200
    assert (await p.post(CANCELLED)).status == 200
    worker = p.worker()
    for job in await _queued(store):  # in order, but both accepted before either is sent
        await worker.handle(job)
    # the first message already says what the booking is now; the thread says what happened
    assert len(p.adapter.sent) == 2
    for sent in p.adapter.sent:
        assert sent.card.title.startswith("Interview cancelled")
    assert sorted(card.fallback for _ref, card, _reply in p.adapter.replies) == ["Cancelled"] * 2


async def test_a_late_event_goes_to_the_timeline_only(aiohttp_client: Any, store: Store) -> None:
    """Cancelled at 18:10, then a reschedule triggered at 18:05 arrives: still cancelled."""
    p = await start_pipeline(aiohttp_client, store)
    for body in (BOOKED, CANCELLED):
        assert (await p.post(body)).status == 200
    await p.wait_sent(2)
    await p.drain()
    seen = (len(p.adapter.sent), len(p.adapter.updates), len(p.adapter.replies))
    assert (await p.post(LATE_RESCHEDULE)).status == 200
    await p.drain()
    assert (len(p.adapter.sent), len(p.adapter.updates), len(p.adapter.replies)) == seen
    booking = await store.get_booking(ORG_ID, BOOKING)
    assert booking is not None
    assert (booking.state, booking.start) == ("cancelled", "2026-12-01T10:00:00Z")
    assert await store.list_bookings(ORG_ID, start_after="2026-01-01T00:00:00Z") == [booking]
    timeline = await store.list_timeline(ORG_ID, CANDIDATE_ID)
    assert [e.kind for e in timeline] == ["booked", "cancelled", "rescheduled"]
    assert "not applied" in timeline[-1].note


async def test_concurrent_callbacks_for_one_booking_apply_one_after_the_other(
    aiohttp_client: Any, store: Store
) -> None:
    """Five bookings, each chosen twice at the same moment at two different times."""
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    bodies = []
    for index in range(5):
        request = f"srq_pair_{index}"
        bodies += [
            payloads.time_chosen(
                request_id=request,
                email=f"pair{index}@example.com",
                start="2026-12-01T10:00:00Z",
                triggered_at="2026-11-27T18:00:00Z",
            ),
            payloads.time_chosen(
                request_id=request,
                email=f"pair{index}@example.com",
                start="2026-12-02T10:00:00Z",
                triggered_at="2026-11-27T18:01:00Z",
            ),
        ]
    responses = await asyncio.gather(*(p.post(body) for body in bodies))
    assert [r.status for r in responses] == [200] * len(bodies)
    jobs = await _queued(store)
    for index in range(5):
        request = f"srq_pair_{index}"
        booking = await store.get_booking(ORG_ID, request)
        # the later-triggered time wins, whichever was written first
        assert booking is not None and booking.start == "2026-12-02T10:00:00Z"
        mine = [j for j in jobs if j.payload["booking_id"] == request]
        for key in (CHANNEL_KEY, DM_KEY):
            kinds = [_kind(j) for j in mine if j.payload["target"]["kind"] in key]
            # announced as booked once; the other callback is a reschedule or a late event
            assert kinds.count("booked") == 1, kinds
            assert kinds in (["booked"], ["booked", "rescheduled"]), kinds
