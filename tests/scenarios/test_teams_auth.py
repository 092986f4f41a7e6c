"""Inbound Bot Framework tokens: real RS256 JWTs checked against a fake OpenID/JWKS endpoint."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.teams.refs import NAMESPACE
from bot.store.base import Store
from tests.adapters.teams.support import (
    APP_ID,
    CHANNEL_ID,
    auth_settings,
    bot_added,
    channel,
    dev_settings,
    fake_endpoints,
    make_app,
    none_token,
)
from tests.fakes.botframework import FakeConnector


async def post(client: Any, activity: dict[str, Any], token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = await client.post("/api/messages", json=activity, headers=headers)
    return int(response.status)


async def test_valid_token_is_accepted_and_the_conversation_remembered(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(
        make_app(auth_settings(), store, endpoints=fake_endpoints(fake_connector))
    )
    status = await post(
        client, bot_added(channel(fake_connector)), fake_connector.make_token(APP_ID)
    )
    assert status == 201
    assert await store.kv_get(NAMESPACE, f"conv:{CHANNEL_ID}") is not None
    assert fake_connector.calls("jwks"), "the signing keys were fetched from the fake JWKS"


def bad_tokens(fake: FakeConnector) -> dict[str, str | None]:
    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "missing": None,
        "garbled": "not.a.jwt",
        "wrong audience": fake.make_token(APP_ID, audience="someone-else"),
        "wrong issuer": fake.make_token(APP_ID, issuer="https://evil.example.com"),
        "expired": fake.make_token(APP_ID, expires_in=-600),
        "alg none": none_token(
            {
                "iss": "https://api.botframework.com",
                "aud": APP_ID,
                "serviceurl": fake.service_url,
                "nbf": now - 10,
                "exp": now + 600,
            },
            fake.kid,
        ),
        "unknown key id": fake.make_token(APP_ID, kid="no-such-key"),
        "signed by another key": fake.make_token(APP_ID, key=other_key),
        "other service url": fake.make_token(APP_ID, service_url="https://evil.example.com/"),
    }


CASES = [
    "missing",
    "garbled",
    "wrong audience",
    "wrong issuer",
    "expired",
    "alg none",
    "unknown key id",
    "signed by another key",
    "other service url",
]


@pytest.mark.parametrize("case", CASES)
async def test_bad_tokens_get_401_and_change_nothing(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, case: str
) -> None:
    client = await aiohttp_client(
        make_app(auth_settings(), store, endpoints=fake_endpoints(fake_connector))
    )
    token = bad_tokens(fake_connector)[case]
    status = await post(client, bot_added(channel(fake_connector)), token)
    assert status == 401, case
    assert await store.kv_get(NAMESPACE, f"conv:{CHANNEL_ID}") is None
    assert not fake_connector.calls(lambda r: r.path.startswith("/v3/"))


async def test_dev_mode_accepts_requests_without_a_token(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    assert await post(client, bot_added(channel(fake_connector)), None) == 201
    assert await store.kv_get(NAMESPACE, f"conv:{CHANNEL_ID}") is not None


async def test_replies_carry_a_bot_token_from_the_token_endpoint(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    from tests.adapters.teams.support import APP_PASSWORD, message, personal

    fake_connector.add_app(APP_ID, APP_PASSWORD)
    client = await aiohttp_client(
        make_app(auth_settings(), store, endpoints=fake_endpoints(fake_connector))
    )
    status = await post(
        client, message(personal(fake_connector), "help"), fake_connector.make_token(APP_ID)
    )
    assert status == 201
    [token_request] = fake_connector.calls("token")
    assert token_request.form is not None and token_request.form["client_id"] == APP_ID
    [reply] = fake_connector.calls("reply_to_activity")
    assert (reply.bearer or "").startswith("fake-bf-")
