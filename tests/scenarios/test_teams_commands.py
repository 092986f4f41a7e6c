"""Teams end to end: messages and card actions in over /api/messages, cards out to the fake
Bot Framework connector; setup validated against the fake Cronofy."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.store.base import Store
from tests.adapters.teams.support import (
    CHANNEL_ID,
    TENANT,
    adaptive_cards,
    card_text,
    channel,
    dev_settings,
    execute,
    make_app,
    message,
    personal,
    submit,
)
from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy

ADA_DM = "a:personal-29:ada"


async def post(client: Any, activity: dict[str, Any]) -> Any:
    return await client.post("/api/messages", json=activity)


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = node
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return found


def cronofy_env(fake_cronofy: FakeCronofy) -> dict[str, str]:
    return {"CRONOFY_API_URL": fake_cronofy.url, "CRONOFY_APP_URL": fake_cronofy.url}


async def setup_org(client: Any, fake: FakeConnector, fake_cronofy: FakeCronofy) -> str:
    """Run cronofy setup through the card in Ada's 1:1 chat; returns the push URL."""
    await post(client, message(personal(fake), "cronofy setup"))
    form_reply = fake.activities(ADA_DM)[-1]
    response = await post(
        client,
        submit(
            personal(fake),
            {
                "action_id": "cronofy.setup.submit",
                "client_id": fake_cronofy.client_id,
                "client_secret": fake_cronofy.client_secret,
                "data_center": "us",
            },
            reply_to=form_reply["_id"],
        ),
    )
    assert response.status == 201
    updated = fake.updates(ADA_DM)[-1]
    match = re.search(
        r"https://slotbot\.test/cronofy/push/[\w-]+", card_text(adaptive_cards(updated)[0])
    )
    assert match, card_text(adaptive_cards(updated)[0])
    return match.group(0)


async def test_help_in_a_personal_chat_answers_with_a_card(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    sent = message(personal(fake_connector), "/help")
    response = await post(client, sent)
    assert response.status == 201
    [reply] = fake_connector.activities(ADA_DM)
    assert reply["_reply_to_id"] == sent["id"]
    [card] = adaptive_cards(reply)
    assert "schedule link" in card_text(card)
    assert reply.get("summary")


async def test_a_private_answer_to_a_channel_command_goes_to_the_members_1_1_chat(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    response = await post(client, message(channel(fake_connector), "help", mention=True))
    assert response.status == 201
    [created] = fake_connector.created_conversations()
    assert created["members"] == [{"id": "29:ada"}]
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    private = fake_connector.activities(created["_id"])
    assert len(private) == 1 and adaptive_cards(private[0])
    [pointer] = fake_connector.activities(CHANNEL_ID)
    assert "1:1" in pointer["text"] and not adaptive_cards(pointer)
    # the second private answer reuses the chat instead of opening another
    await post(client, message(channel(fake_connector), "help", mention=True))
    assert len(fake_connector.created_conversations()) == 1
    assert len(fake_connector.activities(created["_id"])) == 2


async def test_setup_card_submit_shows_the_push_url_in_place_of_the_form(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    client = await aiohttp_client(make_app(dev_settings(**cronofy_env(fake_cronofy)), store))
    await post(client, message(personal(fake_connector), "cronofy setup"))
    [form_reply] = fake_connector.activities(ADA_DM)
    fields = inputs_of(adaptive_cards(form_reply)[0])
    assert {"client_id", "client_secret", "data_center"} <= fields.keys()
    assert fields["client_secret"].get("style") == "password"
    assert fields["data_center"]["type"] == "Input.ChoiceSet"

    # wrong secret: the form comes back (in place) with the problem, nothing saved
    response = await post(
        client,
        submit(
            personal(fake_connector),
            {"client_id": fake_cronofy.client_id, "client_secret": "wrong", "data_center": "us"},
            reply_to=form_reply["_id"],
        ),
    )
    assert response.status == 201
    [again] = fake_connector.updates(ADA_DM)
    assert again["_activity_id"] == form_reply["_id"]
    assert "client_secret" in inputs_of(adaptive_cards(again)[0])
    assert "wrong" not in card_text(adaptive_cards(again)[0])
    org = await store.get_org(f"teams:{TENANT}")
    assert org is None or org.cronofy is None

    push_url = await setup_org(client, fake_connector, fake_cronofy)
    org = await store.get_org(f"teams:{TENANT}")
    assert org is not None and org.cronofy is not None and org.org_key
    assert push_url.endswith(org.org_key)
    assert org.admins == ["aad-ada"], "first setup makes the member an admin"


async def test_setup_through_action_execute_returns_the_result_card(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    client = await aiohttp_client(make_app(dev_settings(**cronofy_env(fake_cronofy)), store))
    data = {
        "action_id": "cronofy.setup.submit",
        "client_id": fake_cronofy.client_id,
        "client_secret": fake_cronofy.client_secret,
        "data_center": "us",
    }
    response = await post(client, execute(personal(fake_connector), "cronofy.setup.submit", data))
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "/cronofy/push/" in card_text(body["value"])
    assert fake_cronofy.client_secret not in card_text(body["value"])


async def test_non_admin_cannot_open_setup_once_an_admin_exists(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    from tests.adapters.teams.support import GRACE

    client = await aiohttp_client(make_app(dev_settings(**cronofy_env(fake_cronofy)), store))
    await setup_org(client, fake_connector, fake_cronofy)
    await post(client, message(personal(fake_connector, GRACE), "cronofy setup"))
    [reply] = fake_connector.activities("a:personal-29:grace")
    assert "client_secret" not in inputs_of(adaptive_cards(reply)[0])
    assert "admin" in card_text(adaptive_cards(reply)[0]).lower()


async def test_schedule_link_before_and_after_connect_then_share_into_the_channel(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    client = await aiohttp_client(make_app(dev_settings(**cronofy_env(fake_cronofy)), store))
    await setup_org(client, fake_connector, fake_cronofy)

    # before connecting: a connect prompt with Cronofy's authorize link
    await post(client, message(personal(fake_connector), "schedule link"))
    prompt = card_text(adaptive_cards(fake_connector.activities(ADA_DM)[-1])[0])
    authorize = re.search(r"https?://\S+/oauth/authorize\?[^\s\"')\]]+", prompt)
    assert authorize, prompt
    state = parse_qs(urlsplit(authorize.group(0)).query)["state"][0]

    fake_cronofy.add_code("code-ada", email="ada@example.com", name="Ada Lovelace")
    callback = await client.get(
        "/cronofy/oauth/callback", params={"code": "code-ada", "state": state}
    )
    assert callback.status == 200
    member = await store.get_member(f"teams:{TENANT}", "aad-ada")
    assert member is not None and member.connected

    public = "https://app.cronofy.com/pls/ada-lovelace"
    await post(client, message(personal(fake_connector), f"schedule link set {public}"))

    # after connecting, typed in the channel: the link comes privately, with a Share button
    await post(client, message(channel(fake_connector), "schedule link", mention=True))
    created = fake_connector.created_conversations()
    dm = created[-1]["_id"] if created else ADA_DM
    link_card = adaptive_cards(fake_connector.activities(dm)[-1])[0]
    assert public in card_text(link_card)
    share = [
        a
        for a in link_card.get("actions", [])
        + [x for b in link_card["body"] for x in b.get("actions", [])]
        if isinstance(a.get("data"), dict) and a["data"].get("action_id") == "link.share"
    ]
    assert share, link_card
    before = len(fake_connector.activities(CHANNEL_ID))
    response = await post(client, execute(personal(fake_connector), "link.share", share[0]["data"]))
    assert response.status == 200
    posted = fake_connector.activities(CHANNEL_ID)[before:]
    assert len(posted) == 1, "Share posts the link where the command was typed"
    assert public in card_text(adaptive_cards(posted[0])[0])


async def test_bot_admins_may_run_setup_in_any_tenant(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    from tests.adapters.teams.support import GRACE

    settings = dev_settings(BOT_ADMINS="aad-grace", **cronofy_env(fake_cronofy))
    client = await aiohttp_client(make_app(settings, store))
    await setup_org(client, fake_connector, fake_cronofy)
    await post(client, message(personal(fake_connector, GRACE), "cronofy setup"))
    [reply] = fake_connector.activities("a:personal-29:grace")
    assert "client_secret" in inputs_of(adaptive_cards(reply)[0])


def share_data(link_card: dict[str, Any]) -> dict[str, Any]:
    actions = link_card.get("actions", []) + [
        x for b in link_card["body"] for x in b.get("actions", [])
    ]
    for action in actions:
        if isinstance(action.get("data"), dict) and action["data"].get("action_id") == "link.share":
            return dict(action["data"])
    raise AssertionError(link_card)


async def test_share_never_posts_a_forged_link_or_into_a_forged_origin(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    """The Share button's data comes back from the client: a link Slotbot did not make is
    never posted, and the channel to post in counts only when Slotbot sealed it for this
    member."""
    client = await aiohttp_client(make_app(dev_settings(**cronofy_env(fake_cronofy)), store))
    await setup_org(client, fake_connector, fake_cronofy)
    public = "https://app.cronofy.com/pls/ada-lovelace"
    await post(client, message(personal(fake_connector), f"schedule link set {public}"))
    await post(client, message(channel(fake_connector), "schedule link", mention=True))
    created = fake_connector.created_conversations()
    dm = created[-1]["_id"] if created else ADA_DM
    data = share_data(adaptive_cards(fake_connector.activities(dm)[-1])[0])
    assert data["slotbot_origin"] != CHANNEL_ID, "the origin is sealed, not the bare id"

    def channel_posts() -> list[str]:
        return [
            card_text(card)
            for activity in fake_connector.activities(CHANNEL_ID)
            for card in adaptive_cards(activity)
        ]

    before = len(channel_posts())
    evil = "https://evil.example/login"
    forged_cases = [
        dict(data, value=evil),  # a made-up link, with a real origin
        dict(data, slotbot_origin=CHANNEL_ID),  # an unsealed origin
        dict(data, slotbot_origin=data["slotbot_origin"][:-4] + "AAAA"),  # tampered
    ]
    for forged in forged_cases:
        response = await post(client, execute(personal(fake_connector), "link.share", forged))
        assert response.status == 200
    assert channel_posts()[before:] == [], "nothing forged reaches the channel"
    assert not any(evil in text for text in channel_posts())
    # Grace replaying Ada's sealed origin does not get to post in Ada's channel either
    grace = {"id": "29:grace", "name": "Grace Hopper", "aadObjectId": "aad-grace"}
    await post(
        client, execute(personal(fake_connector, user=grace), "link.share", dict(data, value="own"))
    )
    assert channel_posts()[before:] == []
    # the genuine button still posts the link where it was asked for
    await post(client, execute(personal(fake_connector), "link.share", data))
    assert [public in text for text in channel_posts()[before:]] == [True]


async def test_admins_are_added_by_mention_and_never_by_a_made_up_word(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    client = await aiohttp_client(make_app(dev_settings(**cronofy_env(fake_cronofy)), store))
    await setup_org(client, fake_connector, fake_cronofy)
    org_id = f"teams:{TENANT}"

    def last_reply() -> str:
        return card_text(adaptive_cards(fake_connector.activities(ADA_DM)[-1])[0])

    await post(client, message(personal(fake_connector), "cronofy admins add nobody"))
    assert "not a user" in last_reply() and "@user" in last_reply()
    assert "<#" not in last_reply()
    await post(client, message(personal(fake_connector), "cronofy admins add @nobody"))
    assert "not a user" in last_reply()
    org = await store.get_org(org_id)
    assert org is not None and org.admins == ["aad-ada"]

    # a mention with the account's object id in the entity
    tag = "<at>Grace Hopper</at>"
    mentioned = message(personal(fake_connector), f"cronofy admins add {tag}")
    mentioned["entities"] = [
        {
            "type": "mention",
            "text": tag,
            "mentioned": {"id": "29:grace", "name": "Grace Hopper", "aadObjectId": "aad-grace"},
        }
    ]
    await post(client, mentioned)
    assert "Grace Hopper is now an admin" in last_reply()
    # a mention without it: the roster says who it is
    fake_connector.add_member("29:lin", name="Lin", aad_object_id="aad-lin")
    tag = "<at>Lin</at>"
    roster = message(personal(fake_connector), f"cronofy admins add {tag}")
    roster["entities"] = [{"type": "mention", "text": tag, "mentioned": {"id": "29:lin"}}]
    await post(client, roster)
    org = await store.get_org(org_id)
    assert org is not None and org.admins == ["aad-ada", "aad-grace", "aad-lin"]
    # the usage Teams shows never offers Slack's channel syntax
    await post(client, message(personal(fake_connector), "cronofy alerts everywhere"))
    assert "#channel" not in last_reply() and "<#" not in last_reply()
