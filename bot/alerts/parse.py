"""Typed reading of Cronofy callbacks.

Three families arrive at the push URL:
- Scheduler / scheduling-request notifications:
  `{"notification": {"type": "scheduling_request_…", "triggered_at": …}, "scheduling_request": {…}}`;
- Real-Time Scheduling callbacks: `{"event": {…}, "participants": […], …}` with no
  `notification` object (the completed / no-times-suitable URL tells which);
- channel notifications: `{"notification": {"type": "change", …}, "channel": {…}}`.

`notification.type` is an open string, so parsing never rejects a type; it is mapped to an
alert kind through a default table that an org may override. Every optional field may be
missing or of the wrong JSON type: parsing never raises on the shape of the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from bot.store.records import ALERT_KINDS

Family = Literal["scheduling_request", "real_time_scheduling", "channel", "unknown"]

# types Cronofy documents for per-account channels; anything else there is "other"
CHANNEL_TYPES = frozenset(
    {
        "verification",
        "change",
        "profile_disconnected",
        "profile_initial_sync_completed",
        "conferencing_profile_disconnected",
        "gdpr_requested",
    }
)
RTS_COMPLETED = "real_time_scheduling_completed"
RTS_NO_TIMES_SUITABLE = "real_time_scheduling_no_times_suitable"

# Exact types first. Only `scheduling_request_time_chosen` is confirmed by Cronofy's docs; the
# other names follow its pattern, and the substring rules below catch variants of them.
DEFAULT_KINDS: dict[str, str] = {
    "scheduling_request_time_chosen": "booked",
    "scheduling_request_rescheduled": "rescheduled",
    "scheduling_request_cancelled": "cancelled",
    "scheduling_request_canceled": "cancelled",
    "scheduling_request_declined": "declined",
    "scheduling_request_no_times_suitable": "declined",
    RTS_COMPLETED: "booked",
    RTS_NO_TIMES_SUITABLE: "declined",
}
_SUBSTRING_KINDS: tuple[tuple[str, str], ...] = (
    ("resched", "rescheduled"),
    ("cancel", "cancelled"),
    ("declin", "declined"),
    ("suit", "declined"),
    ("time_chosen", "booked"),
)
MAX_TEXT = 512  # longer strings from a payload are cut: they end up in messages


def kind_for(raw_type: str, overrides: Mapping[str, str] | None = None) -> str:
    """The alert kind of a notification type: the org's override, the table, then "other"."""
    if overrides:
        chosen = overrides.get(raw_type)
        if chosen in ALERT_KINDS:
            return chosen
    if raw_type in DEFAULT_KINDS:
        return DEFAULT_KINDS[raw_type]
    if raw_type.startswith(("scheduling_request", "real_time_scheduling")):
        lowered = raw_type.lower()
        for needle, kind in _SUBSTRING_KINDS:
            if needle in lowered:
                return kind
    return "other"


@dataclass(frozen=True)
class Recipient:
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Notification:
    """What Slotbot uses from one callback; every field but `family` and `raw_type` optional."""

    family: Family
    raw_type: str
    triggered_at: str | None = None
    booking_id: str | None = None
    correlation_id: str | None = None
    summary: str | None = None
    recipients: tuple[Recipient, ...] = ()
    start: str | None = None
    end: str | None = None
    zone: str | None = None
    meeting_url: str | None = None
    view_url: str | None = None
    reschedule_url: str | None = None
    decline_url: str | None = None
    # what the candidate typed into the booking form (Scheduler "captured_data.*")
    phone: str | None = None
    notes: str | None = None
    participant_subs: tuple[str, ...] = ()
    channel_id: str | None = None
    changes_since: str | None = None
    # who a channel notification is about, when the callback URL says so (?member= / ?sub=)
    subject: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_scheduling(self) -> bool:
        return self.family in ("scheduling_request", "real_time_scheduling")


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:MAX_TEXT]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)[:MAX_TEXT]
    return None


def _url(value: Any) -> str | None:
    text = _text(value)
    if text is None or not text.lower().startswith(("https://", "http://")):
        return None
    return text


def _path(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _time(value: Any) -> tuple[str | None, str | None]:
    """Cronofy times are either "2024-07-27T10:00:00Z" or {"time": …, "tzid": …}."""
    if isinstance(value, dict):
        return _text(value.get("time")), _text(value.get("tzid"))
    return _text(value), None


def _recipients(value: Any) -> tuple[Recipient, ...]:
    """Recipients, the slot selector (the candidate) first."""
    if not isinstance(value, list):
        return ()
    selectors: list[Recipient] = []
    others: list[Recipient] = []
    for item in value[:50]:
        if not isinstance(item, dict):
            continue
        email = _text(item.get("email"))
        name = _text(item.get("display_name")) or _text(item.get("name"))
        if email or name:
            recipient = Recipient(email=email.lower() if email else None, name=name)
            (selectors if item.get("slot_selector") is True else others).append(recipient)
    return tuple(selectors + others)


def _meeting_url(event: dict[str, Any]) -> str | None:
    return (
        _url(_path(event, "conferencing", "join_url"))
        or _url(event.get("meeting_url"))
        or _url(_path(event, "location", "description"))
    )


def _event_fields(event: dict[str, Any], zone_hint: str | None = None) -> dict[str, Any]:
    start, start_zone = _time(event.get("start"))
    end, end_zone = _time(event.get("end"))
    return {
        "start": start,
        "end": end,
        "zone": start_zone or end_zone or _text(event.get("tzid")) or zone_hint,
        "meeting_url": _meeting_url(event),
    }


def _correlation_id(*sources: Any) -> str | None:
    for source in sources:
        value = _text(_path(source, "metadata", "scheduler", "correlation_id"))
        if value is None:
            value = _text(_path(source, "metadata", "correlation_id"))
        if value is not None:
            return value[:128]
    return None


def _captured(event: dict[str, Any], name: str) -> str | None:
    return _text(_path(event, "metadata", "scheduler", f"captured_data.{name}"))


def _query_value(url: str | None, *names: str) -> str | None:
    if not url:
        return None
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return None
    for name in names:
        values = query.get(name)
        if values and values[0].strip():
            return values[0].strip()[:MAX_TEXT]
    return None


def _named_email(notification: dict[str, Any]) -> dict[str, str]:
    """{"email": …} when a notification names a person by email (a data request may: Cronofy's
    documented `gdpr_requested` carries none, and then nothing is matched)."""
    email = _text(notification.get("email"))
    return {"email": email.lower()} if email and "@" in email else {}


def parse_notification(payload: Any, *, callback: str | None = None) -> Notification:
    """Read one callback body (already a JSON value). `callback` is the push URL's
    `?callback=` value (e.g. "completed" or "no_times_suitable" for Real-Time Scheduling)."""
    data = _obj(payload)
    notification = _obj(data.get("notification"))
    raw_type = _text(notification.get("type"))
    triggered_at = _text(notification.get("triggered_at"))
    request = data.get("scheduling_request")

    if isinstance(request, dict):
        event = _obj(request.get("event"))
        operations = _obj(request.get("recipient_operations"))
        return Notification(
            family="scheduling_request",
            raw_type=raw_type or "scheduling_request",
            triggered_at=triggered_at,
            booking_id=_text(request.get("scheduling_request_id")) or _text(event.get("event_id")),
            correlation_id=_correlation_id(event, request),
            summary=_text(event.get("summary")) or _text(request.get("summary")),
            recipients=_recipients(request.get("recipients")),
            view_url=_url(operations.get("view_url")),
            reschedule_url=_url(operations.get("reschedule_url")),
            decline_url=_url(operations.get("decline_url")),
            phone=_captured(event, "phone_number"),
            notes=_captured(event, "notes"),
            **_event_fields(event),
        )

    if isinstance(data.get("channel"), dict) or (
        raw_type is not None and raw_type in CHANNEL_TYPES
    ):
        channel = _obj(data.get("channel"))
        callback_url = _text(channel.get("callback_url"))
        return Notification(
            family="channel",
            raw_type=raw_type or "channel",
            triggered_at=triggered_at,
            channel_id=_text(channel.get("channel_id")),
            changes_since=_text(notification.get("changes_since")),
            subject=_query_value(callback_url, "member", "sub", "user"),
            extra=_named_email(notification),
        )

    rts_event = data.get("event")
    if raw_type is None and isinstance(rts_event, dict):
        event = rts_event
        fields = _event_fields(event, _text(_path(data, "user", "tzid")))
        if callback in ("completed", "no_times_suitable"):
            rts_type = f"real_time_scheduling_{callback}"
        else:
            rts_type = RTS_COMPLETED if fields["start"] else RTS_NO_TIMES_SUITABLE
        participants = data.get("participants")
        subs = tuple(
            sub
            for item in (participants if isinstance(participants, list) else [])[:20]
            if (sub := _text(_path(item, "sub"))) is not None
        )
        return Notification(
            family="real_time_scheduling",
            raw_type=rts_type,
            booking_id=_text(event.get("event_id")),
            # Slotbot creates Real-Time Scheduling links with event_id = the correlation id
            correlation_id=_correlation_id(event, data) or _text(event.get("event_id")),
            summary=_text(event.get("summary")),
            recipients=_recipients(data.get("recipients") or event.get("attendees")),
            participant_subs=subs,
            **fields,
        )

    return Notification(family="unknown", raw_type=raw_type or "unknown", triggered_at=triggered_at)
