import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.parse import kind_for, parse_notification
from tests.bot.alerts import payloads
from tests.support.fuzzing import fuzz_examples


def test_time_chosen_documented_example() -> None:
    note = parse_notification(payloads.time_chosen())
    assert note.family == "scheduling_request"
    assert note.raw_type == "scheduling_request_time_chosen"
    assert note.booking_id == "srq_80f7fece4f37897d62d86d80"
    assert note.correlation_id == "foobar"
    assert note.recipients[0].email == "eb@example.com"
    assert note.recipients[0].name == "Dr Emmet Brown"
    assert (note.start, note.end, note.zone) == (
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:30:00Z",
        "Europe/London",
    )
    assert note.reschedule_url == "https://app.cronofy.com/rts/LOiwlKXQ?reschedule=true"
    assert note.decline_url == "https://app.cronofy.com/rts/LOiwlKXQ?decline=true"
    assert note.meeting_url == "https://meet.example.com/abc"
    assert kind_for(note.raw_type) == "booked"


def test_slot_selector_comes_first_and_email_is_lower_cased() -> None:
    body = payloads.time_chosen()
    body["scheduling_request"]["recipients"] = [
        {"email": "Host@Example.com", "display_name": "Host"},
        {"email": "Cand@Example.COM", "display_name": "Cand", "slot_selector": True},
    ]
    note = parse_notification(body)
    assert [r.email for r in note.recipients] == ["cand@example.com", "host@example.com"]


def test_real_time_scheduling_callbacks() -> None:
    note = parse_notification(payloads.RTS_COMPLETED)
    assert note.family == "real_time_scheduling"
    assert note.raw_type == "real_time_scheduling_completed"
    assert note.booking_id == "qTtZdczOccgaPncGJaCiLg"
    assert note.participant_subs == ("acc_5ba21743f408617d1269ea1e",)
    assert note.correlation_id == "qTtZdczOccgaPncGJaCiLg"  # Slotbot's links: event_id
    assert kind_for(note.raw_type) == "booked"
    unsuitable = parse_notification(payloads.RTS_COMPLETED, callback="no_times_suitable")
    assert unsuitable.raw_type == "real_time_scheduling_no_times_suitable"
    assert kind_for(unsuitable.raw_type) == "declined"


@pytest.mark.parametrize(
    "kind",
    [
        "verification",
        "change",
        "profile_disconnected",
        "profile_initial_sync_completed",
        "gdpr_requested",
        "conferencing_profile_disconnected",
        "something_new",
    ],
)
def test_channel_notifications(kind: str) -> None:
    note = parse_notification(payloads.channel(kind, changes_since="2026-08-25T20:06:29Z"))
    assert note.family == "channel"
    assert note.raw_type == kind
    assert note.channel_id == "chn_6a8df5c5944f9501621a3083"
    assert kind_for(note.raw_type) == "other"


def test_channel_callback_url_names_the_member() -> None:
    body = payloads.channel("profile_disconnected")
    body["channel"]["callback_url"] = "https://bot.example.com/cronofy/push/k?member=U42"
    assert parse_notification(body).subject == "U42"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("scheduling_request_time_chosen", "booked"),
        ("scheduling_request_rescheduled", "rescheduled"),
        ("scheduling_request_time_rescheduled", "rescheduled"),
        ("scheduling_request_cancelled", "cancelled"),
        ("scheduling_request_canceled_by_host", "cancelled"),
        ("scheduling_request_declined", "declined"),
        ("scheduling_request_no_times_suitable", "declined"),
        ("scheduling_request_something_else", "other"),
        ("change", "other"),
        ("", "other"),
    ],
)
def test_default_kind_table(raw: str, kind: str) -> None:
    assert kind_for(raw) == kind


def test_org_overrides_win_and_bad_overrides_are_ignored() -> None:
    overrides = {"scheduling_request_declined": "cancelled", "x_custom": "booked", "y": "nonsense"}
    assert kind_for("scheduling_request_declined", overrides) == "cancelled"
    assert kind_for("x_custom", overrides) == "booked"
    assert kind_for("y", overrides) == "other"
    assert kind_for("scheduling_request_time_chosen", overrides) == "booked"


def test_missing_optional_fields() -> None:
    note = parse_notification(
        {"notification": {"type": "scheduling_request_time_chosen"}, "scheduling_request": {}}
    )
    assert note.family == "scheduling_request"
    assert note.booking_id is None and note.start is None and note.recipients == ()
    assert note.correlation_id is None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        [],
        "text",
        None,
        12,
        {"notification": "x"},
        {"notification": {"type": 5}},
        {"notification": {"type": ["a"]}, "scheduling_request": []},
        {"scheduling_request": {"recipients": "nobody", "event": [], "recipient_operations": 1}},
        {"scheduling_request": {"recipients": [1, None, {"email": 3}], "event": {"start": 7}}},
        {
            "notification": {"type": "scheduling_request_time_chosen"},
            "scheduling_request": {"event": {"metadata": {"scheduler": "x"}}},
        },
        {"event": {"start": {"time": None}}, "participants": [None, {"sub": {}}]},
        {"channel": "x", "notification": {"type": "change"}},
    ],
)
def test_hostile_shapes_never_raise(payload: Any) -> None:
    note = parse_notification(payload)
    assert isinstance(note.raw_type, str) and note.raw_type


def test_non_http_urls_are_dropped() -> None:
    body = payloads.time_chosen()
    body["scheduling_request"]["recipient_operations"]["reschedule_url"] = "javascript:alert(1)"
    body["scheduling_request"]["event"]["conferencing"]["join_url"] = "ftp://x"
    note = parse_notification(body)
    assert note.reschedule_url is None and note.meeting_url is None


def test_long_correlation_id_is_cut_to_128() -> None:
    body = payloads.time_chosen(correlation_id="c" * 1000)
    assert len(parse_notification(body).correlation_id or "") == 128


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "notification",
                    "type",
                    "scheduling_request",
                    "event",
                    "start",
                    "time",
                    "tzid",
                    "recipients",
                    "email",
                    "metadata",
                    "scheduler",
                    "correlation_id",
                    "channel",
                    "participants",
                    "sub",
                    "recipient_operations",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=fuzz_examples(100), deadline=None)
@given(JSON)
def test_fuzz_parser_accepts_any_json(value: Any) -> None:
    note = parse_notification(copy.deepcopy(value))
    assert kind_for(note.raw_type) in ("booked", "rescheduled", "cancelled", "declined", "other")
