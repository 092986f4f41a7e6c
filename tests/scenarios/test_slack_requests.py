"""POST /slack/events over HTTP: every unverifiable request is a 401, signed garbage a 400,
and a replayed request or a retried event runs once."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.slack import SLACK
from bot.store.base import Store
from bot.store.records import CronofyConfig, Org
from tests.adapters.slack.support import (
    FORM,
    ORG,
    ack_body,
    all_text,
    command_body,
    event_body,
    interactive_body,
    make_app,
    post_signed,
    signed_headers,
    slack_settings,
)
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def client(aiohttp_client: Any, store: Store, fake_slack: FakeSlack) -> Any:
    return await aiohttp_client(make_app(slack_settings(fake_slack), store))


def _bad_requests(fake_slack: FakeSlack) -> dict[str, tuple[str, dict[str, str]]]:
    body = command_body(fake_slack, "help")
    good = signed_headers(body, FORM)
    now = int(time.time())
    return {
        "no headers": (body, {"Content-Type": FORM}),
        "no signature": (body, {k: v for k, v in good.items() if k != "X-Slack-Signature"}),
        "no timestamp": (body, {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"}),
        "non-numeric timestamp": (body, {**good, "X-Slack-Request-Timestamp": "abc"}),
        "stale": (body, signed_headers(body, FORM, ts=now - 301)),
        "from the future": (body, signed_headers(body, FORM, ts=now + 301)),
        "wrong secret": (body, signed_headers(body, FORM, secret="not-the-secret")),
        "tampered body": (body + "&text=cronofy+setup", good),
        "unsigned garbage json": ("{not json", {"Content-Type": "application/json"}),
    }


CASES = [
    "no headers",
    "no signature",
    "no timestamp",
    "non-numeric timestamp",
    "stale",
    "from the future",
    "wrong secret",
    "tampered body",
    "unsigned garbage json",
]


@pytest.mark.parametrize("case", CASES)
async def test_unverifiable_requests_are_401(client: Any, fake_slack: FakeSlack, case: str) -> None:
    body, headers = _bad_requests(fake_slack)[case]
    response = await client.post("/slack/events", data=body.encode(), headers=headers)
    assert response.status == 401
    answer = await response.json()
    assert answer["error"] == "invalid request" and answer["reason"]
    assert "slack-signing-secret" not in json.dumps(answer)
    assert fake_slack.calls("response_url") == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", "{not json"),
        ("application/json", '{"type": "event_callback", "event": {"type": "app_home_opened"}}'),
        (FORM, "payload=%7Bbroken"),
        (FORM, "neither=command"),
    ],
)
async def test_signed_but_malformed_is_400(client: Any, content_type: str, body: str) -> None:
    response = await post_signed(client, body, content_type)
    assert response.status == 400
    assert (await response.json())["reason"]


@pytest.mark.parametrize("content_type", ["text/plain", "text/xml", ""])
async def test_signed_body_of_another_format_is_415(client: Any, content_type: str) -> None:
    response = await post_signed(client, "<hello/>", content_type)
    assert response.status == 415
    assert "form or JSON" in (await response.json())["reason"]


async def test_body_over_the_cap_is_413(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    settings = slack_settings(fake_slack)
    client = await aiohttp_client(make_app(settings, store))
    body = "text=" + "x" * (settings.max_body_bytes + 10)
    response = await post_signed(client, body, FORM)
    assert response.status == 413


async def test_url_verification_answers_the_challenge(client: Any) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    response = await post_signed(client, body, "application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == "abc123"


async def test_a_modal_with_several_response_urls_is_answered(
    client: Any, fake_slack: FakeSlack
) -> None:
    """bolt logged through a context it had not finished building (a KeyError, a 500)."""
    from tests.scenarios.test_slack_commands import setup_submission

    submission = setup_submission("cid", "secret")
    submission["response_urls"] = [
        {
            "block_id": "b1",
            "action_id": "a1",
            "channel_id": "C1",
            "response_url": fake_slack.response_url("one"),
        },
        {
            "block_id": "b2",
            "action_id": "a2",
            "channel_id": "C2",
            "response_url": fake_slack.response_url("two"),
        },
    ]
    response = await post_signed(client, interactive_body(submission), FORM)
    assert response.status == 200, await response.text()


async def test_replayed_request_runs_once(client: Any, fake_slack: FakeSlack) -> None:
    body = command_body(fake_slack, "help", hook="replayed")
    headers = signed_headers(body, FORM)
    first = await client.post("/slack/events", data=body.encode(), headers=headers)
    assert first.status == 200
    assert "schedule" in all_text(await ack_body(first)).lower()
    again = await client.post("/slack/events", data=body.encode(), headers=headers)
    assert again.status == 200
    assert await again.text() == ""  # answered, not run: no help a second time
    # a later, freshly signed command still runs: the replay was refused, not everything
    fresh = await post_signed(client, command_body(fake_slack, "help", hook="fresh"), FORM)
    assert "schedule" in all_text(await ack_body(fresh)).lower()
    assert fake_slack.responses() == []


async def test_retried_event_runs_once(client: Any, fake_slack: FakeSlack) -> None:
    body = event_body({"type": "app_home_opened", "user": "U1", "tab": "home"}, event_id="EvHome1")
    first = await post_signed(client, body, "application/json")
    assert first.status == 200
    await fake_slack.wait_for("views.publish")
    # Slack's retry: same event_id, new delivery (new timestamp and signature)
    retry = await post_signed(
        client,
        body,
        "application/json",
        extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        ts=int(time.time()) - 7,
    )
    assert retry.status == 200
    assert retry.headers.get("X-Slack-No-Retry") == "1"
    other = event_body({"type": "app_home_opened", "user": "U2", "tab": "home"}, event_id="EvHome2")
    await post_signed(client, other, "application/json")
    published = await fake_slack.wait_for("views.publish", count=2)
    assert [r.args["user_id"] for r in published] == ["U1", "U2"]


async def test_shutdown_lets_an_acked_command_finish_its_work(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    await store.put_org(
        Org(
            org_id=ORG,
            platform="slack",
            cronofy=CronofyConfig("cid", "sealed", "us", "UADMIN", 1.0),
        )
    )
    # the command's work is still waiting on Slack when the app is told to stop
    fake_slack.slow("users.info", 1.5, times=1)
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    body = command_body(fake_slack, "link set https://app.cronofy.com/pls/Late123", hook="late")
    response = await post_signed(client, body, FORM)
    assert response.status == 200
    await client.close()  # closes the store too, once the listener is done
    await store.open()
    member = await store.get_member(ORG, "U1")
    assert member is not None and member.public_link == "https://app.cronofy.com/pls/Late123"


async def test_event_that_failed_on_our_side_runs_when_slack_retries_it(
    client: Any, fake_slack: FakeSlack
) -> None:
    failures = [RuntimeError("a bug while handling the event")]

    async def breaks_once(next_: Callable[[], Awaitable[None]]) -> None:
        if failures:
            raise failures.pop()
        await next_()

    client.server.app[SLACK].bolt.middleware(breaks_once)
    body = event_body({"type": "app_home_opened", "user": "U1", "tab": "home"}, event_id="EvBug")
    first = await post_signed(client, body, "application/json")
    assert first.status == 500
    # the event was not handled, so it is not remembered as handled: Slack's retry runs
    retry = await post_signed(
        client,
        body,
        "application/json",
        extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"},
        ts=int(time.time()) - 7,
    )
    assert retry.status == 200
    assert "X-Slack-No-Retry" not in retry.headers
    [published] = await fake_slack.wait_for("views.publish")
    assert published.args["user_id"] == "U1"


async def test_store_outage_is_a_plain_503(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    await store.close()
    try:
        response = await post_signed(client, command_body(fake_slack, "help"), FORM)
        assert response.status == 503
        answer = await response.json()
        assert answer["reason"] == "temporarily unavailable", "no store details to the caller"
    finally:
        await store.open()
