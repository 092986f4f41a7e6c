"""Every unverifiable Slack request is refused with a reason; signed garbage is told apart."""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from adapters.slack.verify import MalformedRequest, parse_payload, verify_signature


def fuzz_examples(default: int) -> int:
    return int(os.environ.get("SLOTBOT_FUZZ_EXAMPLES", default))


SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000.0
BODY = b"token=x&team_id=T1&command=%2Fschedule&text=link"


def signed(body: bytes = BODY, ts: str | int = int(NOW), secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": str(
            SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body.decode())
        ),
    }


def check(headers: dict[str, str], body: bytes = BODY):  # type: ignore[no-untyped-def]
    return verify_signature(SECRET, headers, body, now=lambda: NOW)


def test_slack_documentation_vector() -> None:
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }
    verdict = verify_signature(SECRET, headers, body, now=lambda: 1531420618.0)
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing X-Slack-Request-Timestamp"),
        ({"X-Slack-Request-Timestamp": str(int(NOW))}, "missing X-Slack-Signature"),
        ({"X-Slack-Signature": "v0=abc"}, "missing X-Slack-Request-Timestamp"),
        ({**signed(), "X-Slack-Request-Timestamp": "abc"}, "not a number"),
        ({**signed(), "X-Slack-Request-Timestamp": "-5"}, "not a number"),
        ({**signed(), "X-Slack-Request-Timestamp": "1e9"}, "not a number"),
        ({**signed(), "X-Slack-Request-Timestamp": "\uff11\uff17\uff10\uff10"}, "not a number"),
        ({**signed(), "X-Slack-Request-Timestamp": "9" * 400}, "not a number"),
        (signed(ts=int(NOW) - 301), "more than 5 minutes"),
        (signed(ts=int(NOW) + 301), "more than 5 minutes"),
        (signed(secret="wrong-secret"), "does not match"),
        ({**signed(), "X-Slack-Signature": "v1=abc"}, "not a v0 signature"),
        ({**signed(), "X-Slack-Signature": "v0=" + "0" * 64}, "does not match"),
        ({**signed(), "X-Slack-Signature": "v0=" + "a" * 500}, "not a v0 signature"),
    ],
    ids=[
        "no headers",
        "no signature",
        "no timestamp",
        "non-numeric timestamp",
        "negative timestamp",
        "float timestamp",
        "non-ascii digits",
        "huge timestamp",
        "stale",
        "future",
        "wrong secret",
        "wrong version",
        "wrong digest",
        "oversized signature",
    ],
)
def test_refusals(headers: dict[str, str], reason: str) -> None:
    verdict = check(headers)
    assert not verdict.ok
    assert reason in verdict.reason


def test_tampered_body_is_refused() -> None:
    verdict = check(signed(), BODY + b"&text=admin")
    assert not verdict.ok and "does not match" in verdict.reason


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_window_edges_accepted(offset: int) -> None:
    assert check(signed(ts=int(NOW) + offset)).ok


def test_non_utf8_body_is_refused() -> None:
    body = b"\xff\xfe"
    verdict = check(
        {"X-Slack-Request-Timestamp": str(int(NOW)), "X-Slack-Signature": "v0=" + "0" * 64}, body
    )
    assert not verdict.ok


@settings(max_examples=fuzz_examples(50), deadline=None)
@given(ts=st.text(max_size=30), sig=st.text(max_size=80), body=st.binary(max_size=200))
def test_fuzz_arbitrary_headers_never_raise(ts: str, sig: str, body: bytes) -> None:
    verdict = verify_signature(
        SECRET, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}, body, now=lambda: NOW
    )
    assert not verdict.ok


# ---------------------------------------------------------------------- parsing


def test_parse_command_event_and_interactive() -> None:
    assert parse_payload("application/x-www-form-urlencoded", BODY).kind == "command"
    event = json.dumps(
        {
            "type": "event_callback",
            "event_id": "Ev1",
            "team_id": "T1",
            "event": {"type": "app_home_opened"},
        }
    ).encode()
    parsed = parse_payload("application/json; charset=utf-8", event)
    assert (parsed.kind, parsed.event_id, parsed.event_type) == ("event", "Ev1", "app_home_opened")
    interactive = urlencode(
        {
            "payload": json.dumps(
                {"type": "block_actions", "team": {"id": "T1"}, "actions": [{"action_id": "a"}]}
            )
        }
    ).encode()
    assert parse_payload("application/x-www-form-urlencoded", interactive).team_id == "T1"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("application/json", b'{"type": "event_callback", "event": {"type": "x"}}'),
        ("application/json", b'{"type": "event_callback", "event_id": "Ev1"}'),
        ("application/json", b'{"type": "url_verification"}'),
        ("application/json", b'{"no": "type"}'),
        ("application/x-www-form-urlencoded", b"payload=%7Bnot+json"),
        ("application/x-www-form-urlencoded", b"payload=%5B%5D"),
        ("application/x-www-form-urlencoded", b"hello=world"),
        ("text/plain", b"hello"),
        ("", b"hello"),
    ],
)
def test_malformed_bodies(content_type: str, body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        parse_payload(content_type, body)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "team": {"id": "T1"}, "actions": []},
        {"type": "block_actions", "team": {"id": "T1"}},
        {"type": "block_actions", "team": {"id": "T1"}, "actions": ["x"]},
        {"type": "view_submission", "team": {"id": "T1"}, "view": []},
        {"type": "view_submission", "team": {"id": "T1"}},
        {"type": "zzz", "view": None},
        {"type": "shortcut", "user": "U1"},
        {"type": "shortcut", "channel": "C1"},
    ],
)
def test_interactive_payloads_of_impossible_shapes(payload: dict[str, object]) -> None:
    with pytest.raises(MalformedRequest):
        parse_payload(
            "application/x-www-form-urlencoded",
            urlencode({"payload": json.dumps(payload)}).encode(),
        )


def test_interactive_payload_with_null_enterprise_and_channel_is_fine() -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "enterprise": None,
        "channel": None,
        "actions": [{"action_id": "a", "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    assert parse_payload("application/x-www-form-urlencoded", body).kind == "interactive"
