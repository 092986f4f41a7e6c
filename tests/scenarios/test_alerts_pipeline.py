"""Cronofy callback → candidate profile → channel and DM alerts, over HTTP, on both stores."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from bot.alerts.hmac import HEADER, compute_push_hmac
from bot.chat import DeliveryFailure
from bot.errors import DeliveryError
from bot.org_state import last_callback_at
from bot.outbox.worker import SENT_NAMESPACE, OutboxWorker
from bot.store.base import Store
from bot.store.records import BookingMessage, Job
from cards.model import card_to_dict
from cards.text import to_text
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import (
    ADMIN,
    CANDIDATE_ID,
    CHANNEL,
    ORG_ID,
    RECRUITER,
    Clock,
    Pipeline,
    encode,
    sign,
    start_pipeline,
)

CHANNEL_KEY = f"channel:{CHANNEL}"
DM_KEY = f"dm:{RECRUITER}"
RESCHEDULED = payloads.time_chosen(
    start="2026-12-02T15:00:00Z", end="2026-12-02T15:30:00Z", triggered_at="2025-01-20T09:00:00Z"
)


def card_json(card: Any) -> str:
    return json.dumps(card_to_dict(card))


async def test_signed_callback_alerts_channel_and_dm(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store)
    response = await p.post(payloads.time_chosen())
    assert response.status == 200
    assert (await response.json())["status"] == "accepted"
    await p.wait_sent(2)
    await p.drain()

    [channel] = p.adapter.sent_to(CHANNEL_KEY)
    [dm] = p.adapter.sent_to(DM_KEY)
    # channel variant: the candidate's name only; the DM has the email and the notes
    assert "Dr Emmet Brown" in to_text(channel.card)
    assert "eb@example.com" not in card_json(channel.card)
    assert "dietary" not in card_json(channel.card)
    assert "eb@example.com" in card_json(dm.card)
    assert "dietary" in card_json(dm.card)
    assert channel.card.title.startswith("Interview booked")

    timeline = await store.list_timeline(ORG_ID, CANDIDATE_ID)
    assert [(e.kind, e.booking_id, e.raw_type) for e in timeline] == [
        ("booked", "srq_80f7fece4f37897d62d86d80", "scheduling_request_time_chosen")
    ]
    assert timeline[0].start == "2026-12-01T10:00:00Z" and timeline[0].zone == "Europe/London"
    booking = await store.get_booking(ORG_ID, "srq_80f7fece4f37897d62d86d80")
    assert booking is not None and booking.state == "booked"
    assert booking.candidate_id == CANDIDATE_ID and booking.recruiter_id == RECRUITER
    refs = await store.get_message_refs(ORG_ID, "srq_80f7fece4f37897d62d86d80")
    # each reference remembers the booking version its message shows
    assert refs[CHANNEL_KEY] == dataclasses.replace(channel.ref, seq=1)
    assert refs[DM_KEY] == dataclasses.replace(dm.ref, seq=1)
    org = await store.get_org(ORG_ID)
    assert org is not None and await last_callback_at(store, org) is not None
    # the sent markers are gone once the jobs are acked
    assert await store.kv_list(SENT_NAMESPACE) == {}


async def test_replay_changes_nothing(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store)
    body = encode(payloads.time_chosen())
    assert (await p.post(body)).status == 200
    await p.wait_sent(2)
    await p.drain()
    replay = await p.post(body)
    assert replay.status == 200
    assert (await replay.json())["status"] == "duplicate"
    await p.drain()
    assert len(p.adapter.sent) == 2 and p.adapter.updates == []
    assert len(await store.list_timeline(ORG_ID, CANDIDATE_ID)) == 1


async def test_same_time_chosen_again_does_not_alert_twice(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store)
    assert (await p.post(payloads.time_chosen())).status == 200
    await p.wait_sent(2)
    again = payloads.time_chosen(triggered_at="2025-01-19T16:15:00Z")  # new bytes, same time
    assert (await p.post(again)).status == 200
    await p.drain()
    assert len(p.adapter.sent) == 2 and p.adapter.updates == []
    assert len(await store.list_timeline(ORG_ID, CANDIDATE_ID)) == 2


async def test_reschedule_updates_original_and_replies_in_thread(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store)
    assert (await p.post(payloads.time_chosen())).status == 200
    await p.wait_sent(2)
    await p.drain()
    assert (await p.post(RESCHEDULED)).status == 200
    await p.drain()

    assert len(p.adapter.sent) == 2  # no new message: the original ones change
    originals = {s.ref.message_id for s in p.adapter.sent}
    assert {ref.message_id for ref, _card in p.adapter.updates} == originals
    assert {ref.message_id for ref, _card, _reply in p.adapter.replies} == originals
    for _ref, card in p.adapter.updates:
        assert card.title.startswith("Interview rescheduled")
    timeline = await store.list_timeline(ORG_ID, CANDIDATE_ID)
    assert [e.kind for e in timeline] == ["booked", "rescheduled"]
    assert timeline[1].previous_start == "2026-12-01T10:00:00Z"
    assert timeline[1].start == "2026-12-02T15:00:00Z"
    booking = await store.get_booking(ORG_ID, "srq_80f7fece4f37897d62d86d80")
    assert booking is not None and booking.state == "rescheduled"
    assert booking.start == "2026-12-02T15:00:00Z"

    cancelled = payloads.time_chosen(
        notification_type="scheduling_request_cancelled", triggered_at="2025-01-21T00:00:00Z"
    )
    assert (await p.post(cancelled)).status == 200
    await p.drain()
    assert len(p.adapter.sent) == 2 and len(p.adapter.updates) == 4
    assert p.adapter.updates[-1][1].title.startswith("Interview cancelled")


async def test_dm_alerts_off_means_channel_only(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store, dm_alerts=False)
    assert (await p.post(payloads.time_chosen())).status == 200
    await p.wait_sent(1)
    await p.drain()
    assert [s.target.key for s in p.adapter.sent] == [CHANNEL_KEY]


async def test_unknown_email_creates_a_profile(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store)
    body = payloads.time_chosen(
        correlation_id=None, email="New.Person@Example.com", name="New Person", request_id="srq_2"
    )
    assert (await p.post(body)).status == 200
    await p.wait_sent(1)
    candidate = await store.find_candidate_by_email(ORG_ID, "new.person@example.com")
    assert candidate is not None and candidate.name == "New Person"
    assert [e.kind for e in await store.list_timeline(ORG_ID, candidate.candidate_id)] == ["booked"]


async def test_retry_after_is_honoured(aiohttp_client: Any, store: Store) -> None:
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    p.adapter.fail_for(
        CHANNEL_KEY, DeliveryError("ratelimited", retry_after=30.0, reason="ratelimited")
    )
    assert (await p.post(payloads.time_chosen())).status == 200
    worker = p.worker(base_delay=1.0)
    assert await worker.run_once() == 2
    assert len(p.adapter.sent) == 1  # one failed with Retry-After: 30
    clock.advance(29)
    assert await worker.run_once() == 0  # backoff alone (1s) would have allowed it
    clock.advance(2)
    assert await worker.run_once() == 1
    assert len(p.adapter.sent) == 2 and await store.outbox_depth() == 0


async def test_backoff_grows_with_jitter_and_dead_letters_after_8(
    aiohttp_client: Any, store: Store
) -> None:
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    p.services.delivery["slack"].fail_next(  # type: ignore[attr-defined]
        *[DeliveryError("slack down", reason="internal_error") for _ in range(16)]
    )
    assert (await p.post(payloads.time_chosen())).status == 200
    worker = p.worker(base_delay=1.0, max_delay=100.0, rng=lambda: 0.0)
    delays = [worker.backoff(n, None) for n in range(1, 9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 50.0]
    for _ in range(8):
        await worker.run_once()
        clock.advance(200)
    dead = await store.list_dead_letters(ORG_ID)
    assert len(dead) == 2 and all(job.attempts == 8 for job in dead)
    assert p.adapter.sent == [] and await store.outbox_depth() == 0


async def test_permanent_error_dead_letters_and_tells_admins_once(
    aiohttp_client: Any, store: Store
) -> None:
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    worker = p.worker()
    for n, request_id in enumerate(("srq_a", "srq_b")):
        p.adapter.fail_for(
            CHANNEL_KEY,
            DeliveryError(
                "channel_not_found",
                failure=DeliveryFailure.NOT_MEMBER,
                reason="channel_not_found",
            ),
        )
        body = payloads.time_chosen(request_id=request_id, triggered_at=f"2025-01-2{n}T00:00:00Z")
        assert (await p.post(body)).status == 200
        while await worker.run_once():
            pass
    dead = await store.list_dead_letters(ORG_ID)
    assert len(dead) == 2 and {j.attempts for j in dead} == {1}
    assert all(j.dead_reason == "channel_not_found" for j in dead)
    notices = p.adapter.sent_to(f"dm:{ADMIN}")
    assert len(notices) == 1  # once, although two alerts failed
    assert "#hiring" in to_text(notices[0].card)
    assert len(p.adapter.sent_to(f"dm:{RECRUITER}")) == 2

    # an admin fixes the channel and replays the dead letters
    assert await store.requeue_dead_letters(None) == 2
    while await worker.run_once():
        pass
    assert len(p.adapter.sent_to(CHANNEL_KEY)) == 2


async def _claim_after_timeout(worker: OutboxWorker, clock: Clock, want: int) -> int:
    """Run `worker` until it has reclaimed `want` jobs whose holder died. The store's notion
    of idle time may be its own (Redis measures it on the server), so advance the test clock
    and also let real time pass, within a generous bound."""
    claimed = 0
    deadline = asyncio.get_running_loop().time() + 15
    while claimed < want and asyncio.get_running_loop().time() < deadline:
        clock.advance(worker.visibility_timeout + 1)
        claimed += await worker.run_once()
        if claimed < want:
            await asyncio.sleep(0.05)
    return claimed


class _DiesBeforeItsAck(OutboxWorker):
    """A worker process killed right after a message went out: the store write that records
    it (the job's ack, with the booking's message reference) never happens."""

    async def _ack(self, *args: Any) -> None:
        raise asyncio.CancelledError


class _EarlierReleaseDiesAfterItsMarker(OutboxWorker):
    """A worker of a release that wrote a sent marker before every ack (its jobs can still
    be in the store after an upgrade), killed between the two: the marker is written; the
    booking's message reference and the ack are not."""

    async def _ack(self, job: Job, lane: Any, messages: list[BookingMessage]) -> None:
        await self._mark_sent(job, messages[0].ref if messages else None, None)
        raise asyncio.CancelledError


async def test_worker_killed_mid_send_is_delivered_once(aiohttp_client: Any, store: Store) -> None:
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    assert (await p.post(payloads.time_chosen())).status == 200
    p.adapter.hold_sends()
    first = p.worker(visibility_timeout=0.3)
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(p.adapter.send_started.wait(), 15)
    task.cancel()  # killed while the platform call is in flight
    await asyncio.gather(task, return_exceptions=True)
    p.adapter.release()
    assert p.adapter.sent == []

    second = p.worker(visibility_timeout=0.3)
    assert await _claim_after_timeout(second, clock, 2) == 2
    assert sorted(s.target.key for s in p.adapter.sent) == [CHANNEL_KEY, DM_KEY]
    assert await store.outbox_depth() == 0


async def test_worker_killed_after_send_before_ack_sends_again(
    aiohttp_client: Any, store: Store
) -> None:
    """Nothing recorded the message: the job is done again. On an adapter that cannot find
    what a job posted (this one, Teams) the message is there twice, at least once being the
    promise; Slack's adapter finds it instead (tests/adapters/slack/test_delivery.py)."""
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    assert (await p.post(payloads.time_chosen())).status == 200
    dying = _DiesBeforeItsAck(p.services, consumer="dying", visibility_timeout=0.3)
    with pytest.raises(asyncio.CancelledError):
        await dying.run_once()
    [lost] = p.adapter.sent
    assert await store.outbox_depth() == 2
    assert await store.get_message_refs(ORG_ID, "srq_80f7fece4f37897d62d86d80") == {}

    assert await _claim_after_timeout(p.worker(visibility_timeout=0.3), clock, 2) == 2
    assert len(p.adapter.sent_to(lost.target.key)) == 2
    assert sorted(s.target.key for s in p.adapter.sent) == sorted(
        [CHANNEL_KEY, DM_KEY, lost.target.key]
    )
    refs = await store.get_message_refs(ORG_ID, "srq_80f7fece4f37897d62d86d80")
    again = p.adapter.sent_to(lost.target.key)[1].ref
    assert refs[lost.target.key] == dataclasses.replace(again, seq=1)
    assert await store.outbox_depth() == 0


async def test_worker_of_an_earlier_release_killed_after_its_marker_sends_no_duplicate(
    aiohttp_client: Any, store: Store
) -> None:
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    assert (await p.post(payloads.time_chosen())).status == 200
    dying = _EarlierReleaseDiesAfterItsMarker(p.services, consumer="dying", visibility_timeout=0.3)
    with pytest.raises(asyncio.CancelledError):
        await dying.run_once()
    assert len(p.adapter.sent) == 1 and await store.outbox_depth() == 2

    assert await _claim_after_timeout(p.worker(visibility_timeout=0.3), clock, 2) == 2
    assert sorted(s.target.key for s in p.adapter.sent) == [CHANNEL_KEY, DM_KEY]  # no duplicate
    refs = await store.get_message_refs(ORG_ID, "srq_80f7fece4f37897d62d86d80")
    assert set(refs) == {CHANNEL_KEY, DM_KEY}
    assert await store.outbox_depth() == 0


async def test_a_job_sent_before_its_worker_died_leaves_a_newer_message_reference_alone(
    aiohttp_client: Any, store: Store
) -> None:
    """A worker (of the release that wrote sent markers) dies after posting a booking's
    alert and writing its marker, before its ack. The reschedule is
    delivered before that job is claimed again: with no message on record it posts one of its
    own, showing the newer version. The reclaimed job, finding its sent marker, records where
    its message went only if what is on record is older, so the next change updates the
    message that shows the newest state."""
    booking = "srq_80f7fece4f37897d62d86d80"
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    assert (await p.post(payloads.time_chosen())).status == 200
    dying = _EarlierReleaseDiesAfterItsMarker(
        p.services, consumer="dying", visibility_timeout=0.3, batch_size=1
    )
    with pytest.raises(asyncio.CancelledError):
        await dying.run_once()
    [lost] = p.adapter.sent
    key = lost.target.key
    assert key not in await store.get_message_refs(ORG_ID, booking)

    # the reschedule, by a worker that does not take over the dead one's job yet
    clock.advance(1)
    assert (await p.post(RESCHEDULED)).status == 200
    live = p.worker(visibility_timeout=60.0)
    while await live.run_once():
        pass
    [_, newer] = p.adapter.sent_to(key)
    on_record = dataclasses.replace(newer.ref, seq=2)
    assert (await store.get_message_refs(ORG_ID, booking))[key] == on_record

    # the dead worker's job is claimed again: sent already, so it only records its message
    assert await _claim_after_timeout(p.worker(visibility_timeout=0.3), clock, 1) == 1
    assert len(p.adapter.sent_to(key)) == 2 and await store.outbox_depth() == 0
    refs = await store.get_message_refs(ORG_ID, booking)
    assert refs[key] == on_record, "the reference went back to the older message"

    # and the next change updates the newer message, not the one the dead worker posted
    third = payloads.time_chosen(
        start="2026-12-03T15:00:00Z",
        end="2026-12-03T15:30:00Z",
        triggered_at="2025-01-21T09:00:00Z",
    )
    assert (await p.post(third)).status == 200
    while await live.run_once():
        pass
    updated = [ref.message_id for ref, _card in p.adapter.updates]
    assert newer.ref.message_id in updated and lost.ref.message_id not in updated


async def test_shutdown_finishes_the_job_in_hand(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    assert (await p.post(payloads.time_chosen())).status == 200
    p.adapter.hold_sends()
    worker = p.worker(batch_size=1)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(p.adapter.send_started.wait(), 15)
    worker.stop()
    p.adapter.release()
    await asyncio.wait_for(task, 15)
    assert len(p.adapter.sent) == 1 and await store.outbox_depth() == 1  # one done, one left


async def test_gdpr_requested_audits_and_tells_admins(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store)
    assert (await p.post(payloads.channel("gdpr_requested"))).status == 200
    await p.wait_sent(1)
    assert [s.target.key for s in p.adapter.sent] == [f"dm:{ADMIN}"]
    assert [a.action for a in await store.list_audit(ORG_ID)] == ["cronofy.gdpr_requested"]


@pytest.mark.parametrize("kind", ["verification", "change", "something_new_from_cronofy"])
async def test_other_notifications_acknowledged(
    aiohttp_client: Any, store: Store, kind: str
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    response = await p.post(payloads.channel(kind, changes_since="2026-08-25T20:06:29Z"))
    assert response.status == 200
    assert await store.outbox_depth() == 0


async def test_unknown_scheduling_type_is_recorded_and_alerted_as_other(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store)
    body = payloads.time_chosen(notification_type="scheduling_request_brand_new_stage")
    assert (await p.post(body)).status == 200
    await p.wait_sent(2)
    [entry] = await store.list_timeline(ORG_ID, CANDIDATE_ID)
    assert entry.kind == "other" and entry.raw_type == "scheduling_request_brand_new_stage"
    # the alert itself: a general update naming Cronofy's type, in the channel and the DM
    assert sorted(s.target.key for s in p.adapter.sent) == sorted([CHANNEL_KEY, DM_KEY])
    for sent in p.adapter.sent:
        assert sent.card.title.startswith("Scheduling update")
        assert "scheduling_request_brand_new_stage" in to_text(sent.card)
    # an event Slotbot does not understand makes no booking of its own
    assert await store.get_booking(ORG_ID, "srq_80f7fece4f37897d62d86d80") is None


async def test_unknown_event_for_a_booking_is_a_thread_note_and_leaves_the_message(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store)
    assert (await p.post(payloads.time_chosen())).status == 200
    cancelled = payloads.time_chosen(
        notification_type="scheduling_request_cancelled", triggered_at="2025-01-21T00:00:00Z"
    )
    assert (await p.post(cancelled)).status == 200
    await p.wait_sent(2)
    await p.drain()
    updates = len(p.adapter.updates)
    odd = payloads.time_chosen(
        notification_type="scheduling_request_brand_new_stage",
        start="2026-12-09T10:00:00Z",
        triggered_at="2025-01-22T00:00:00Z",
    )
    assert (await p.post(odd)).status == 200
    await p.drain()
    # no redraw (which would drop "cancelled" and bring the buttons back), no new message
    assert len(p.adapter.updates) == updates and len(p.adapter.sent) == 2
    notes = [card for _ref, card, _reply in p.adapter.replies if card.fallback == "Updated"]
    assert len(notes) == 2  # one in each thread
    booking = await store.get_booking(ORG_ID, "srq_80f7fece4f37897d62d86d80")
    assert booking is not None and booking.state == "cancelled"
    assert booking.start == "2026-12-01T10:00:00Z"
    timeline = await store.list_timeline(ORG_ID, CANDIDATE_ID)
    assert [e.kind for e in timeline] == ["booked", "cancelled", "other"]


# --- bad input ----------------------------------------------------------------------------


async def _nothing_stored(p: Pipeline) -> None:
    assert await p.store.outbox_depth() == 0
    assert await p.store.list_audit(ORG_ID) == []
    assert await p.store.list_timeline(ORG_ID, CANDIDATE_ID) == []
    assert await p.store.get_booking(ORG_ID, "srq_80f7fece4f37897d62d86d80") is None


def _bad_requests() -> list[tuple[str, str, bytes, dict[str, str], int]]:
    good = encode(payloads.time_chosen())
    reserialised = json.dumps(json.loads(good), indent=2).encode()
    deep = b"[" * 100_000 + b"]" * 100_000
    cases: list[tuple[str, str, bytes, dict[str, str], int]] = [
        ("missing header", "", good, {"Content-Type": "application/json"}, 401),
        ("wrong secret", "", good, sign(good, "another-secret"), 401),
        ("hmac over re-serialised json", "", reserialised, sign(good), 401),
        ("empty body unsigned", "", b"", {"Content-Type": "application/json"}, 401),
        ("empty body signed", "", b"", sign(b""), 400),
        ("json array", "", b"[1,2]", sign(b"[1,2]"), 400),
        ("json string", "", b'"hello"', sign(b'"hello"'), 400),
        ("deeply nested", "", deep, sign(deep), 400),
        ("not json", "", b"{nope", sign(b"{nope"), 400),
        ("not utf-8", "", b'{"a":"\xff"}', sign(b'{"a":"\xff"}'), 400),
        ("wrong content type", "", good, {**sign(good), "Content-Type": "text/plain"}, 415),
        (
            "form content type",
            "",
            good,
            {**sign(good), "Content-Type": "application/x-www-form-urlencoded"},
            415,
        ),
        ("unknown org", "/cronofy/push/nosuchorg", good, sign(good), 404),
        ("odd org key", "/cronofy/push/..%2F..", good, sign(good), 404),
    ]
    return cases


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"),
    [case[1:] for case in _bad_requests()],
    ids=[case[0] for case in _bad_requests()],
)
async def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    aiohttp_client: Any, store: Store, path: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    response = await p.client.post(
        path or "/cronofy/push/pushkey_0123456789abcdef", data=body, headers=headers
    )
    assert response.status == status
    assert "error" in await response.json()
    await _nothing_stored(p)


async def test_oversized_body_is_413(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    big = encode({"notification": {"type": "change"}, "pad": "x" * (1024 * 1024)})
    response = await p.post(big)
    assert response.status == 413
    await _nothing_stored(p)


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"],
)
async def test_json_content_type_variants_accepted(
    aiohttp_client: Any, store: Store, content_type: str | None
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    body = encode(payloads.channel("verification"))
    headers = {HEADER: compute_push_hmac("CRN_test_client_secret_alerts_0001", body)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await p.client.post(
        "/cronofy/push/pushkey_0123456789abcdef",
        data=body,
        headers=headers,
        skip_auto_headers=["Content-Type"],
    )
    assert response.status == 200


async def test_rotated_secrets_comma_separated(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    body = encode(payloads.channel("verification"))
    header = f"{compute_push_hmac('old-secret', body)} , {sign(body)[HEADER]}"
    response = await p.post(body, headers={HEADER: header, "Content-Type": "application/json"})
    assert response.status == 200
