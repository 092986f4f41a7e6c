"""TeamsDelivery against the fake connector: posts, updates, thread replies, 1:1 creation, retries."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.teams import TEAMS_DELIVERY
from adapters.teams.delivery import TeamsDelivery
from adapters.teams.refs import NAMESPACE
from bot.chat import DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError
from bot.store.base import Store
from cards.model import Card, Header, Section
from tests.adapters.teams.support import (
    CHANNEL_ID,
    GRACE,
    TENANT,
    adaptive_cards,
    bot_added,
    card_text,
    channel,
    dev_settings,
    make_app,
    message,
)
from tests.fakes.botframework import FakeConnector

ORG = f"teams:{TENANT}"


def card(text: str) -> Card:
    return Card(
        blocks=[Header("Interview booked"), Section(text)], fallback=f"Interview booked: {text}"
    )


async def installed_app(
    aiohttp_client: Any, store: Store, fake: FakeConnector
) -> tuple[Any, TeamsDelivery]:
    app = make_app(dev_settings(), store)
    client = await aiohttp_client(app)
    response = await client.post("/api/messages", json=bot_added(channel(fake)))
    assert response.status == 201
    return client, app[TEAMS_DELIVERY]


async def test_channel_post_update_and_thread_reply(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    ref = await delivery.send(
        DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("Ada, 10:00")
    )
    [posted] = fake_connector.activities(CHANNEL_ID)
    assert posted["_reply_to_id"] is None, "a new thread, not a reply to some message"
    assert posted["summary"] == "Interview booked: Ada, 10:00"
    assert "Ada, 10:00" in card_text(adaptive_cards(posted)[0])
    assert ref.platform == "teams" and ref.conversation_id == CHANNEL_ID
    assert ref.message_id == posted["_id"] and ref.thread_id == posted["_id"]
    assert ref.service_url == fake_connector.service_url

    await delivery.update(ref, card("Ada, moved to 11:00"))
    [update] = fake_connector.updates(CHANNEL_ID)
    assert update["_activity_id"] == ref.message_id
    assert "moved to 11:00" in card_text(adaptive_cards(update)[0])

    reply = await delivery.reply_in_thread(ref, card("Rescheduled"))
    thread = f"{CHANNEL_ID};messageid={ref.message_id}"
    [threaded] = fake_connector.activities(thread)
    assert reply.message_id == threaded["_id"] and reply.thread_id == ref.message_id


async def test_dm_opens_the_members_1_1_chat_once(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    # Grace talks to the bot in the channel: Slotbot learns her Teams id (and, answering her
    # privately, opens a 1:1 chat that it then reuses)
    await client.post(
        "/api/messages", json=message(channel(fake_connector, GRACE), "help", mention=True)
    )
    [opened] = fake_connector.created_conversations()
    target = DeliveryTarget("teams", ORG, "dm", user_id="aad-grace")
    reused = await delivery.send(target, card("for Grace"))
    assert reused.conversation_id == opened["_id"]
    assert len(fake_connector.created_conversations()) == 1
    # a member only ever seen in a channel: the 1:1 chat is created on first delivery
    await store.kv_delete(NAMESPACE, f"dm:{TENANT}:aad-grace")
    fake_connector.reset()
    first = await delivery.send(target, card("for Grace"))
    second = await delivery.send(target, card("again"))
    [created] = fake_connector.created_conversations()
    assert created["members"] == [{"id": "29:grace"}]
    assert first.conversation_id == second.conversation_id == created["_id"]
    assert first.thread_id is None
    assert len(fake_connector.activities(created["_id"])) == 2


async def test_unknown_member_and_unknown_channel_are_permanent_failures(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    with pytest.raises(DeliveryError) as no_member:
        await delivery.send(DeliveryTarget("teams", ORG, "dm", user_id="aad-nobody"), card("x"))
    assert no_member.value.permanent
    with pytest.raises(DeliveryError) as no_channel:
        await delivery.send(
            DeliveryTarget("teams", ORG, "channel", conversation_id="19:gone"), card("x")
        )
    assert no_channel.value.permanent


async def test_throttled_send_is_retried_after_retry_after(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    fake_connector.fail_next("send_to_conversation", status=429, retry_after=0.2)
    fake_connector.fail_next("send_to_conversation", status=502)
    ref = await delivery.send(
        DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("x")
    )
    attempts = fake_connector.calls("send_to_conversation")
    assert [r.status for r in attempts] == [429, 502, 200]
    assert attempts[1].at - attempts[0].at >= 0.2, "Retry-After was honoured"
    assert ref.message_id == fake_connector.activities(CHANNEL_ID)[0]["_id"]


async def test_long_retry_after_is_left_to_the_outbox(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    fake_connector.fail_next("send_to_conversation", status=429, retry_after=30)
    with pytest.raises(DeliveryError) as raised:
        await delivery.send(
            DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("x")
        )
    assert raised.value.retry_after == 30 and not raised.value.permanent
    assert raised.value.failure is DeliveryFailure.RATE_LIMITED
    assert len(fake_connector.calls("send_to_conversation")) == 1


async def test_forbidden_is_permanent(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    fake_connector.fail_next("send_to_conversation", status=403)
    with pytest.raises(DeliveryError) as raised:
        await delivery.send(
            DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("x")
        )
    assert raised.value.permanent


@pytest.mark.parametrize(
    ("status", "code", "failure"),
    [
        (403, "BotNotInConversationRoster", DeliveryFailure.NOT_MEMBER),
        (403, "ConversationBlockedByUser", DeliveryFailure.NOT_MEMBER),
        (403, "BotDisabledByAdmin", DeliveryFailure.AUTH),
        (403, None, DeliveryFailure.NOT_MEMBER),
        (404, "ConversationNotFound", DeliveryFailure.GONE),
        (401, "BotNotRegistered", DeliveryFailure.AUTH),
        (413, "MessageSizeTooBig", DeliveryFailure.REJECTED),
        (400, "BadArgument", DeliveryFailure.REJECTED),
        (500, None, DeliveryFailure.TRANSIENT),
    ],
)
async def test_each_connector_answer_is_the_failure_it_means(
    aiohttp_client: Any,
    store: Store,
    fake_connector: FakeConnector,
    status: int,
    code: str | None,
    failure: DeliveryFailure,
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    body = {"error": {"code": code, "message": "scripted"}} if code else None
    fake_connector.fail_next("send_to_conversation", status=status, body=body)
    with pytest.raises(DeliveryError) as raised:
        await delivery.send(
            DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("x")
        )
    assert raised.value.failure is failure
    assert raised.value.reason == f"teams_{status}"
    if code:
        assert code in str(raised.value), "the message names the connector's code"


async def test_a_deleted_message_is_gone_and_a_team_without_slotbot_not_a_member(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    target = DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID)
    ref = await delivery.send(target, card("x"))
    fake_connector.delete_message(CHANNEL_ID, ref.message_id)
    with pytest.raises(DeliveryError) as gone:
        await delivery.update(ref, card("moved"))
    assert gone.value.failure is DeliveryFailure.GONE
    fake_connector.remove_bot(CHANNEL_ID)
    with pytest.raises(DeliveryError) as removed:
        await delivery.send(target, card("again"))
    assert removed.value.failure is DeliveryFailure.NOT_MEMBER
    assert "add the Slotbot app to the team" in str(removed.value)


async def test_an_error_answer_that_is_not_json_is_still_the_status_it_was(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    """A proxy's text page (a 400, or a 414 for a URL too long) used to fail as unreadable."""
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    fake_connector.fail_next(
        "send_to_conversation",
        status=400,
        body="Bad Request",
        headers={"Content-Type": "text/plain"},
    )
    with pytest.raises(DeliveryError) as raised:
        await delivery.send(
            DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("x")
        )
    assert raised.value.failure is DeliveryFailure.REJECTED
    assert raised.value.reason == "teams_400"


async def test_a_dropped_connection_is_tried_again_in_place_without_hidden_retries(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    fake_connector.reset_connection("send_to_conversation", times=1)
    await delivery.send(
        DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("x")
    )
    sends = fake_connector.calls("send_to_conversation")
    assert [r.status for r in sends] == [None, 200], "one try dropped, one more by Slotbot"


async def test_an_outbox_send_to_a_connector_that_never_answers_gives_up_in_time(
    aiohttp_client: Any,
    store: Store,
    fake_connector: FakeConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    _client, delivery = await installed_app(aiohttp_client, store, fake_connector)
    monkeypatch.setattr(delivery.adapter.bot_framework_authentication.calls, "timeout", 0.5)
    fake_connector.slow("send_to_conversation", 30)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeliveryError) as raised:
        await delivery.send(
            DeliveryTarget("teams", ORG, "channel", conversation_id=CHANNEL_ID), card("x")
        )
    assert loop.time() - started < 2.0
    assert raised.value.failure is DeliveryFailure.TRANSIENT
    assert raised.value.reason == "teams_timeout"
    assert len(fake_connector.calls("send_to_conversation")) == 1, "a timeout is left to the outbox"
