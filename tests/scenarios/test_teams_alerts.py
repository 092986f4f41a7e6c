"""A Cronofy callback ends up in Teams: the channel card and the recruiter's 1:1 card, the
reschedule as an updated activity plus a thread reply, a 429 delivered after Retry-After, an
uninstall that stops deliveries, a deleted alert replaced by a new one, and a channel Slotbot
was removed from dead-lettered with the admins told once."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.teams.refs import NAMESPACE
from bot.chat import DeliveryTarget
from bot.org_state import APP_UNINSTALLED
from bot.outbox import notice_job
from bot.store.base import Store
from cards.model import Card, Header
from tests.adapters.teams.support import (
    CHANNEL_ID,
    TENANT,
    adaptive_cards,
    bot_added,
    card_text,
    channel,
    dev_settings,
    installed,
    make_app,
    message,
    personal,
)
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy, sign
from tests.scenarios.test_teams_commands import ADA_DM, cronofy_env, post, setup_org

WAIT = 15.0  # an upper bound for the worker, never a timing assertion
PUBLIC_LINK = "https://app.cronofy.com/pls/ada-lovelace"
ORG = f"teams:{TENANT}"


@pytest.fixture
async def client(
    fake_connector: FakeConnector, fake_cronofy: FakeCronofy, store: Store, aiohttp_client: Any
) -> Any:
    # the fakes come first so they stop last: the app (and its worker) closes while they answer
    settings = dev_settings(**cronofy_env(fake_cronofy))
    return await aiohttp_client(make_app(settings, store, run_worker=True))


async def prepared(client: Any, fake: FakeConnector, fake_cronofy: FakeCronofy) -> tuple[str, str]:
    """Cronofy set up, the bot in the team, alerts routed to its General channel, a tracked
    link for a candidate. Returns (push path, correlation id)."""
    push_url = await setup_org(client, fake, fake_cronofy)
    assert (await post(client, bot_added(channel(fake)))).status == 201
    await post(client, message(channel(fake), "cronofy alerts here", mention=True))
    await post(client, message(personal(fake), f"schedule link set {PUBLIC_LINK}"))
    await post(client, message(personal(fake), "schedule link for eb@example.com Dr Emmet Brown"))
    text = card_text(adaptive_cards(fake.activities(ADA_DM)[-1])[0])
    link = re.search(re.escape(PUBLIC_LINK) + r"\?[^\s\"')\]]+", text)
    assert link, text
    correlation_id = parse_qs(urlsplit(link.group(0)).query)["correlation_id"][0]
    return urlsplit(push_url).path, correlation_id


async def push(client: Any, path: str, payload: dict[str, Any], secret: str) -> None:
    body = json.dumps(payload).encode()
    headers = {"Cronofy-HMAC-SHA256": sign(body, secret), "Content-Type": "application/json"}
    response = await client.post(path, data=body, headers=headers)
    assert response.status in (200, 202), await response.text()


def to_channel(record: Any) -> bool:
    return bool(
        record.name == "send_to_conversation"
        and record.match_info.get("conversation_id") == CHANNEL_ID
    )


def to_ada(record: Any) -> bool:
    return bool(
        record.name == "send_to_conversation" and record.match_info.get("conversation_id") == ADA_DM
    )


async def test_callback_gives_channel_card_and_1_1_card_then_reschedule_updates_and_threads(
    client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, fake_connector, fake_cronofy)
    dm_before = len(fake_connector.activities(ADA_DM))
    sends_to_dm = len(fake_connector.calls(to_ada))
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)

    await fake_connector.wait_for(lambda r: to_channel(r) and r.status == 200, timeout=WAIT)
    await fake_connector.wait_for(to_ada, count=sends_to_dm + 1, timeout=WAIT)
    [alert] = [
        a
        for a in fake_connector.activities(CHANNEL_ID)
        if a["_reply_to_id"] is None and adaptive_cards(a)
    ]
    channel_text = card_text(adaptive_cards(alert)[0])
    assert "Emmet Brown" in channel_text
    assert "eb@example.com" not in channel_text, "channel alerts carry the name only"
    assert alert["summary"]
    dm = fake_connector.activities(ADA_DM)[dm_before:]
    assert any("eb@example.com" in card_text(c) for a in dm for c in adaptive_cards(a)), [
        card_text(c) for a in dm for c in adaptive_cards(a)
    ]

    moved = time_chosen(
        correlation_id=correlation_id,
        start="2026-12-02T15:00:00Z",
        end="2026-12-02T15:30:00Z",
        triggered_at="2025-01-20T09:00:00Z",
    )
    await push(client, path, moved, fake_cronofy.client_secret)
    thread = f"{CHANNEL_ID};messageid={alert['_id']}"
    await fake_connector.wait_for(
        lambda r: r.name == "update_activity" and r.match_info.get("activity_id") == alert["_id"],
        timeout=WAIT,
    )
    await fake_connector.wait_for(
        lambda r: (
            r.name == "send_to_conversation" and r.match_info.get("conversation_id") == thread
        ),
        timeout=WAIT,
    )
    [update] = fake_connector.updates(CHANNEL_ID)
    assert adaptive_cards(update), "the original alert card was replaced"
    assert len(fake_connector.activities(thread)) == 1
    await outbox_drained(store)


async def outbox_drained(store: Store) -> None:
    """Wait until the worker has finished every job (the recruiter's 1:1 update too)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while await store.outbox_depth() > 0:
        assert asyncio.get_running_loop().time() < deadline, "outbox never drained"
        await asyncio.sleep(0.02)


async def test_throttled_channel_post_is_delivered_after_retry_after(
    client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, fake_connector, fake_cronofy)
    fake_connector.fail_next(to_channel, status=429, retry_after=1)
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)
    await fake_connector.wait_for(lambda r: to_channel(r) and r.status == 200, timeout=WAIT)
    attempts = [r for r in fake_connector.calls(to_channel)]
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0, "Retry-After was honoured"
    posted = [
        a
        for a in fake_connector.activities(CHANNEL_ID)
        if adaptive_cards(a) and a["_reply_to_id"] is None
    ]
    assert len(posted) == 1
    await outbox_drained(store)


async def test_uninstall_forgets_conversations_and_dead_letters_pending_jobs(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store, run_worker=False))
    assert (await post(client, installed(channel(fake_connector)))).status == 201
    assert (await post(client, installed(personal(fake_connector)))).status == 201
    assert await store.kv_get(NAMESPACE, f"conv:{CHANNEL_ID}") is not None
    job = notice_job(
        ORG,
        DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID),
        Card(blocks=[Header("pending")]),
        now=0.0,
    )
    await store.enqueue([job])

    # removed from the team: its channels are forgotten, the member's 1:1 chat still works
    assert (await post(client, installed(channel(fake_connector), action="remove"))).status == 201
    assert await store.kv_get(NAMESPACE, f"conv:{CHANNEL_ID}") is None
    assert await store.kv_get(NAMESPACE, f"conv:{ADA_DM}") is not None
    assert await store.list_dead_letters(ORG) == []

    # removed everywhere in the tenant: pending jobs are dead-lettered with the reason
    assert (await post(client, installed(personal(fake_connector), action="remove"))).status == 201
    assert await store.kv_get(NAMESPACE, f"conv:{ADA_DM}") is None
    [dead] = await store.list_dead_letters(ORG)
    assert dead.job_id == job.job_id
    assert "uninstalled" in dead.dead_reason


async def test_removed_then_added_again_records_callbacks_holds_and_then_delivers_alerts(
    client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, fake_connector, fake_cronofy)
    secret = fake_cronofy.client_secret
    for where in (channel(fake_connector), personal(fake_connector)):
        assert (await post(client, installed(where, action="remove"))).status == 201
    org = await store.get_org(ORG)
    assert org is not None and not org.active

    # the keys still work: the booking is recorded and acknowledged, its alerts held
    await push(client, path, time_chosen(correlation_id=correlation_id), secret)
    assert await store.get_booking(ORG, "srq_80f7fece4f37897d62d86d80") is not None
    held = await store.list_dead_letters(ORG)
    assert held and {job.dead_reason for job in held} == {APP_UNINSTALLED}
    assert fake_connector.calls(to_channel) == []

    # added to the team again: the org is on, the held channel alert goes out
    assert (await post(client, bot_added(channel(fake_connector)))).status == 201
    org = await store.get_org(ORG)
    assert org is not None and org.active
    await fake_connector.wait_for(lambda r: to_channel(r) and r.status == 200, timeout=WAIT)
    await outbox_drained(store)
    assert await store.list_dead_letters(ORG) == []

    # and a new callback is delivered straight away
    posted = len(fake_connector.calls(to_channel))
    other = time_chosen(request_id="srq_second", correlation_id=correlation_id)
    await push(client, path, other, secret)
    await fake_connector.wait_for(to_channel, count=posted + 1, timeout=WAIT)
    await outbox_drained(store)


BOOKING = "srq_80f7fece4f37897d62d86d80"  # the scheduling request of `time_chosen`


def moved(correlation_id: str, day: int) -> dict[str, Any]:
    """The candidate moves the interview to another day (a later callback each time)."""
    return time_chosen(
        correlation_id=correlation_id,
        start=f"2026-12-{day:02d}T15:00:00Z",
        end=f"2026-12-{day:02d}T15:30:00Z",
        triggered_at=f"2025-01-{day + 18:02d}T09:00:00Z",
    )


def channel_alerts(fake: FakeConnector) -> list[dict[str, Any]]:
    """The cards posted in the channel itself (not in a thread, not a text reply)."""
    return [
        a for a in fake.activities(CHANNEL_ID) if a["_reply_to_id"] is None and adaptive_cards(a)
    ]


async def until(what: str, check: Any) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"waited {WAIT}s for: {what}"
        await asyncio.sleep(0.02)


async def test_reschedule_of_a_deleted_channel_alert_posts_a_new_one_that_later_changes_update(
    client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, fake_connector, fake_cronofy)
    secret = fake_cronofy.client_secret
    await push(client, path, time_chosen(correlation_id=correlation_id), secret)
    await fake_connector.wait_for(lambda r: to_channel(r) and r.status == 200, timeout=WAIT)
    await outbox_drained(store)
    [first] = channel_alerts(fake_connector)
    fake_connector.delete_message(CHANNEL_ID, first["_id"])  # someone deleted it in Teams

    await push(client, path, moved(correlation_id, 2), secret)
    # the alert cannot be updated any more: a new one is posted in the channel instead
    await fake_connector.wait_for(
        lambda r: to_channel(r) and r.status == 200, count=2, timeout=WAIT
    )
    await outbox_drained(store)
    refused = fake_connector.calls(
        lambda r: r.name == "update_activity" and r.match_info.get("activity_id") == first["_id"]
    )
    assert [r.status for r in refused] == [404]
    _, second = channel_alerts(fake_connector)
    assert "Emmet Brown" in card_text(adaptive_cards(second)[0])
    refs = await store.get_message_refs(ORG, BOOKING)
    assert refs[f"channel:{CHANNEL_ID}"].message_id == second["_id"]
    assert refs[f"channel:{CHANNEL_ID}"].seq == 2, "the new message shows the second version"
    assert await store.list_dead_letters(ORG) == []

    # the next change goes to the new alert: updated in place, and said in its thread
    await push(client, path, moved(correlation_id, 3), secret)
    await fake_connector.wait_for(
        lambda r: (
            r.name == "update_activity"
            and r.match_info.get("activity_id") == second["_id"]
            and r.status == 200
        ),
        timeout=WAIT,
    )
    thread = f"{CHANNEL_ID};messageid={second['_id']}"
    await fake_connector.wait_for(
        lambda r: (
            r.name == "send_to_conversation"
            and r.match_info.get("conversation_id") == thread
            and r.status == 200
        ),
        timeout=WAIT,
    )
    await outbox_drained(store)
    assert len(channel_alerts(fake_connector)) == 2, "no third alert"


async def test_a_channel_slotbot_was_removed_from_is_dead_lettered_and_the_admins_told_once(
    client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, fake_connector, fake_cronofy)
    secret = fake_cronofy.client_secret
    await push(client, path, time_chosen(correlation_id=correlation_id), secret)
    await fake_connector.wait_for(lambda r: to_channel(r) and r.status == 200, timeout=WAIT)
    await outbox_drained(store)
    [alert] = channel_alerts(fake_connector)
    posts = len(fake_connector.calls(to_channel))
    # Slotbot is taken out of the team, and the connector refuses it there from now on
    fake_connector.remove_bot(CHANNEL_ID)

    # a reschedule of the booking it posted, and a booking of another candidate
    await push(client, path, moved(correlation_id, 2), secret)
    other = time_chosen(request_id="srq_second", correlation_id=correlation_id)
    await push(client, path, other, secret)

    def invited(record: Any) -> bool:
        return (
            record.name == "send_to_conversation"
            and record.match_info.get("conversation_id") == ADA_DM
            and record.status == 200
            and "is not in" in json.dumps(record.json)
        )

    async def both_dead() -> bool:
        return len(await store.list_dead_letters(ORG)) == 2

    await until("both channel alerts dead-lettered", both_dead)
    # Ada, who set Slotbot up and so is its admin, is asked to add it back to the team
    await fake_connector.wait_for(invited, timeout=WAIT)
    await outbox_drained(store)

    dead = await store.list_dead_letters(ORG)
    assert {j.payload["target"]["conversation_id"] for j in dead} == {CHANNEL_ID}
    assert {j.dead_reason for j in dead} == {"teams_403"}
    assert all("BotNotInConversationRoster" in j.last_error for j in dead), dead
    assert all("add the Slotbot app to the team" in j.last_error for j in dead)
    refused = fake_connector.calls(
        lambda r: r.name == "update_activity" and r.match_info.get("activity_id") == alert["_id"]
    )
    assert [r.status for r in refused] == [403]
    # the channel is the problem, not the message: the reschedule posted nothing new there;
    # only the other booking's alert was tried
    assert [r.status for r in fake_connector.calls(to_channel)][posts:] == [403]
    # once, although two alerts failed
    assert len(fake_connector.calls(invited)) == 1
    [invite] = [a for a in fake_connector.activities(ADA_DM) if "is not in" in json.dumps(a)]
    assert "add the Slotbot app to the team" in card_text(adaptive_cards(invite)[0])
