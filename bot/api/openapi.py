"""The read API's OpenAPI 3.1 document, served at `/api/v1/openapi.json`. Built here, beside
the code it describes; the tests validate it (openapi-spec-validator) and check every answer
of the scenario tests against its schemas."""

from __future__ import annotations

from typing import Any

from bot.store.feeds import MAX_PAGE

ERROR_CODES = (
    "unauthorized",
    "revoked_token",
    "rate_limited",
    "bad_cursor",
    "bad_limit",
    "missing_email",
    "bad_email",
    "not_found",
    "method_not_allowed",
    "too_large",
    "bad_request",
    "unavailable",
)

_NULLABLE_TEXT: dict[str, Any] = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if retry_after:
        answer["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before the next request with this token",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return answer


_COMMON_ERRORS: dict[str, Any] = {
    "401": _error("No token, or a token Slotbot does not know (code unauthorized)"),
    "403": _error("The token was revoked (code revoked_token)"),
    "429": _error("Past the token's rate (code rate_limited)", retry_after=True),
    "503": _error("The store is not answering; try again (code unavailable)"),
}

_PAGE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "after",
        "in": "query",
        "required": False,
        "description": "A cursor from an earlier answer (next_cursor, or an item's cursor): "
        "the page starts after it. Without it, from the first.",
        "schema": {"type": "string", "maxLength": 200},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Items per page.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100},
    },
]

_TIMELINE_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "at", "at_iso"],
    "properties": {
        "kind": {
            "type": "string",
            "description": "booked, rescheduled, cancelled, declined, other, link_sent, note, …",
        },
        "at": {"type": "number", "description": "When Slotbot recorded it (epoch seconds)"},
        "at_iso": {"type": "string", "format": "date-time"},
        "booking_id": _NULLABLE_TEXT,
        "start": _NULLABLE_TEXT,
        "end": _NULLABLE_TEXT,
        "zone": _NULLABLE_TEXT,
        "previous_start": _NULLABLE_TEXT,
        "recruiter_id": _NULLABLE_TEXT,
        "meeting_url": _NULLABLE_TEXT,
        "raw_type": _NULLABLE_TEXT,
        "note": {"type": "string"},
    },
}


def _page(key: str, item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key, "next_cursor", "has_more"],
        "additionalProperties": False,
        "properties": {
            key: {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Where to resume: pass it as after. It stays the same while "
                "nothing new has happened; null only when there is nothing yet.",
            },
            "has_more": {
                "type": "boolean",
                "description": "The page is full: ask again at once for the rest.",
            },
        },
    }


def document(server_url: str) -> dict[str, Any]:
    """The document, naming `server_url` (BOT_PUBLIC_URL + /api/v1) as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Slotbot read API",
            "version": "1",
            "description": "An org's candidates, timeline events and audit log. Make a token "
            "with /cronofy api token create <name> (admins) and send it as Authorization: "
            "Bearer <token>. Every answer covers the token's own org only. Errors are "
            '{"error": {"code", "message"}} with a stable code.',
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/events": {
                "get": {
                    "operationId": "listEvents",
                    "summary": "Every timeline event of the org, in the order it happened",
                    "description": "Page through with after=next_cursor; keep the last "
                    "next_cursor to resume after downtime: nothing is skipped or repeated.",
                    "parameters": _PAGE_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "A page of events",
                            "content": {"application/json": {"schema": _ref("EventPage")}},
                        },
                        "400": _error("A bad cursor or limit (bad_cursor, bad_limit)"),
                        **_COMMON_ERRORS,
                    },
                }
            },
            "/audit": {
                "get": {
                    "operationId": "listAudit",
                    "summary": "The org's audit log, oldest first",
                    "parameters": _PAGE_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "A page of audit entries",
                            "content": {"application/json": {"schema": _ref("AuditPage")}},
                        },
                        "400": _error("A bad cursor or limit (bad_cursor, bad_limit)"),
                        **_COMMON_ERRORS,
                    },
                }
            },
            "/candidates": {
                "get": {
                    "operationId": "findCandidate",
                    "summary": "A candidate by email, with their timeline",
                    "parameters": [
                        {
                            "name": "email",
                            "in": "query",
                            "required": True,
                            "description": "Matched case-insensitively",
                            "schema": {"type": "string", "maxLength": 254},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The candidate",
                            "content": {"application/json": {"schema": _ref("Candidate")}},
                        },
                        "400": _error("No email, or not an email (missing_email, bad_email)"),
                        "404": _error("No candidate of the org has it (not_found)"),
                        **_COMMON_ERRORS,
                    },
                }
            },
            "/candidates/{candidate_id}": {
                "get": {
                    "operationId": "getCandidate",
                    "summary": "A candidate by id, with their timeline",
                    "parameters": [
                        {
                            "name": "candidate_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 128},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The candidate",
                            "content": {"application/json": {"schema": _ref("Candidate")}},
                        },
                        "404": _error("No candidate of the org has this id (not_found)"),
                        **_COMMON_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from /cronofy api token create: slotbot_ and 64 "
                    "hex digits",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "additionalProperties": False,
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "additionalProperties": False,
                            "properties": {
                                "code": {"type": "string", "enum": list(ERROR_CODES)},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "TimelineEntry": _TIMELINE_ENTRY,
                "Event": {
                    "allOf": [
                        _ref("TimelineEntry"),
                        {
                            "type": "object",
                            "required": ["cursor", "candidate_id"],
                            "properties": {
                                "cursor": {"type": "string"},
                                "candidate_id": {"type": "string"},
                            },
                        },
                    ]
                },
                "EventPage": _page("events", "Event"),
                "AuditEntry": {
                    "type": "object",
                    "required": ["cursor", "at", "at_iso", "actor", "action", "detail"],
                    "additionalProperties": False,
                    "properties": {
                        "cursor": {"type": "string"},
                        "at": {"type": "number"},
                        "at_iso": {"type": "string", "format": "date-time"},
                        "actor": {
                            "type": "string",
                            "description": "A member's platform id, cronofy or system",
                        },
                        "action": {"type": "string"},
                        "detail": {"type": "object"},
                    },
                },
                "AuditPage": _page("entries", "AuditEntry"),
                "Candidate": {
                    "type": "object",
                    "required": ["candidate_id", "email", "name", "timeline"],
                    "additionalProperties": False,
                    "properties": {
                        "candidate_id": {"type": "string"},
                        "email": {"type": "string"},
                        "name": {"type": "string"},
                        "recruiter_id": _NULLABLE_TEXT,
                        "created_at": {"type": "number"},
                        "timeline": {
                            "type": "array",
                            "items": _ref("TimelineEntry"),
                            "description": "Oldest first, the latest 500 entries",
                        },
                    },
                },
            },
        },
    }
