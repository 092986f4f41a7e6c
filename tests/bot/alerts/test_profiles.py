from typing import Any

from cryptography.fernet import Fernet

from bot.alerts.parse import parse_notification
from bot.alerts.profiles import Resolution, resolve
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import Org
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CANDIDATE_ID, RECRUITER, seed

NOW = 1_800_000_000.0


async def _apply(store: Store, body: dict[str, Any], org: Org) -> Resolution:
    resolution = await resolve(store, org, parse_notification(body), now=NOW)
    if resolution.booking is not None:
        await store.put_booking(resolution.booking)
    return resolution


async def test_second_time_chosen_at_another_time_is_a_reschedule(store: Store) -> None:
    org = await seed(store, SecretBox([Fernet.generate_key().decode()]))
    first = await _apply(store, payloads.time_chosen(), org)
    assert first.kind == "booked" and first.alert
    assert first.candidate is not None and first.candidate.candidate_id == CANDIDATE_ID
    assert first.recruiter_id == RECRUITER

    moved = await _apply(
        store, payloads.time_chosen(start="2026-12-03T09:00:00Z", end="2026-12-03T09:30:00Z"), org
    )
    assert moved.kind == "rescheduled"
    assert moved.previous_start == "2026-12-01T10:00:00Z"
    assert moved.timeline.previous_start == "2026-12-01T10:00:00Z"
    assert moved.booking is not None and moved.booking.start == "2026-12-03T09:00:00Z"

    same = await _apply(
        store, payloads.time_chosen(start="2026-12-03T09:00:00Z", end="2026-12-03T09:30:00Z"), org
    )
    assert same.kind == "booked" and not same.alert


async def test_cancel_keeps_the_time_and_unknown_types_keep_the_state(store: Store) -> None:
    org = await seed(store, SecretBox([Fernet.generate_key().decode()]))
    await _apply(store, payloads.time_chosen(), org)
    cancelled = await _apply(
        store, payloads.time_chosen(notification_type="scheduling_request_cancelled"), org
    )
    assert cancelled.booking is not None and cancelled.booking.state == "cancelled"
    assert cancelled.booking.start == "2026-12-01T10:00:00Z"
    odd = await _apply(
        store,
        payloads.time_chosen(
            notification_type="scheduling_request_zzz", start="2026-12-09T10:00:00Z"
        ),
        org,
    )
    # an unrecognised event is a timeline entry (and a thread note): the booking is untouched
    assert odd.kind == "other" and odd.alert and odd.booking is None
    stored = await store.get_booking(org.org_id, "srq_80f7fece4f37897d62d86d80")
    assert stored is not None and stored.state == "cancelled"
    assert stored.start == "2026-12-01T10:00:00Z" and stored.version == 2
    assert odd.timeline.kind == "other" and odd.timeline.raw_type == "scheduling_request_zzz"


async def test_an_event_older_than_the_last_applied_one_goes_to_the_timeline_only(
    store: Store,
) -> None:
    org = await seed(store, SecretBox([Fernet.generate_key().decode()]))
    await _apply(store, payloads.time_chosen(triggered_at="2026-11-27T18:00:00Z"), org)
    cancel = payloads.time_chosen(
        notification_type="scheduling_request_cancelled", triggered_at="2026-11-27T18:10:00Z"
    )
    assert (await _apply(store, cancel, org)).booking is not None
    late = await _apply(
        store,
        payloads.time_chosen(
            notification_type="scheduling_request_rescheduled",
            start="2026-12-05T10:00:00Z",
            triggered_at="2026-11-27T18:05:00Z",
        ),
        org,
    )
    assert late.booking is None and not late.alert
    assert late.timeline.kind == "rescheduled" and "not applied" in late.timeline.note
    stored = await store.get_booking(org.org_id, "srq_80f7fece4f37897d62d86d80")
    assert stored is not None
    assert (stored.state, stored.start) == ("cancelled", "2026-12-01T10:00:00Z")
    assert stored.last_triggered_at == 1795803000.0  # 2026-11-27T18:10:00Z


async def test_an_event_without_triggered_at_is_taken_in_arrival_order(store: Store) -> None:
    org = await seed(store, SecretBox([Fernet.generate_key().decode()]))
    await _apply(store, payloads.time_chosen(triggered_at="2026-11-27T18:10:00Z"), org)
    body = payloads.time_chosen(notification_type="scheduling_request_cancelled")
    del body["notification"]["triggered_at"]
    cancelled = await _apply(store, body, org)
    assert cancelled.booking is not None and cancelled.booking.state == "cancelled"
    # the newest known trigger time stays the newest known
    assert cancelled.booking.last_triggered_at == 1795803000.0
    assert (cancelled.booking_version, cancelled.booking.version) == (1, 2)


async def test_org_override_changes_the_kind(store: Store) -> None:
    org = await seed(store, SecretBox([Fernet.generate_key().decode()]))
    org.type_overrides = {"scheduling_request_zzz": "declined"}
    odd = await _apply(store, payloads.time_chosen(notification_type="scheduling_request_zzz"), org)
    assert odd.kind == "declined"


async def test_no_email_and_no_correlation_means_no_candidate(store: Store) -> None:
    org = await seed(store, SecretBox([Fernet.generate_key().decode()]))
    body = payloads.time_chosen(correlation_id=None)
    body["scheduling_request"]["recipients"] = []
    resolution = await _apply(store, body, org)
    assert resolution.candidate is None
