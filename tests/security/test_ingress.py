"""Every way in, refused the way the reliability checklist says (style-and-reliability.md,
Part B.12: S = Slack, T = Teams, C = Cronofy push, O = OAuth callback): one table of
(endpoint, bad input, expected status), run against one app with every route mounted.

Each row also checks that the answer is never a 5xx, never echoes a secret or the request
body, and that nothing was stored or sent because of it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.slack import SlackPlatform
from adapters.teams import TeamsPlatform
from adapters.teams.refs import NAMESPACE as TEAMS_REFS
from bot.alerts.hmac import HEADER, compute_push_hmac
from bot.app import create_app
from bot.config import Settings
from bot.runtime import SERVICES
from bot.secrets import SecretBox, generate_key
from bot.store.sqlite import SQLiteStore
from tests.adapters.slack.support import (
    BOT_TOKEN,
    FORM,
    SIGNING_SECRET,
    command_body,
    signed_headers,
)
from tests.adapters.teams.support import (
    APP_ID,
    APP_PASSWORD,
    bot_added,
    channel,
    fake_endpoints,
    none_token,
)
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CLIENT_SECRET, ORG_KEY, PUSH_URL, encode, seed
from tests.fakes.botframework import BOT_FRAMEWORK_ISSUER, FakeConnector
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack

SLACK = "/slack/events"
TEAMS = "/api/messages"
OAUTH = "/cronofy/oauth/callback"
JSON = "application/json"
MAX_BODY = 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Upstreams:
    slack: FakeSlack
    connector: FakeConnector
    cronofy: FakeCronofy

    @property
    def now(self) -> int:
        return int(time.time())


Build = Callable[[Upstreams], Request]


# --- Slack ----------------------------------------------------------------------------------


def _command(up: Upstreams) -> str:
    return command_body(up.slack, "help")


def slack(body: str, headers: dict[str, str]) -> Request:
    return Request("POST", SLACK, body.encode(), headers)


def slack_signed(body: str, content_type: str = FORM, **changes: str) -> Request:
    headers = signed_headers(body, content_type)
    headers.update(changes)
    return slack(body, headers)


def slack_resigned(body: str, change: Callable[[str], str]) -> Request:
    headers = signed_headers(body, FORM)
    headers["X-Slack-Signature"] = change(headers["X-Slack-Signature"])
    return slack(body, headers)


def _flip(signature: str) -> str:
    last = signature[-1]
    return signature[:-1] + ("0" if last != "0" else "1")


def slack_at(ts: int | str, up: Upstreams) -> Request:
    body = _command(up)
    if isinstance(ts, int):
        return slack(body, signed_headers(body, FORM, ts=ts))
    headers = signed_headers(body, FORM)
    headers["X-Slack-Request-Timestamp"] = ts
    return slack(body, headers)


def _without(headers: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in names}


# --- Teams ----------------------------------------------------------------------------------


def teams(up: Upstreams, authorization: str | None, **changes: Any) -> Request:
    activity = bot_added(channel(up.connector))
    body = changes.pop("body", None)
    content_type = changes.pop("content_type", JSON)
    headers = {} if content_type is None else {"Content-Type": content_type}
    if authorization is not None:
        headers["Authorization"] = authorization
    if body is None:
        activity.update(changes)
        body = json.dumps(activity).encode()
    return Request("POST", TEAMS, body, headers)


def token(up: Upstreams, **claims: Any) -> str:
    return "Bearer " + up.connector.make_token(APP_ID, **claims)


_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _none_alg(up: Upstreams) -> str:
    now = up.now
    claims = {
        "iss": BOT_FRAMEWORK_ISSUER,
        "aud": APP_ID,
        "serviceurl": up.connector.service_url,
        "nbf": now - 10,
        "exp": now + 600,
    }
    return "Bearer " + none_token(claims, up.connector.kid)


# --- Cronofy push ---------------------------------------------------------------------------

_CALLBACK = encode(payloads.time_chosen(request_id="srq_ingress"))


def push(
    body: bytes, signature: str | None, content_type: str = JSON, path: str = PUSH_URL
) -> Request:
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers[HEADER] = signature
    return Request("POST", path, body, headers)


def push_signed(body: bytes, content_type: str = JSON) -> Request:
    return push(body, compute_push_hmac(CLIENT_SECRET, body), content_type)


def _reserialised() -> Request:
    signed_for = compute_push_hmac(CLIENT_SECRET, _CALLBACK)
    other = json.dumps(json.loads(_CALLBACK), indent=2, sort_keys=True).encode()
    return push(other, signed_for)


# --- OAuth callback -------------------------------------------------------------------------


def oauth(**params: str) -> Request:
    return Request("GET", OAUTH, params=params)


# --- the table ------------------------------------------------------------------------------

ROWS: list[tuple[str, Build, int]] = [
    # Slack: S3 headers missing
    ("S3 no signature headers", lambda up: slack(_command(up), {"Content-Type": FORM}), 401),
    (
        "S3 no X-Slack-Signature",
        lambda up: slack(
            _command(up), _without(signed_headers(_command(up), FORM), "X-Slack-Signature")
        ),
        401,
    ),
    (
        "S3 no X-Slack-Request-Timestamp",
        lambda up: slack(
            _command(up),
            _without(signed_headers(_command(up), FORM), "X-Slack-Request-Timestamp"),
        ),
        401,
    ),
    # S4 signature variants
    ("S4 one hex character flipped", lambda up: slack_resigned(_command(up), _flip), 401),
    (
        "S4 v1= prefix",
        lambda up: slack_resigned(_command(up), lambda s: "v1=" + s[3:]),
        401,
    ),
    (
        "S4 upper-case hex",
        lambda up: slack_resigned(_command(up), lambda s: "v0=" + s[3:].upper()),
        401,
    ),
    (
        "S4 signed with another secret",
        lambda up: slack(
            _command(up), signed_headers(_command(up), FORM, secret="another-signing-secret")
        ),
        401,
    ),
    # S5 body changed after signing
    (
        "S5 one byte changed",
        lambda up: slack(_command(up).replace("help", "helq"), signed_headers(_command(up), FORM)),
        401,
    ),
    (
        "S5 trailing whitespace",
        lambda up: slack(_command(up) + " ", signed_headers(_command(up), FORM)),
        401,
    ),
    # S6 timestamps out of the window
    ("S6 timestamp now-301s", lambda up: slack_at(up.now - 301, up), 401),
    ("S6 timestamp now+301s", lambda up: slack_at(up.now + 301, up), 401),
    # S7 timestamps that are not timestamps
    ("S7 timestamp 'abc'", lambda up: slack_at("abc", up), 401),
    ("S7 timestamp ''", lambda up: slack_at("", up), 401),
    ("S7 timestamp '1e9'", lambda up: slack_at("1e9", up), 401),
    ("S7 timestamp of 40 digits", lambda up: slack_at("9" * 40, up), 401),
    # S8 malformed JSON
    ("S8 unsigned malformed JSON", lambda up: slack("{not json", {"Content-Type": JSON}), 401),
    ("S8 signed malformed JSON", lambda up: slack_signed("{not json", JSON), 400),
    # S9 size, S10 content type
    ("S9 body over 1 MiB", lambda up: slack_signed("text=" + "x" * MAX_BODY), 413),
    ("S10 text/xml", lambda up: slack_signed("<xml/>", "text/xml"), 415),
    # S11 url_verification with a bad signature
    (
        "S11 url_verification unsigned",
        lambda up: slack(
            json.dumps({"type": "url_verification", "challenge": "c"}), {"Content-Type": JSON}
        ),
        401,
    ),
    ("S- empty body unsigned", lambda up: slack("", {"Content-Type": FORM}), 401),
    ("S- GET", lambda up: Request("GET", SLACK), 405),
    # Teams: T2 credentials missing or of the wrong kind
    ("T2 no Authorization", lambda up: teams(up, None), 401),
    ("T2 Basic credentials", lambda up: teams(up, f"Basic {APP_ID}:{APP_PASSWORD}"), 401),
    ("T2 bare token", lambda up: teams(up, up.connector.make_token(APP_ID)), 401),
    ("T2 garbled bearer", lambda up: teams(up, "Bearer not.a.jwt"), 401),
    # T3 claims
    ("T3 wrong issuer", lambda up: teams(up, token(up, issuer="https://evil.example.com")), 401),
    ("T3 wrong audience", lambda up: teams(up, token(up, audience="another-app")), 401),
    ("T3 expired beyond leeway", lambda up: teams(up, token(up, expires_in=-600)), 401),
    (
        "T3 not valid before the future",
        lambda up: teams(up, token(up, not_before=up.now + 900)),
        401,
    ),
    # T4 algorithms and keys
    ("T4 alg none", lambda up: teams(up, _none_alg(up)), 401),
    ("T4 key not in the JWKS", lambda up: teams(up, token(up, key=_OTHER_KEY)), 401),
    ("T5 unknown kid", lambda up: teams(up, token(up, kid="no-such-key")), 401),
    # T7 service URL claim does not match the activity
    (
        "T7 other serviceurl",
        lambda up: teams(up, token(up, service_url="https://evil.example.com/")),
        401,
    ),
    # T9 request shape with a valid token
    ("T9 no Content-Type", lambda up: teams(up, token(up), content_type=None), 415),
    ("T9 text/xml", lambda up: teams(up, token(up), content_type="text/xml"), 415),
    ("T9 malformed JSON", lambda up: teams(up, token(up), body=b"{not json"), 400),
    ("T9 JSON array", lambda up: teams(up, token(up), body=b"[]"), 400),
    ("T9 activity without type", lambda up: teams(up, token(up), type=None), 400),
    (
        "T- body over 1 MiB",
        lambda up: teams(up, token(up), body=b"{" + b" " * MAX_BODY + b"}"),
        413,
    ),
    ("T- GET", lambda up: Request("GET", TEAMS), 405),
    # Cronofy push: C2 HMAC
    ("C2 no HMAC header", lambda up: push(_CALLBACK, None), 401),
    ("C2 wrong HMAC", lambda up: push(_CALLBACK, "bm90IHRoZSBobWFj"), 401),
    ("C2 all of several wrong", lambda up: push(_CALLBACK, "d3Jvbmc=,YWxzbyB3cm9uZw=="), 401),
    (
        "C2 HMAC with another secret",
        lambda up: push(_CALLBACK, compute_push_hmac("CRN_other", _CALLBACK)),
        401,
    ),
    # C3 the HMAC covers the raw bytes
    ("C3 same JSON re-serialised", lambda up: _reserialised(), 401),
    # C6 unknown or malformed push URL
    (
        "C6 unknown org key",
        lambda up: push(
            _CALLBACK,
            compute_push_hmac(CLIENT_SECRET, _CALLBACK),
            path="/cronofy/push/nosuchkey0123",
        ),
        404,
    ),
    (
        "C6 org key with dots",
        lambda up: push(_CALLBACK, None, path="/cronofy/push/..%2F..%2Fetc"),
        404,
    ),
    # shape, with a valid HMAC
    ("C- text/xml", lambda up: push_signed(b"<xml/>", "text/xml"), 415),
    ("C- not JSON", lambda up: push_signed(b"{not json"), 400),
    ("C- JSON array", lambda up: push_signed(b"[]"), 400),
    ("C- empty body", lambda up: push_signed(b""), 400),
    ("C- not UTF-8", lambda up: push_signed(b"\xff\xfe{}"), 400),
    ("C- nested 100000 deep", lambda up: push_signed(b"[" * 100_000 + b"]" * 100_000), 400),
    ("C- body over 1 MiB", lambda up: push_signed(b"{" + b" " * MAX_BODY + b"}"), 413),
    ("C- GET", lambda up: Request("GET", PUSH_URL), 405),
    # OAuth callback: O1 state missing or unknown; O4 garbage; O5 errors. Slotbot answers
    # people with pages: unknown state 400, reused 409, expired 410 (tests/bot/cronofy)
    ("O1 no state", lambda up: oauth(code="c"), 400),
    ("O1 unknown state", lambda up: oauth(code="c", state="A" * 43), 400),
    ("O4 state ../../x", lambda up: oauth(code="c", state="../../x"), 400),
    ("O4 state of 10 kB", lambda up: oauth(code="c", state="A" * 10_000), 400),
    ("O5 no code", lambda up: oauth(state="A" * 43), 400),
    ("O5 error=access_denied", lambda up: oauth(error="access_denied", state="A" * 43), 400),
    ("O- POST", lambda up: Request("POST", OAUTH), 405),
]


@pytest.fixture
async def client(
    aiohttp_client: Any,
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_connector: FakeConnector,
    fake_cronofy: FakeCronofy,
) -> AsyncIterator[tuple[TestClient[Any, Any], Upstreams]]:
    """One app with every inbound route: Slack, Teams (tokens checked against the fake
    connector's keys), the push URL of a configured org and the OAuth callback."""
    store = SQLiteStore(str(tmp_path / "slotbot.db"))
    settings = Settings.from_env(
        {
            "BOT_PUBLIC_URL": "https://slotbot.test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": fake_slack.api_url,
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "CRONOFY_API_URL": fake_cronofy.url,
            "CRONOFY_APP_URL": fake_cronofy.url,
        }
    )
    box = SecretBox([generate_key()])
    platforms = [
        SlackPlatform.from_settings(settings),
        TeamsPlatform.from_settings(settings, endpoints=fake_endpoints(fake_connector)),
    ]
    app = create_app(settings, store=store, secrets=box, platforms=platforms, run_worker=False)
    http = await aiohttp_client(app)
    await seed(store, box)
    yield http, Upstreams(fake_slack, fake_connector, fake_cronofy)


async def send(http: TestClient[Any, Any], request: Request) -> tuple[int, str]:
    response = await http.request(
        request.method,
        request.path,
        data=request.body or None,
        headers=request.headers,
        params=request.params,
        allow_redirects=False,
    )
    return response.status, await response.text()


# rows where Slotbot answers differently from the checklist, kept visible until fixed
KNOWN_GAPS: dict[str, pytest.MarkDecorator] = {}
PARAMS = [pytest.param(*row, id=row[0], marks=KNOWN_GAPS.get(row[0], ())) for row in ROWS]


@pytest.mark.parametrize(("case", "build", "expected"), PARAMS)
async def test_ingress_refuses_bad_input_with_the_right_4xx(
    client: tuple[TestClient[Any, Any], Upstreams], case: str, build: Build, expected: int
) -> None:
    http, upstreams = client
    request = build(upstreams)
    status, text = await send(http, request)
    assert status < 500, f"{case}: {status} {text[:200]}"
    assert status == expected, f"{case}: {status} {text[:200]}"
    for secret in (SIGNING_SECRET, BOT_TOKEN, APP_PASSWORD, CLIENT_SECRET, ORG_KEY * 2):
        assert secret not in text
    if len(request.body) > 40:
        assert request.body.decode("utf-8", "replace")[:200] not in text, "body echoed"
    store = http.app[SERVICES].store
    assert await store.outbox_depth() == 0
    assert await store.kv_list(TEAMS_REFS) == {}
    assert not upstreams.slack.calls("response_url")
    assert not upstreams.connector.calls(lambda r: r.path.startswith("/v3/"))
    assert not upstreams.cronofy.token_requests()
