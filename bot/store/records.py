"""What the store keeps: plain dataclasses, serialisable to JSON.

Times are UTC epoch seconds (float) unless the name says otherwise; event start/end keep
Cronofy's ISO-8601 text and time zone. Fields ending in `_enc` hold Fernet ciphertext
made by `bot.secrets.SecretBox`: the store never sees a secret in plain text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from bot import jsonio

AlertKind = Literal["booked", "rescheduled", "cancelled", "declined", "other"]
ALERT_KINDS: tuple[AlertKind, ...] = ("booked", "rescheduled", "cancelled", "declined", "other")
# what a channel gets unless asked for more: the four things that happen to a booking, not
# "other" (Cronofy's reminders and notices, noise in a channel)
BOOKING_KINDS: tuple[AlertKind, ...] = ("booked", "rescheduled", "cancelled", "declined")
DATA_CENTERS: tuple[str, ...] = ("us", "uk", "de", "au", "ca", "sg")

T = TypeVar("T")


def to_dict(record: Any) -> dict[str, Any]:
    """A record (nested records included) as plain JSON-ready data."""
    return dataclasses.asdict(record)


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _record_fields(value: Any) -> dict[str, Any]:
    """The JSON encoder's hook for a nested record: its fields, left for the encoder to walk."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: getattr(value, name) for name in _field_names(type(value))}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(record: Any) -> str:
    # keys sorted as json.dumps(to_dict(record), sort_keys=True) sorts them, without asdict's
    # deep copy, through orjson (bot.jsonio): records are written on every callback
    return jsonio.dumps_sorted(record, default=_record_fields)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a record from a dict, ignoring unknown keys (forward compatible).

    Fields that hold other records are rebuilt by the decoders in `_NESTED`, so a record
    read back equals the one written.
    """
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be stored as a JSON object")
    names = _field_names(cls)
    values = {k: v for k, v in data.items() if k in names}
    for name, decode in _NESTED.get(cls, {}).items():
        if name in values:
            values[name] = decode(values[name])
    return cls(**values)


def from_json(cls: type[T], text: str | bytes) -> T:
    # orjson where installed (bot.jsonio): every record read from either store comes here
    return from_dict(cls, jsonio.loads(text))


def _optional(cls: type[Any]) -> Callable[[Any], Any]:
    def decode(value: Any) -> Any:
        return None if value is None else from_dict(cls, value)

    return decode


def _list_of(cls: type[Any]) -> Callable[[Any], Any]:
    def decode(value: Any) -> Any:
        return [from_dict(cls, item) for item in value or []]

    return decode


@dataclass
class CronofyConfig:
    client_id: str
    client_secret_enc: str
    data_center: str  # one of DATA_CENTERS
    configured_by: str  # user id
    configured_at: float


@dataclass
class AlertRoute:
    """Alerts of these kinds go to this conversation (a Slack channel id, a Teams conversation id)."""

    conversation_id: str
    kinds: list[str] = field(default_factory=lambda: list(ALERT_KINDS))
    name: str = ""  # what people call it (#hiring), for messages only


@dataclass
class WebhookConfig:
    """An https endpoint told of each new timeline event (`bot.webhooks`). `webhook_id` is
    random and names its delivery lane; the signing secret is kept encrypted."""

    webhook_id: str
    url: str
    secret_enc: str
    added_by: str = ""  # user id
    added_at: float = 0.0


@dataclass
class Org:
    """A Slack workspace or a Teams tenant. `org_id` is `slack:T123` or `teams:<tenant id>`."""

    org_id: str
    platform: str
    name: str = ""
    org_key: str | None = None  # random; the push URL is /cronofy/push/<org_key>
    cronofy: CronofyConfig | None = None
    admins: list[str] = field(default_factory=list)  # user ids
    routes: list[AlertRoute] = field(default_factory=list)
    type_overrides: dict[str, str] = field(default_factory=dict)  # notification.type -> kind
    active: bool = True  # False once the app is uninstalled
    last_callback_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    # the time zone of members whose platform does not say theirs (IANA name); None: UTC
    default_zone: str | None = None
    # after each interview, each interviewer is asked for a note (`/cronofy feedback on|off`),
    # this many minutes after its end
    feedback: bool = True
    feedback_delay_minutes: int = 15
    # candidates' timelines and bookings older than this many days are erased by a daily
    # sweep (`/cronofy retention <days>|off`, `bot.candidates.retention`); None: kept
    retention_days: int | None = None
    # signed outbound webhooks (`/cronofy webhook add`), in the order they were added
    webhooks: list[WebhookConfig] = field(default_factory=list)


@dataclass
class Member:
    """A chat user in an org, and their Cronofy connection."""

    org_id: str
    user_id: str
    display_name: str = ""
    cronofy_sub: str | None = None
    email: str | None = None
    name: str | None = None
    zone: str | None = None
    access_token_enc: str | None = None
    refresh_token_enc: str | None = None
    token_expires_at: float | None = None
    connected: bool = False
    public_link: str | None = None
    dm_alerts: bool = True
    # minutes before each interview of theirs a reminder comes (None: no reminders)
    reminder_minutes: int | None = 15
    dm_conversation_id: str | None = None  # platform DM channel, once known
    updated_at: float = 0.0
    # the day's agenda: the local time ("HH:MM") of the morning message, None: off
    agenda_at: str | None = None
    # the member's time zone as their chat platform says it (IANA name); `zone` above is
    # their calendar's, which Cronofy says
    chat_zone: str | None = None


@dataclass
class Candidate:
    org_id: str
    candidate_id: str  # opaque, random
    email: str  # lower-cased
    name: str = ""
    recruiter_id: str | None = None  # the member who last tracked them
    created_at: float = 0.0


@dataclass
class TimelineEntry:
    """One event on a candidate's profile."""

    kind: str  # booked / rescheduled / cancelled / declined / other / link_sent / ...
    at: float  # when Slotbot recorded it
    booking_id: str | None = None
    start: str | None = None  # ISO-8601 as Cronofy sent it
    end: str | None = None
    zone: str | None = None
    previous_start: str | None = None  # for a reschedule
    recruiter_id: str | None = None
    meeting_url: str | None = None
    raw_type: str | None = None  # notification.type as Cronofy sent it
    note: str = ""


@dataclass
class Booking:
    org_id: str
    booking_id: str
    candidate_id: str | None = None
    recruiter_id: str | None = None
    state: str = "booked"  # an AlertKind
    start: str | None = None
    end: str | None = None
    zone: str | None = None
    meeting_url: str | None = None
    reschedule_url: str | None = None
    decline_url: str | None = None
    updated_at: float = 0.0
    # everyone on the booking but the candidate (lower-cased emails): the panel, matched
    # against connected members by `bot.lifecycle.panel`
    attendees: list[str] = field(default_factory=list)
    # the Cronofy profiles (subs) whose calendars host it: the recruiter and the rest of the panel
    participants: list[str] = field(default_factory=list)
    # how many callbacks have changed this booking: each write of it through commit_event
    # adds one, and a write made from an older read is refused (EventWrite.booking_version)
    version: int = 0
    # notification.triggered_at (epoch seconds) of the newest event applied to the booking:
    # an event triggered earlier arrives late and changes only the candidate's timeline
    last_triggered_at: float | None = None


@dataclass
class TrackedLink:
    """A link handed to one candidate: Cronofy echoes correlation_id back in its callbacks."""

    correlation_id: str  # opaque, <= 128 chars
    org_id: str
    member_id: str
    candidate_id: str
    created_at: float = 0.0
    url: str = ""  # the exact link handed out: Share posts this and nothing else


@dataclass
class OAuthState:
    """A single-use `state` for an OAuth round trip (Cronofy connect, Slack install)."""

    state: str
    purpose: str  # "cronofy_connect" / "slack_install"
    org_id: str
    member_id: str
    expires_at: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class MessageRef:
    """Where a message was posted, so it can be updated or replied to in its thread."""

    platform: str
    conversation_id: str
    message_id: str  # Slack ts, Teams activity id
    thread_id: str | None = None
    service_url: str | None = None  # Teams

    # the booking version the message shows: an alert job of an older version leaves it be
    seq: int = 0


@dataclass(frozen=True)
class BookingMessage:
    """A booking's message in one conversation (`target`, e.g. "channel:C123"), as
    `Store.put_message_ref` records it; `Store.ack_job` can record it with a job's ack."""

    org_id: str
    booking_id: str
    target: str
    ref: MessageRef


@dataclass
class AuditEntry:
    org_id: str
    actor: str  # user id, or "system"
    action: str  # e.g. "cronofy.setup", "cronofy.reset", "admins.add"
    detail: dict[str, Any] = field(default_factory=dict)  # never a secret
    at: float = 0.0


@dataclass
class Job:
    """An outbox job: one delivery (or other side effect) to do at least once."""

    job_id: str
    org_id: str
    kind: str  # "alert", "dm", "notice", ...
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    not_before: float = 0.0
    last_error: str = ""
    created_at: float = 0.0
    dead_reason: str = ""
    # a timer: the job's key (`bot.timers`); enqueuing a job with a key replaces the pending
    # job of that key, and `cancel_timers` removes it
    timer_key: str = ""


@dataclass
class EventWrite:
    """Everything one accepted callback changes, written in one step (or not at all).

    `dedupe_key` makes the write happen once: a replay of the same delivery changes nothing.
    """

    dedupe_key: str
    dedupe_ttl: float
    org_id: str
    candidate: Candidate | None = None
    timeline: TimelineEntry | None = None
    booking: Booking | None = None
    jobs: list[Job] = field(default_factory=list)
    audit: AuditEntry | None = None
    # timers the event removes (a cancelled booking's reminders), by key; applied before `jobs`
    cancel_timers: list[str] = field(default_factory=list)

    # compare-and-set for `booking`: when set, the write happens only if the stored booking's
    # version is this one (0: no booking stored yet); otherwise commit_event raises
    # StaleBooking and writes nothing, and the caller reads again and decides again
    booking_version: int | None = None


# Fields holding other records, and how to rebuild each from its stored dict.
_NESTED: dict[type[Any], dict[str, Callable[[Any], Any]]] = {
    Org: {
        "cronofy": _optional(CronofyConfig),
        "routes": _list_of(AlertRoute),
        "webhooks": _list_of(WebhookConfig),
    },
    EventWrite: {
        "candidate": _optional(Candidate),
        "timeline": _optional(TimelineEntry),
        "booking": _optional(Booking),
        "jobs": _list_of(Job),
        "audit": _optional(AuditEntry),
    },
}
