"""Checking that a request really comes from Slack, before anything parses it.

bolt answers 500 to a non-numeric `X-Slack-Request-Timestamp` and builds its request object
(parsing JSON) before verifying, so every inbound request is verified here, on the raw bytes,
and only a verified request reaches bolt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier

# Slack's own window: a request older (or newer) than this is refused
MAX_CLOCK_SKEW = 60 * 5
# the longest timestamp / signature header worth looking at
_MAX_TIMESTAMP_LEN = 20
_MAX_SIGNATURE_LEN = 128


class _FixedClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on; `reason` says why not (never echoes a secret)."""

    ok: bool
    reason: str = ""
    timestamp: int = 0
    signature: str = ""


def verify_signature(
    signing_secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: Callable[[], float],
) -> Verdict:
    """Check Slack's `v0` signature over the raw body.

    Missing headers, a timestamp that is not a whole number or is more than five minutes
    away from `now`, and a wrong signature are all refusals, never exceptions.
    """
    timestamp_text = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp_text:
        return Verdict(False, "missing X-Slack-Request-Timestamp header")
    if not signature:
        return Verdict(False, "missing X-Slack-Signature header")
    timestamp_text = timestamp_text.strip()
    if (
        len(timestamp_text) > _MAX_TIMESTAMP_LEN
        or not timestamp_text.isascii()
        or not timestamp_text.isdigit()
    ):
        return Verdict(False, "X-Slack-Request-Timestamp is not a number")
    timestamp = int(timestamp_text)
    if abs(now() - timestamp) > MAX_CLOCK_SKEW:
        return Verdict(False, "X-Slack-Request-Timestamp is more than 5 minutes away")
    if len(signature) > _MAX_SIGNATURE_LEN or not signature.startswith("v0="):
        return Verdict(False, "X-Slack-Signature is not a v0 signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Verdict(False, "body is not UTF-8")
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(now))
    if not verifier.is_valid(body=text, timestamp=timestamp_text, signature=signature):
        return Verdict(False, "signature does not match")
    return Verdict(True, timestamp=timestamp, signature=signature)


@dataclass(frozen=True)
class SlackPayload:
    """What a verified request carries, as far as the HTTP layer needs to know."""

    kind: str  # "event" / "command" / "interactive" / "url_verification" / "ssl_check" / "other"
    event_id: str | None = None
    event_type: str | None = None
    team_id: str | None = None


class MalformedRequest(ValueError):
    """A correctly signed body that is not a Slack payload (400)."""

    status = 400


class UnsupportedContentType(MalformedRequest):
    """A signed body in a format Slack never sends (415)."""

    status = 415


def parse_payload(content_type: str, body: bytes) -> SlackPayload:
    """Read the kind of a verified request; raise MalformedRequest when it is not one."""
    text = body.decode("utf-8")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            raise MalformedRequest("body is not valid JSON") from None
        if not isinstance(data, dict):
            raise MalformedRequest("JSON body is not an object")
        return _json_payload(data)
    if mime == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError:
            raise MalformedRequest("body is not a valid form") from None
        if "payload" in form:
            try:
                inner = json.loads(form["payload"][0])
            except ValueError:
                raise MalformedRequest("payload field is not valid JSON") from None
            if not isinstance(inner, dict) or not isinstance(inner.get("type"), str):
                raise MalformedRequest("payload field has no type")
            _check_interactive_shape(inner)
            return SlackPayload("interactive", team_id=workspace_of(inner))
        if "command" in form:
            return SlackPayload("command", team_id=_first(form, "team_id"))
        if "ssl_check" in form:
            return SlackPayload("ssl_check")
        raise MalformedRequest("form has neither command nor payload")
    raise UnsupportedContentType(
        f"unsupported content type {mime or '(none)'}: Slack sends form or JSON bodies"
    )


# interactivity types whose listeners read actions[0] / view["..."] unguarded
_NEEDS_ACTIONS = frozenset({"block_actions", "interactive_message", "attachment_actions"})
_NEEDS_VIEW = frozenset({"view_submission", "view_closed"})


class NoWorkspace(MalformedRequest):
    """A payload that names no Slack workspace: Slack sends these only to apps installed
    org-wide (Enterprise Grid), which Slotbot's manifest does not allow."""


def _check_interactive_shape(payload: dict[str, Any]) -> None:
    """Refuse the shapes Slack never sends and bolt's own reading would crash on (a 500).

    What bolt reads without looking first, and so what a payload must have: `team`, `user`,
    `view`, `channel`, `container`, `message` and `enterprise` are objects when given (team
    may be null: see below); a `callback_id` is text; block actions have a list of actions,
    each with a text `action_id` (bolt matches listeners on `actions[0].action_id`); a view
    has a text `type` and `callback_id` (bolt asks `view.type == "workflow_step"` of every
    view submission); a workflow step's edit or save carries its `workflow_step`.

    `team` is null in Enterprise Grid payloads; the workspace is then named in
    `view.app_installed_team_id`, `user.team_id` or `view.team_id`, where bolt looks for it
    too. A payload that names no workspace at all is refused (NoWorkspace)."""
    kind = payload["type"]
    for key in ("user", "view"):
        if key in payload and not isinstance(payload[key], dict):
            raise MalformedRequest(f"payload {key} is not an object")
    for key in ("team", "channel", "container", "message", "enterprise"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            raise MalformedRequest(f"payload {key} is not an object")
    for key in ("callback_id", "trigger_id", "response_url"):
        if key in payload and not isinstance(payload[key], str):
            raise MalformedRequest(f"payload {key} is not text")
    actions = payload.get("actions")
    if kind in _NEEDS_ACTIONS or actions is not None:
        if (
            not isinstance(actions, list)
            or not actions
            or not all(isinstance(a, dict) for a in actions)
        ):
            raise MalformedRequest(f"{kind} payload without a list of actions")
        if kind == "block_actions" and not all(
            isinstance(a.get("action_id"), str) for a in actions
        ):
            raise MalformedRequest("block action without an action_id")
    view = payload.get("view")
    if kind in _NEEDS_VIEW and view is None:
        raise MalformedRequest(f"{kind} payload without a view")
    if isinstance(view, dict):
        for key in ("type", "callback_id"):
            if not isinstance(view.get(key), str):
                raise MalformedRequest(f"payload view has no {key}")
        if view.get("type") == "workflow_step" and not isinstance(
            payload.get("workflow_step"), dict
        ):
            raise MalformedRequest("workflow step view without its workflow_step")
    if kind == "workflow_step_edit" and not isinstance(payload.get("workflow_step"), dict):
        raise MalformedRequest("workflow_step_edit payload without its workflow_step")
    for key in ("response_urls", "authorizations"):
        _check_list_of_objects(payload, key)
    if "team" in payload and payload["team"] is None and workspace_of(payload) is None:
        raise NoWorkspace(f"{kind} payload names no workspace (an org-wide install's)")


def workspace_of(payload: dict[str, Any]) -> str | None:
    """The workspace an interactivity payload comes from, where Slack puts it (as bolt reads
    it): `view.app_installed_team_id` (a view opened in another workspace), `team.id`, then
    for Enterprise Grid payloads whose team is null, `user.team_id` or `view.team_id`."""
    view = payload.get("view") if isinstance(payload.get("view"), dict) else {}
    team = payload.get("team") if isinstance(payload.get("team"), dict) else {}
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    assert isinstance(view, dict) and isinstance(team, dict) and isinstance(user, dict)
    for value in (
        view.get("app_installed_team_id"),
        team.get("id"),
        user.get("team_id"),
        view.get("team_id"),
    ):
        if isinstance(value, str) and value:
            return value
    return None


def _check_list_of_objects(payload: dict[str, Any], key: str) -> None:
    value = payload.get(key)
    if value is not None and (
        not isinstance(value, list) or not all(isinstance(item, dict) for item in value)
    ):
        raise MalformedRequest(f"payload {key} is not a list of objects")


# what bolt reads, when building any request's context, as an object or a plain id: in the
# body, and in an event inside it (slack_bolt/request/internals.py)
_OBJECT_OR_ID = ("team", "user", "channel", "enterprise")


def _check_context_shape(data: dict[str, Any]) -> None:
    """Refuse what bolt's context building would crash on, whatever the body's type."""
    for where, part in (("body", data), ("event", data.get("event"))):
        if not isinstance(part, dict):
            continue
        for key in _OBJECT_OR_ID:
            value = part.get(key)
            if value is not None and not isinstance(value, dict | str):
                raise MalformedRequest(f"{where} {key} is neither an object nor an id")
    for key in ("authorizations", "response_urls"):
        _check_list_of_objects(data, key)


def _json_payload(data: dict[str, Any]) -> SlackPayload:
    _check_context_shape(data)
    kind = data.get("type")
    if kind == "url_verification":
        if not isinstance(data.get("challenge"), str):
            raise MalformedRequest("url_verification without a challenge")
        return SlackPayload("url_verification")
    if kind == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedRequest("event_callback without an event type")
        event_id = data.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            raise MalformedRequest("event_callback without an event_id")
        return SlackPayload(
            "event",
            event_id=event_id,
            event_type=event["type"],
            team_id=_str_or_none(data.get("team_id")),
        )
    if isinstance(kind, str):
        return SlackPayload("other")
    raise MalformedRequest("JSON body has no type")


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
