"""FakeSlack driven by the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack


def client(fake: FakeSlack, token: str = "xoxb-test", **kwargs: object) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.api_url, **kwargs)  # type: ignore[arg-type]


async def test_post_message_is_recorded_with_increasing_ts(fake_slack: FakeSlack) -> None:
    slack = client(fake_slack)
    first = await slack.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    second = await slack.chat_postMessage(channel="U42", text="dm")

    assert first["ok"] and first["channel"] == "C1"
    # "now", as Slack's timestamps are, and unique
    assert abs(float(first["ts"]) - time.time()) < 60
    assert second["ts"] > first["ts"]
    assert second["channel"] == "D42"  # posting to a user id lands in the DM channel
    record = fake_slack.last("chat.postMessage")
    assert record.bearer == "xoxb-test"
    assert record.path == "/api/chat.postMessage"
    [message] = fake_slack.messages("C1")
    assert message["text"] == "hello" and message["blocks"] == [{"type": "divider"}]
    assert [m["ts"] for m in fake_slack.messages()] == [first["ts"], second["ts"]]
    assert "Bearer ***" in str(record.to_json()["headers"])


async def test_rate_limit_is_retried_after_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    slack = client(fake_slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])

    answer = await slack.chat_postMessage(channel="C1", text="after the limit")

    assert answer["ok"]
    statuses = [r.status for r in fake_slack.calls("chat.postMessage")]
    assert statuses == [429, 200]
    assert fake_slack.calls("chat.postMessage")[0].response == {"ok": False, "error": "ratelimited"}


async def test_slack_error_raises_slack_api_error(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", slack_error="not_in_channel")
    with pytest.raises(SlackApiError) as caught:
        await client(fake_slack).chat_postMessage(channel="C1", text="x")
    assert caught.value.response["error"] == "not_in_channel"
    assert caught.value.response.status_code == 200
    assert fake_slack.messages() == []


async def test_tokens_are_checked_once_registered(fake_slack: FakeSlack) -> None:
    fake_slack.add_token("xoxb-good", team_id="T7", user_id="UB7", bot_id="BB7")
    identity = await client(fake_slack, "xoxb-good").auth_test()
    assert (identity["team_id"], identity["user_id"], identity["bot_id"]) == ("T7", "UB7", "BB7")

    with pytest.raises(SlackApiError) as unknown:
        await client(fake_slack, "xoxb-other").auth_test()
    assert unknown.value.response["error"] == "invalid_auth"

    fake_slack.revoke_token("xoxb-good")
    with pytest.raises(SlackApiError) as revoked:
        await client(fake_slack, "xoxb-good").chat_postMessage(channel="C1", text="x")
    assert revoked.value.response["error"] == "token_revoked"


async def test_users_views_and_conversations(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("UADMIN", is_admin=True, tz="America/New_York", real_name="Ada Admin")
    slack = client(fake_slack)

    admin = (await slack.users_info(user="UADMIN"))["user"]
    member = (await slack.users_info(user="UPLAIN"))["user"]
    assert (admin["is_admin"], admin["tz"], admin["real_name"]) == (
        True,
        "America/New_York",
        "Ada Admin",
    )
    assert member["is_admin"] is False and member["is_owner"] is False
    assert fake_slack.last("users.info").method == "GET"

    opened = await slack.conversations_open(users="U5")
    assert opened["channel"]["id"] == "D5"

    view = {
        "type": "modal",
        "callback_id": "setup",
        "title": {"type": "plain_text", "text": "S"},
        "blocks": [],
    }
    shown = await slack.views_open(trigger_id="123.456", view=view)
    await slack.views_update(view_id=shown["view"]["id"], view=view)
    await slack.views_publish(user_id="U5", view={"type": "home", "blocks": []})
    await slack.chat_update(channel="C1", ts="1700000000.000100", text="edited")
    await slack.chat_postEphemeral(channel="C1", user="U5", text="psst")
    assert [v["method"] for v in fake_slack.views()] == [
        "views.open",
        "views.update",
        "views.publish",
    ]
    assert fake_slack.views("views.open")[0]["view"]["callback_id"] == "setup"
    assert fake_slack.updates()[0]["text"] == "edited"
    assert fake_slack.ephemerals("C1")[0]["user"] == "U5"

    with pytest.raises(SlackApiError) as unknown:
        await slack.api_call("no.suchMethod")
    assert unknown.value.response["error"] == "unknown_method"
    fake_slack.respond("team.info", {"ok": True, "team": {"id": "T1", "name": "Scripted"}})
    assert (await slack.team_info())["team"]["name"] == "Scripted"


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_install_and_response_url(fake_slack: FakeSlack) -> None:
    fake_slack.add_oauth_app("cid", "csecret")
    install = fake_slack.add_install("code-1", team_id="T9", team_name="Nine")
    slack = AsyncWebClient(base_url=fake_slack.api_url)

    answer = await slack.oauth_v2_access(client_id="cid", client_secret="csecret", code="code-1")
    assert answer["access_token"] == install.bot_token and answer["team"]["id"] == "T9"
    with pytest.raises(SlackApiError) as reused:
        await slack.oauth_v2_access(client_id="cid", client_secret="csecret", code="code-1")
    assert reused.value.response["error"] == "invalid_code"
    with pytest.raises(SlackApiError) as bad_secret:
        await slack.oauth_v2_access(client_id="cid", client_secret="nope", code="code-1")
    assert bad_secret.value.response["error"] == "bad_client_secret"
    identity = await client(fake_slack, install.bot_token).auth_test()
    assert identity["team_id"] == "T9"

    url = fake_slack.response_url("hook-1")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"text": "done", "replace_original": True}) as reply:
            assert reply.status == 200
    assert fake_slack.responses("hook-1") == [{"text": "done", "replace_original": True}]
    assert fake_slack.responses("other") == []


async def test_dropped_connection_is_retried_by_the_sdk(fake_slack: FakeSlack) -> None:
    fake_slack.reset_connection("chat.postMessage")
    slack = client(fake_slack, retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)])

    answer = await slack.chat_postMessage(channel="C1", text="second try")

    assert answer["ok"]
    assert [r.status for r in fake_slack.calls("chat.postMessage")] == [None, 200]


async def test_history_and_replies_keep_what_was_posted_with_its_metadata(
    fake_slack: FakeSlack,
) -> None:
    slack = client(fake_slack)
    label = {"event_type": "job", "event_payload": {"label": "j1"}}
    first = await slack.chat_postMessage(channel="C1", text="one", metadata=label)
    second = await slack.chat_postMessage(channel="C1", text="two")
    reply = await slack.chat_postMessage(
        channel="C1", text="in thread", thread_ts=first["ts"], metadata=label
    )
    await slack.chat_postMessage(channel="C2", text="elsewhere")
    await slack.chat_update(channel="C1", ts=first["ts"], text="one, edited")

    plain = await slack.conversations_history(channel="C1")
    # newest first, thread replies left in their thread, metadata only when asked for
    assert [m["text"] for m in plain["messages"]] == ["two", "one, edited"]
    assert all("metadata" not in m for m in plain["messages"])
    full = await slack.conversations_history(channel="C1", include_all_metadata=True)
    assert full["messages"][1]["metadata"] == label
    assert "metadata" not in full["messages"][0]
    newer = await slack.conversations_history(channel="C1", oldest=first["ts"], limit=5)
    assert [m["ts"] for m in newer["messages"]] == [second["ts"]]
    capped = await slack.conversations_history(channel="C1", limit=1)
    assert len(capped["messages"]) == 1 and capped["has_more"] is True

    thread = await slack.conversations_replies(
        channel="C1", ts=first["ts"], include_all_metadata=True
    )
    assert [m["ts"] for m in thread["messages"]] == [first["ts"], reply["ts"]]
    assert thread["messages"][1]["metadata"] == label

    await slack.chat_delete(channel="C1", ts=second["ts"])
    after = await slack.conversations_history(channel="C1")
    assert [m["text"] for m in after["messages"]] == ["one, edited"]
    with pytest.raises(SlackApiError) as missing:
        await slack.conversations_replies(channel="C1", ts="1.000001")
    assert missing.value.response["error"] == "thread_not_found"


async def test_api_test_needs_no_token(fake_slack: FakeSlack) -> None:
    answer = await client(fake_slack, token="").api_test()
    assert answer["ok"]
