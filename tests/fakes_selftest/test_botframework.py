"""FakeConnector driven by the real botbuilder / botframework-connector clients and PyJWT."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace

import aiohttp
import jwt
import pytest
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    ErrorResponseException,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    ChannelValidation,
    MicrosoftAppCredentials,
    SimpleCredentialProvider,
)
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.botframework import FakeConnector

APP_ID = "11111111-2222-3333-4444-555555555555"


def connector(fake: FakeConnector) -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials.empty(), base_url=fake.service_url)


async def test_send_reply_update_delete_with_the_connector_client(
    fake_connector: FakeConnector,
) -> None:
    client = connector(fake_connector)
    conversation = "19:abc@thread.tacv2;messageid=42"

    sent = await client.conversations.send_to_conversation(
        conversation, Activity(type="message", text="hello")
    )
    replied = await client.conversations.reply_to_activity(
        conversation, sent.id, Activity(type="message", text="reply")
    )
    await client.conversations.update_activity(
        conversation, sent.id, Activity(type="message", id=sent.id, text="edited")
    )
    await client.conversations.delete_activity(conversation, replied.id)

    activities = fake_connector.activities(conversation)
    assert [a["text"] for a in activities] == ["hello", "reply"]
    assert activities[0]["_id"] == sent.id and activities[1]["_reply_to_id"] == sent.id
    assert fake_connector.updates()[0]["text"] == "edited"
    assert fake_connector.deletes() == [(conversation, replied.id)]
    assert "Authorization" not in fake_connector.last("send_to_conversation").headers


async def test_throttled_post_surfaces_with_retry_after(fake_connector: FakeConnector) -> None:
    fake_connector.fail_next("send_to_conversation", status=429, retry_after=2)
    with pytest.raises(ErrorResponseException) as caught:
        await connector(fake_connector).conversations.send_to_conversation(
            "a:conv1", Activity(type="message", text="x")
        )
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "2"
    assert fake_connector.activities() == []  # msrest does not retry POSTs


async def test_a_deleted_message_and_a_conversation_without_the_bot_answer_as_teams_does(
    fake_connector: FakeConnector,
) -> None:
    client = connector(fake_connector)
    channel = "19:abc@thread.tacv2"
    sent = await client.conversations.send_to_conversation(
        channel, Activity(type="message", text="hello")
    )
    fake_connector.delete_message(channel, sent.id)
    with pytest.raises(ErrorResponseException) as gone:
        await client.conversations.update_activity(
            channel, sent.id, Activity(type="message", id=sent.id, text="edited")
        )
    assert gone.value.response.status_code == 404
    assert gone.value.error.error.code == "NotFound"
    with pytest.raises(ErrorResponseException) as thread_gone:
        await client.conversations.send_to_conversation(
            f"{channel};messageid={sent.id}", Activity(type="message", text="reply")
        )
    assert thread_gone.value.response.status_code == 404
    # the channel itself still takes new posts
    await client.conversations.send_to_conversation(channel, Activity(type="message", text="new"))

    fake_connector.remove_bot(channel)
    with pytest.raises(ErrorResponseException) as removed:
        await client.conversations.send_to_conversation(
            channel, Activity(type="message", text="again")
        )
    assert removed.value.response.status_code == 403
    assert removed.value.error.error.code == "BotNotInConversationRoster"
    assert [a["text"] for a in fake_connector.activities(channel)] == ["hello", "new"]


async def test_roster_and_create_conversation(fake_connector: FakeConnector) -> None:
    fake_connector.add_member(
        "29:ada", name="Ada", email="ada@example.com", aad_object_id="aad-ada"
    )
    client = connector(fake_connector)

    member = await client.conversations.get_conversation_member("a:conv1", "29:ada")
    default = await client.conversations.get_conversation_member("a:conv1", "29:bob")
    assert (member.name, member.additional_properties["email"]) == ("Ada", "ada@example.com")
    assert default.id == "29:bob" and default.name
    assert fake_connector.last("get_conversation_member").match_info["member_id"] == "29:bob"

    created = await client.conversations.create_conversation(
        ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id="28:bot"),
            members=[ChannelAccount(id="29:ada")],
            tenant_id="t1",
            channel_data={"tenant": {"id": "t1"}},
        )
    )
    [params] = fake_connector.created_conversations()
    assert params["_id"] == created.id and params["members"] == [{"id": "29:ada"}]
    assert params["channelData"] == {"tenant": {"id": "t1"}}


async def test_token_endpoint_answers_client_credentials(fake_connector: FakeConnector) -> None:
    fake_connector.add_app(APP_ID, "pw")
    form = {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "scope": "https://api.botframework.com/.default",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(
            fake_connector.token_url(), data={**form, "client_secret": "pw"}
        ) as ok:
            token = await ok.json()
        async with session.post(
            fake_connector.token_url("tenant-1"), data={**form, "client_secret": "no"}
        ) as bad:
            assert bad.status == 401
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["access_token"]
    assert [r.status for r in fake_connector.calls("token")] == [200, 401]


async def test_continue_conversation_through_cloud_adapter(fake_connector: FakeConnector) -> None:
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(SimpleNamespace(APP_ID="", APP_PASSWORD=""))
    )
    reference = ConversationReference(
        channel_id="msteams",
        service_url=fake_connector.service_url,
        conversation=ConversationAccount(id="a:conv1"),
        bot=ChannelAccount(id="28:bot"),
        user=ChannelAccount(id="29:ada"),
    )

    async def logic(context: TurnContext) -> None:
        await context.send_activity("proactive hello")

    await adapter.continue_conversation(reference, logic, "")

    # continue_conversation runs the turn on a synthetic activity, so the send is a "reply".
    [activity] = fake_connector.activities("a:conv1")
    assert activity["text"] == "proactive hello"
    assert fake_connector.last("reply_to_activity").match_info["conversation_id"] == "a:conv1"


@pytest.fixture
def channel_metadata(fake_connector: FakeConnector) -> Iterator[str]:
    """Point botbuilder's channel token validation at the fake's OpenID metadata."""
    previous = ChannelValidation.open_id_metadata_endpoint
    ChannelValidation.open_id_metadata_endpoint = fake_connector.openid_metadata_url
    try:
        yield fake_connector.openid_metadata_url
    finally:
        ChannelValidation.open_id_metadata_endpoint = previous


async def test_tokens_verify_against_the_served_jwks(fake_connector: FakeConnector) -> None:
    token = fake_connector.make_token(APP_ID)
    keys = await asyncio.to_thread(jwt.PyJWKClient, fake_connector.jwks_url)
    signing_key = await asyncio.to_thread(keys.get_signing_key_from_jwt, token)

    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience=APP_ID)

    assert claims["iss"] == "https://api.botframework.com"
    assert claims["serviceurl"] == fake_connector.service_url
    assert fake_connector.calls("jwks")


async def test_botbuilder_channel_validation_accepts_and_rejects(
    fake_connector: FakeConnector, channel_metadata: str
) -> None:
    credentials = SimpleCredentialProvider(APP_ID, "")
    service_url = fake_connector.service_url

    async def validate(token: str, url: str = service_url) -> object:
        return await ChannelValidation.authenticate_channel_token_with_service_url(
            f"Bearer {token}", credentials, url, "msteams"
        )

    identity = await validate(fake_connector.make_token(APP_ID))
    assert identity.is_authenticated  # type: ignore[attr-defined]
    assert fake_connector.calls("openid_metadata") and fake_connector.calls("jwks")

    with pytest.raises(PermissionError):
        await validate(fake_connector.make_token("some-other-app"))
    with pytest.raises(PermissionError):
        await validate(fake_connector.make_token(APP_ID), url="https://elsewhere.example/")
    with pytest.raises(jwt.ExpiredSignatureError):
        await validate(fake_connector.make_token(APP_ID, expires_in=-600))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jwt.InvalidSignatureError):
        await validate(fake_connector.make_token(APP_ID, key=stranger))
