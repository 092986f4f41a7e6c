"""Callback bodies in the shapes Cronofy documents (reference/cronofy.md §3)."""

from __future__ import annotations

import copy
from typing import Any

CHANNEL = {
    "channel_id": "chn_6a8df5c5944f9501621a3083",
    "callback_url": "https://example.com/cronofy",
    "filters": {},
    "scheduling_conversations": {},
}


def time_chosen(
    *,
    request_id: str = "srq_80f7fece4f37897d62d86d80",
    correlation_id: str | None = "foobar",
    email: str = "eb@example.com",
    name: str = "Dr Emmet Brown",
    start: str = "2026-12-01T10:00:00Z",
    end: str = "2026-12-01T10:30:00Z",
    tzid: str = "Europe/London",
    notification_type: str = "scheduling_request_time_chosen",
    triggered_at: str = "2025-01-19T16:14:11Z",
) -> dict[str, Any]:
    """The documented `scheduling_request_time_chosen` example, plus the chosen event times."""
    scheduler: dict[str, Any] = {
        "utm_medium": "email",
        "utm_source": "automated_email_workflow",
        "captured_data.notes": "No dietary requirements.",
    }
    if correlation_id is not None:
        scheduler["correlation_id"] = correlation_id
    return {
        "notification": {"type": notification_type, "triggered_at": triggered_at},
        "scheduling_request": {
            "scheduling_request_id": request_id,
            "slot_selection": "complete",
            "primary_select_url": "https://app.cronofy.com/rts/LOiwlKXQ",
            "recipient_operations": {
                "view_url": "https://app.cronofy.com/rts/LOiwlKXQ",
                "reschedule_url": "https://app.cronofy.com/rts/LOiwlKXQ?reschedule=true",
                "decline_url": "https://app.cronofy.com/rts/LOiwlKXQ?decline=true",
            },
            "summary": "Product Manager Interview at Globex",
            "duration": {"minutes": 30},
            "recipients": [
                {
                    "email": email,
                    "display_name": name,
                    "select_url": "https://app.cronofy.com/rts/1234abc",
                    "slot_selector": True,
                }
            ],
            "event": {
                "summary": "Product Manager Interview at Globex",
                "start": {"time": start, "tzid": tzid},
                "end": {"time": end, "tzid": tzid},
                "conferencing": {"join_url": "https://meet.example.com/abc"},
                "metadata": {"scheduler": scheduler},
            },
        },
    }


RTS_COMPLETED = {
    "event": {
        "event_id": "qTtZdczOccgaPncGJaCiLg",
        "start": {"time": "2024-07-27T10:00:00Z", "tzid": "Europe/London"},
        "end": {"time": "2024-07-27T11:00:00Z", "tzid": "Europe/London"},
        "summary": "Product Manager Interview at Globex",
    },
    "participants": [{"sub": "acc_5ba21743f408617d1269ea1e"}],
    "user": {"tzid": "Europe/London"},
}


def channel(kind: str, **notification: Any) -> dict[str, Any]:
    return {"notification": {"type": kind, **notification}, "channel": copy.deepcopy(CHANNEL)}
