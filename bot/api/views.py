"""Records as the read API's JSON: the shapes `bot.api.openapi` describes. Times are epoch
seconds (`at`, as stored) and ISO-8601 UTC (`at_iso`) beside them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.store.records import AuditEntry, Candidate, TimelineEntry


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "at": entry.at,
        "at_iso": iso(entry.at),
        "booking_id": entry.booking_id,
        "start": entry.start,
        "end": entry.end,
        "zone": entry.zone,
        "previous_start": entry.previous_start,
        "recruiter_id": entry.recruiter_id,
        "meeting_url": entry.meeting_url,
        "raw_type": entry.raw_type,
        "note": entry.note,
    }


def event_json(cursor: str, candidate_id: str, entry: TimelineEntry) -> dict[str, Any]:
    return {"cursor": cursor, "candidate_id": candidate_id, **entry_json(entry)}


def candidate_json(candidate: Candidate, timeline: list[TimelineEntry]) -> dict[str, Any]:
    return {
        "candidate_id": candidate.candidate_id,
        "email": candidate.email,
        "name": candidate.name,
        "recruiter_id": candidate.recruiter_id,
        "created_at": candidate.created_at,
        "timeline": [entry_json(entry) for entry in timeline],
    }


def audit_json(cursor: str, entry: AuditEntry) -> dict[str, Any]:
    return {
        "cursor": cursor,
        "at": entry.at,
        "at_iso": iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "detail": entry.detail,
    }


def page_json(
    key: str, items: list[dict[str, Any]], next_cursor: str | None, *, more: bool
) -> dict[str, Any]:
    return {key: items, "next_cursor": next_cursor, "has_more": more}


def error_json(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
