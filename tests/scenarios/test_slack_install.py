"""Installing and uninstalling: the multi-workspace OAuth round trip with tokens kept
encrypted, App Home, and uninstall / token revocation dead-lettering the org's jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.chat import DeliveryTarget
from bot.org_state import APP_UNINSTALLED
from bot.outbox import notice_job
from bot.store.base import Store
from bot.store.records import Org
from cards.model import Card, Section
from tests.adapters.slack.support import (
    ORG,
    all_text,
    event_body,
    make_app,
    post_signed,
    slack_settings,
    slash,
)
from tests.fakes.slack import FakeSlack

WAIT = 10.0


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = WAIT) -> None:
    """Wait for a side effect of work that runs after the ack."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        await asyncio.sleep(0.02)


async def _pending_notices(store: Store, org_id: str, count: int) -> None:
    card = Card(blocks=[Section("Reminder")])
    jobs = [
        notice_job(
            org_id, DeliveryTarget("slack", org_id, "dm", user_id=f"U{i}"), card, now=time.time()
        )
        for i in range(count)
    ]
    await store.enqueue(jobs)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
async def test_uninstall_dead_letters_pending_jobs(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, event: dict[str, Any]
) -> None:
    await store.put_org(Org(org_id=ORG, platform="slack", name="Test"))
    await _pending_notices(store, ORG, 3)
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store, run_worker=False))
    response = await post_signed(client, event_body(event, event_id="EvGone"), "application/json")
    assert response.status == 200

    async def dead() -> bool:
        return len(await store.list_dead_letters(ORG)) == 3

    await eventually(dead)
    letters = await store.list_dead_letters(ORG)
    assert all(job.dead_reason == APP_UNINSTALLED for job in letters)
    org = await store.get_org(ORG)
    assert org is not None and not org.active


async def test_user_token_revocation_leaves_the_installation_alone(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    await store.put_org(Org(org_id=ORG, platform="slack"))
    await _pending_notices(store, ORG, 1)
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store, run_worker=False))
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}}
    await post_signed(client, event_body(revoked, event_id="EvUser"), "application/json")
    # a second, observable event proves the first was processed before we look
    home = {"type": "app_home_opened", "user": "U1", "tab": "home"}
    await post_signed(client, event_body(home, event_id="EvHome"), "application/json")
    await fake_slack.wait_for("views.publish")
    assert await store.list_dead_letters(ORG) == []
    org = await store.get_org(ORG)
    assert org is not None and org.active


async def test_app_home_for_member_and_admin(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("UADMIN", is_admin=True)
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    member = {"type": "app_home_opened", "user": "U1", "tab": "home"}
    await post_signed(client, event_body(member, event_id="EvM"), "application/json")
    await fake_slack.wait_for("views.publish")
    admin = {"type": "app_home_opened", "user": "UADMIN", "tab": "home"}
    await post_signed(client, event_body(admin, event_id="EvA"), "application/json")
    await fake_slack.wait_for("views.publish", count=2)
    views = {v["user_id"]: v["view"] for v in fake_slack.views("views.publish")}
    assert views["U1"]["type"] == "home"
    member_text = str(views["U1"])
    # Home shows what /schedule upcoming shows, and for admins what /cronofy status shows
    assert "not connected" in member_text and "Your upcoming interviews" in member_text
    assert "Cronofy is not set up" not in member_text
    assert "Cronofy is not set up" in str(views["UADMIN"])
    assert "/cronofy setup" in str(views["UADMIN"])


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_multi_workspace_install_then_events_use_the_installed_token(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    fake_slack.add_oauth_app("111.222", "slack-client-secret")
    install = fake_slack.add_install("install-code", team_id="T9", team_name="Nine")
    settings = slack_settings(
        fake_slack,
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="slack-client-secret",
    )
    # the workspace had uninstalled Slotbot earlier
    await store.put_org(Org(org_id="slack:T9", platform="slack", active=False))
    client = await aiohttp_client(make_app(settings, store))

    start = await client.get("/slack/install", allow_redirects=False)
    assert start.status in (200, 302)
    page = await start.text()
    cookie = start.headers.get("Set-Cookie", "")
    state = cookie.split("slack-app-oauth-state=", 1)[1].split(";", 1)[0]
    assert state and state in page + start.headers.get("Location", "")

    # without the browser cookie the state is refused
    refused = await client.get(
        "/slack/oauth_redirect", params={"code": "install-code", "state": state}
    )
    assert refused.status == 400

    done = await client.get(
        "/slack/oauth_redirect",
        params={"code": "install-code", "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
    )
    assert done.status == 200, await done.text()
    stored = await store.kv_list("slack_bots")
    assert stored and install.bot_token not in repr(stored), "bot token stored encrypted"
    reinstalled = await store.get_org("slack:T9")
    assert reinstalled is not None and reinstalled.active, "a reinstall resumes deliveries"

    # the same state cannot be used twice
    again = await client.get(
        "/slack/oauth_redirect",
        params={"code": "install-code", "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
    )
    assert again.status in (400, 401)

    home = {"type": "app_home_opened", "user": "U9", "tab": "home"}
    await post_signed(client, event_body(home, event_id="EvT9", team="T9"), "application/json")
    published = await fake_slack.wait_for("views.publish")
    assert published[0].bearer == install.bot_token

    # uninstall forgets the tokens
    await post_signed(
        client,
        event_body({"type": "app_uninstalled"}, event_id="EvBye", team="T9"),
        "application/json",
    )

    async def forgotten() -> bool:
        return await store.kv_list("slack_bots") == {}

    await eventually(forgotten)


async def test_a_working_bot_token_at_start_reactivates_an_uninstalled_workspace(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    await store.put_org(Org(org_id=ORG, platform="slack", active=False))
    await aiohttp_client(make_app(slack_settings(fake_slack), store))
    assert fake_slack.calls("auth.test"), "the team comes from auth.test at start-up"
    org = await store.get_org(ORG)
    assert org is not None and org.active


async def test_without_a_bot_token_commands_still_answer(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    settings = slack_settings(fake_slack, SLACK_BOT_TOKEN="")
    client = await aiohttp_client(make_app(settings, store))
    command = await slash(client, fake_slack, "help")
    assert "/schedule" in all_text(await command.answers())
    assert fake_slack.calls("auth.test") == []
