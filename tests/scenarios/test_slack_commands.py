"""Slash commands, the setup modal and buttons, driven over HTTP with signed requests
against the fake Slack Web API and the fake Cronofy."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.store.base import Store
from tests.adapters.slack.support import (
    FORM,
    ORG,
    all_text,
    interactive_body,
    make_app,
    post_signed,
    slack_settings,
    slash,
)
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack

PUBLIC_LINK = "https://app.cronofy.com/pls/AbCdEf123"


@pytest.fixture
async def client(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> Any:
    fake_slack.add_user("UADMIN", is_admin=True)
    settings = slack_settings(fake_slack, cronofy_url=fake_cronofy.url)
    return await aiohttp_client(make_app(settings, store))


def setup_submission(
    client_id: str,
    client_secret: str,
    data_center: str = "us",
    *,
    user: str = "UADMIN",
    channel: str = "C1",
) -> dict[str, Any]:
    """The setup modal submitted; `channel` is where /cronofy setup was typed (a D… id: the
    member's DM with Slotbot)."""
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user, "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trigger.setup",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "cronofy_setup",
            "private_metadata": json.dumps({"channel_id": channel}),
            "state": {
                "values": {
                    "client_id": {"client_id": {"type": "plain_text_input", "value": client_id}},
                    "client_secret": {
                        "client_secret": {"type": "plain_text_input", "value": client_secret}
                    },
                    "data_center": {
                        "data_center": {
                            "type": "static_select",
                            "selected_option": {"value": data_center},
                        }
                    },
                }
            },
        },
    }


def button_press(
    action_id: str, value: str, *, user: str = "U1", channel: str = "C1", response_url: str
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trigger.button",
        "channel": {"id": channel, "name": "hiring"},
        "container": {"type": "message", "channel_id": channel, "message_ts": "1.2"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": "1.3",
            }
        ],
    }


async def set_up_cronofy(
    client: Any, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> dict[str, Any]:
    submission = setup_submission(fake_cronofy.client_id, fake_cronofy.client_secret)
    response = await post_signed(client, interactive_body(submission), FORM)
    assert response.status == 200
    return dict(await response.json())


async def test_setup_modal_then_submit_shows_the_push_url(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    await slash(client, fake_slack, "setup", command="/cronofy", user="UADMIN")
    opened = await fake_slack.wait_for("views.open")
    view = fake_slack.views("views.open")[0]["view"]
    assert opened[0].args["trigger_id"].startswith("trigger.UADMIN")
    assert view["callback_id"] == "cronofy_setup"
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert {"client_id", "client_secret", "data_center"} <= block_ids
    assert fake_slack.calls("users.info"), "admin status came from users.info"

    answer = await set_up_cronofy(client, fake_slack, fake_cronofy)
    assert answer["response_action"] == "update"
    org = await store.get_org(ORG)
    assert org is not None and org.cronofy is not None and org.org_key
    shown = all_text(answer["view"])
    assert f"https://slotbot.test/cronofy/push/{org.org_key}" in shown
    assert fake_cronofy.client_secret not in shown


async def test_bad_keys_come_back_as_inline_field_errors(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    submission = setup_submission(fake_cronofy.client_id, "CRN_wrong_secret")
    response = await post_signed(client, interactive_body(submission), FORM)
    answer = await response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) <= {"client_id", "client_secret", "data_center"}
    assert answer["errors"]
    assert (await store.get_org(ORG)) is None or (await store.get_org(ORG)).cronofy is None  # type: ignore[union-attr]

    empty = setup_submission("", "", "mars")
    answer = await (await post_signed(client, interactive_body(empty), FORM)).json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"client_id", "client_secret", "data_center"}


def button_urls(value: Any) -> list[str]:
    """Every `url` of every button in a Slack payload."""
    if isinstance(value, dict):
        found = [value["url"]] if isinstance(value.get("url"), str) else []
        return found + [u for v in value.values() for u in button_urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in button_urls(v)]
    return []


async def _connect(
    client: Any, fake_slack: FakeSlack, fake_cronofy: FakeCronofy, user: str
) -> None:
    command = await slash(client, fake_slack, "connect", user=user)
    authorize = next(u for u in button_urls(await command.answers()) if "state=" in u)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    fake_cronofy.add_code(
        "code-" + user, email=f"{user.lower()}@example.com", name="Rita Recruiter"
    )
    page = await client.get(
        "/cronofy/oauth/callback", params={"code": "code-" + user, "state": state}
    )
    assert page.status == 200, await page.text()


async def test_schedule_link_before_and_after_connect_then_share(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    # before Cronofy is set up: told an admin must set it up
    command = await slash(client, fake_slack, "link")
    assert "/cronofy setup" in all_text(await command.answers())

    await set_up_cronofy(client, fake_slack, fake_cronofy)

    # set up, not connected: a connect prompt, privately
    command = await slash(client, fake_slack, "link")
    before = (await command.answers())[0]
    assert before["response_type"] == "ephemeral"
    assert "oauth/authorize" in all_text(before)

    await _connect(client, fake_slack, fake_cronofy, "U1")
    member = await store.get_member(ORG, "U1")
    assert member is not None and member.connected

    await (await slash(client, fake_slack, f"link set {PUBLIC_LINK}")).answers()

    command = await slash(client, fake_slack, "link")
    after = (await command.answers())[0]
    assert after["response_type"] == "ephemeral"
    assert PUBLIC_LINK in all_text(after)
    share = next(
        b
        for block in after["blocks"]
        if block["type"] == "actions"
        for b in block["elements"]
        if b["action_id"].startswith("link.share")
    )

    # pressing Share posts the link to the channel for everyone
    share_hook = fake_slack.response_url("share")
    press = button_press(share["action_id"], share["value"], response_url=share_hook)
    response = await post_signed(client, interactive_body(press), FORM)
    assert response.status == 200
    await fake_slack.wait_for(lambda r: r.match_info.get("hook_id") == "share")
    shared = fake_slack.responses("share")[0]
    assert shared["response_type"] == "in_channel"
    assert PUBLIC_LINK in all_text(shared)


async def test_schedule_link_share_command_posts_in_channel(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    await set_up_cronofy(client, fake_slack, fake_cronofy)
    await slash(client, fake_slack, f"link set {PUBLIC_LINK}")
    command = await slash(client, fake_slack, "link share")
    posted = (await command.answers())[0]
    assert posted["response_type"] == "in_channel" and PUBLIC_LINK in all_text(posted)


async def test_url_buttons_are_acked_and_do_nothing_else(
    client: Any, fake_slack: FakeSlack
) -> None:
    press = button_press("url.1", "", response_url=fake_slack.response_url("url"))
    press["actions"][0]["url"] = "https://app.cronofy.com/oauth/authorize"
    response = await post_signed(client, interactive_body(press), FORM)
    assert response.status == 200
    assert fake_slack.calls("response_url") == []


async def test_non_admin_cannot_run_cronofy_commands(
    client: Any, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    await set_up_cronofy(client, fake_slack, fake_cronofy)
    command = await slash(client, fake_slack, "status", command="/cronofy", user="U5")
    assert "admin" in all_text(await command.answers()).lower()
    # a workspace admin (users.info is_admin) may, without being on the org's list
    fake_slack.add_user("UOWNER", is_owner=True)
    command = await slash(client, fake_slack, "status", command="/cronofy", user="UOWNER")
    assert "slotbot.test/cronofy/push/" in all_text(await command.answers())


async def test_slow_cronofy_check_shows_checking_then_updates_the_modal(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    # the key check outlasts Slack's 3-second window: ack with a "checking" view in time,
    # then replace it with the result once Cronofy answers
    fake_cronofy.slow("token", 3.0, times=1)
    submission = setup_submission(fake_cronofy.client_id, fake_cronofy.client_secret)
    response = await post_signed(client, interactive_body(submission), FORM)
    answer = await response.json()
    assert answer["response_action"] == "update"
    assert "Checking" in all_text(answer["view"])
    await fake_slack.wait_for("views.update", timeout=15)
    update = fake_slack.views("views.update")[0]
    assert update["view_id"] == "V1"
    org = await store.get_org(ORG)
    assert org is not None and org.org_key
    assert f"/cronofy/push/{org.org_key}" in all_text(update["view"])


async def test_a_slow_command_is_acked_in_time_and_answered_through_response_url(
    client: Any, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    """Slack asking about the member outlasts the ack budget: Slack gets its empty ack
    within its 3-second window, and the answer follows on the command's response_url."""
    await set_up_cronofy(client, fake_slack, fake_cronofy)
    fake_slack.add_user("UOWNER", is_owner=True)
    fake_slack.slow("users.info", 3.0, times=1)
    started = time.monotonic()
    command = await slash(client, fake_slack, "status", command="/cronofy", user="UOWNER")
    assert time.monotonic() - started < 3.0
    assert command.ack == {}  # acked empty: the answer was not ready
    [answer] = await command.answers(timeout=15)
    assert "slotbot.test/cronofy/push/" in all_text(answer)
    assert answer["response_type"] == "ephemeral"
