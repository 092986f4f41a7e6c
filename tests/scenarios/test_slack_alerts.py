"""A Cronofy callback ends up in Slack: the channel alert and the recruiter's DM, the
reschedule as chat.update plus a thread reply, and a 429 delivered after Retry-After."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.org_state import APP_UNINSTALLED
from bot.store.base import Store
from tests.adapters.slack.support import (
    FORM,
    ORG,
    all_text,
    event_body,
    interactive_body,
    make_app,
    post_signed,
    slack_settings,
    slash,
)
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_slack_commands import PUBLIC_LINK, setup_submission
from tests.scenarios.test_slack_install import eventually

WAIT = 15.0  # an upper bound for the worker, never a timing assertion


@pytest.fixture
async def client(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> Any:
    fake_slack.add_user("UADMIN", is_admin=True)
    settings = slack_settings(fake_slack, cronofy_url=fake_cronofy.url)
    return await aiohttp_client(make_app(settings, store, run_worker=True))


def push_headers(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Cronofy-HMAC-SHA256": base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


async def _reply(client: Any, fake_slack: FakeSlack, text: str, **kw: Any) -> dict[str, Any]:
    command = await slash(client, fake_slack, text, **kw)
    return (await command.answers())[0]


async def prepared(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> tuple[str, str]:
    """Cronofy set up, alerts routed to #hiring (C1), a tracked link for a candidate.
    Returns (push path, correlation id)."""
    # set up from the admin's DM with Slotbot: #hiring hears only alerts
    submission = setup_submission(
        fake_cronofy.client_id, fake_cronofy.client_secret, channel="DADMIN"
    )
    answer = await (await post_signed(client, interactive_body(submission), FORM)).json()
    assert answer["response_action"] == "update"
    routed = await _reply(client, fake_slack, "alerts here", command="/cronofy", user="UADMIN")
    assert "error" not in all_text(routed).lower()
    await _reply(client, fake_slack, f"link set {PUBLIC_LINK}", user="U1")
    made = await _reply(client, fake_slack, "link for eb@example.com Dr Emmet Brown", user="U1")
    link = next(u for u in _urls(made) if u.startswith(PUBLIC_LINK))
    correlation_id = parse_qs(urlsplit(link).query)["correlation_id"][0]
    org = await store.get_org(ORG)
    assert org is not None and org.org_key
    return f"/cronofy/push/{org.org_key}", correlation_id


def _urls(value: Any) -> list[str]:
    text = all_text(value)
    return [w.strip("<>|()") for w in text.replace("|", " ").split() if w.startswith("http")]


async def push(client: Any, path: str, payload: dict[str, Any], secret: str) -> None:
    body = json.dumps(payload).encode()
    response = await client.post(path, data=body, headers=push_headers(body, secret))
    assert response.status in (200, 202), await response.text()


async def test_callback_gives_channel_alert_and_dm_then_reschedule_updates_and_threads(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)

    await fake_slack.wait_for(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "C1", timeout=WAIT
    )
    await fake_slack.wait_for("conversations.open", timeout=WAIT)
    await fake_slack.wait_for(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "D1", timeout=WAIT
    )
    alert = fake_slack.messages("C1")[0]
    assert "Emmet Brown" in all_text(alert)
    assert "eb@example.com" not in all_text(alert), "channel alerts carry the name only"
    assert "eb@example.com" in all_text(fake_slack.messages("D1")[0])

    moved = time_chosen(
        correlation_id=correlation_id,
        start="2026-12-02T15:00:00Z",
        end="2026-12-02T15:30:00Z",
        triggered_at="2025-01-20T09:00:00Z",
    )
    await push(client, path, moved, fake_cronofy.client_secret)
    await fake_slack.wait_for(
        lambda r: r.name == "chat.update" and r.args.get("channel") == "C1", timeout=WAIT
    )
    await fake_slack.wait_for(
        lambda r: (
            r.name == "chat.postMessage"
            and r.args.get("channel") == "C1"
            and bool(r.args.get("thread_ts"))
        ),
        timeout=WAIT,
    )
    update = fake_slack.updates("C1")[0]
    assert update["ts"] == alert["ts"]
    thread = next(m for m in fake_slack.messages("C1") if m.get("thread_ts"))
    assert thread["thread_ts"] == alert["ts"]


async def test_rate_limited_post_is_delivered_after_retry_after(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    fake_slack.fail_next(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "C1",
        status=429,
        retry_after=1,
    )
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)
    await fake_slack.wait_for(
        lambda r: (
            r.name == "chat.postMessage" and r.args.get("channel") == "C1" and r.status == 200
        ),
        timeout=WAIT,
    )
    to_channel = [r for r in fake_slack.calls("chat.postMessage") if r.args.get("channel") == "C1"]
    assert [r.status for r in to_channel] == [429, 200]
    assert to_channel[1].at - to_channel[0].at >= 1.0, "Retry-After was honoured"
    assert len(fake_slack.messages("C1")) == 1


async def test_channel_without_the_bot_is_dead_lettered_with_advice_and_admins_told(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    fake_slack.fail_next(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "C1",
        slack_error="not_in_channel",
    )
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)
    # the admin (UADMIN, who ran the setup) is asked to invite Slotbot, in a DM
    await fake_slack.wait_for(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "DADMIN", timeout=WAIT
    )
    letters = await store.list_dead_letters(ORG)
    assert len(letters) == 1
    assert letters[0].dead_reason == "not_in_channel"
    assert "/invite @Slotbot" in letters[0].last_error
    # the recruiter's DM was not held up by the channel's problem
    await fake_slack.wait_for(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "D1", timeout=WAIT
    )


async def test_app_home_lists_the_booked_interview(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    # upcoming means after now, whenever the test runs
    start = datetime.now(UTC) + timedelta(days=7)
    booked = time_chosen(
        correlation_id=correlation_id,
        start=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        end=(start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    await push(client, path, booked, fake_cronofy.client_secret)
    await fake_slack.wait_for(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "D1", timeout=WAIT
    )
    home = {"type": "app_home_opened", "user": "U1", "tab": "home"}
    await post_signed(client, event_body(home, event_id="EvHomeU1"), "application/json")
    published = await fake_slack.wait_for("views.publish")
    view = fake_slack.views("views.publish")[0]["view"]
    assert published[0].args["user_id"] == "U1"
    text = all_text(view)
    assert "Dr Emmet Brown" in text and PUBLIC_LINK in text


async def test_after_app_uninstalled_callbacks_are_recorded_and_held_until_a_request_shows_it_back(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    gone = await post_signed(
        client, event_body({"type": "app_uninstalled"}, event_id="EvGone"), "application/json"
    )
    assert gone.status == 200

    async def inactive() -> bool:
        org = await store.get_org(ORG)
        return org is not None and not org.active

    await eventually(inactive)  # the event is handled after the ack

    # Cronofy's keys still work: a 404 would make it give up, so the event is kept and acked
    body = json.dumps(time_chosen(correlation_id=correlation_id)).encode()
    response = await client.post(
        path, data=body, headers=push_headers(body, fake_cronofy.client_secret)
    )
    assert response.status == 200, await response.text()
    assert await store.get_booking(ORG, "srq_80f7fece4f37897d62d86d80") is not None
    held = await store.list_dead_letters(ORG)
    assert len(held) == 2 and {job.dead_reason for job in held} == {APP_UNINSTALLED}
    assert not [r for r in fake_slack.calls("chat.postMessage") if r.args.get("channel") == "C1"]

    # single workspace: the next verified request from the workspace shows the app is back
    await _reply(client, fake_slack, "help", user="U1")
    org = await store.get_org(ORG)
    assert org is not None and org.active
    await fake_slack.wait_for(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "C1", timeout=WAIT
    )
    assert "Emmet Brown" in all_text(fake_slack.messages("C1"))


async def test_update_refused_with_channel_not_found_is_dead_lettered_not_posted_anew(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)
    await fake_slack.wait_for(
        lambda r: r.name == "chat.postMessage" and r.args.get("channel") == "C1", timeout=WAIT
    )
    fake_slack.fail_next(
        lambda r: r.name == "chat.update" and r.args.get("channel") == "C1",
        slack_error="channel_not_found",
    )
    moved = time_chosen(
        correlation_id=correlation_id,
        start="2026-12-02T15:00:00Z",
        end="2026-12-02T15:30:00Z",
        triggered_at="2025-01-20T09:00:00Z",
    )
    await push(client, path, moved, fake_cronofy.client_secret)

    async def dead() -> bool:
        return bool(await store.list_dead_letters(ORG))

    await eventually(dead)
    [letter] = await store.list_dead_letters(ORG)
    assert letter.dead_reason == "channel_not_found"
    assert "/invite @Slotbot" in letter.last_error
    # the channel is the problem, not the message: a new post would fail the same way
    assert len(fake_slack.messages("C1")) == 1
