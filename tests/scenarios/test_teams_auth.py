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
    TENANT,
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


# Identity comes from the body (channelData.tenant.id, from), which the token does not sign: the
# token only says which Bot Framework channel sent the activity, for which service URL.

EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
VICTIM = "victim-tenant"


def as_victim_admin(fake: FakeConnector) -> dict[str, Any]:
    """`cronofy setup` typed by someone claiming to be a member of another tenant: the first
    to complete it becomes that org's Slotbot admin."""
    from tests.adapters.teams.support import message, personal

    return message(personal(fake, tenant=VICTIM), "cronofy setup")


def foreign(fake: FakeConnector, case: str) -> tuple[dict[str, Any], str]:
    """(activity, token) for each way an activity that Teams did not send can look."""
    activity = as_victim_admin(fake)
    token = fake.make_token(APP_ID)
    if case in ("web chat", "direct line"):
        channel_id = "webchat" if case == "web chat" else "directline"
        fake.endorsements = [channel_id]  # a key the Bot Framework endorses for that channel
        activity["channelId"] = channel_id
    elif case == "no channel id":
        del activity["channelId"]
    elif case == "emulator channel":
        fake.endorsements = ["msteams", "emulator"]
        activity["channelId"] = "emulator"
    elif case == "key endorsed for no channel":
        fake.endorsements = []
    elif case == "key endorsed for web chat only":
        fake.endorsements = ["webchat"]
    elif case == "emulator token":
        token = fake.make_token(
            APP_ID, issuer=EMULATOR_ISSUER, extra_claims={"ver": "1.0", "appid": APP_ID}
        )
    elif case == "tenants disagree":
        activity["conversation"]["tenantId"] = TENANT
    elif case == "addressed to another bot":
        activity["recipient"] = {"id": "28:another-bot", "name": "Other"}
    return activity, token


REFUSED_AS_NOT_FROM_TEAMS = {
    "web chat": 400,
    "direct line": 400,
    "no channel id": 400,
    "emulator channel": 400,
    "tenants disagree": 400,
    "addressed to another bot": 400,
    "key endorsed for no channel": 401,
    "key endorsed for web chat only": 401,
    "emulator token": 401,
}


@pytest.mark.parametrize("case", list(REFUSED_AS_NOT_FROM_TEAMS))
async def test_an_activity_teams_did_not_send_is_refused_whatever_its_token(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, case: str
) -> None:
    client = await aiohttp_client(
        make_app(auth_settings(), store, endpoints=fake_endpoints(fake_connector))
    )
    activity, token = foreign(fake_connector, case)
    assert await post(client, activity, token) == REFUSED_AS_NOT_FROM_TEAMS[case], case
    assert await store.kv_list(NAMESPACE, "") == {}, "nothing remembered of the sender"
    assert await store.get_org(f"teams:{VICTIM}") is None
    assert not fake_connector.calls(lambda r: r.path.startswith("/v3/"))


async def test_the_same_activity_from_teams_is_accepted(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    """The refusals above are for what they change, not for the activity itself."""
    client = await aiohttp_client(
        make_app(auth_settings(), store, endpoints=fake_endpoints(fake_connector))
    )
    activity, token = foreign(fake_connector, "none of them")
    assert await post(client, activity, token) == 201
    assert fake_connector.calls(lambda r: r.path.startswith("/v3/"))


async def test_dev_mode_takes_the_emulator_channel_but_no_other(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    for channel_id, status in (("emulator", 201), ("msteams", 201), ("webchat", 400)):
        activity = as_victim_admin(fake_connector)
        activity["channelId"] = channel_id
        assert await post(client, activity, None) == status, channel_id


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_key_endpoint_that_never_answers_blocks_nothing_else(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    """The key endpoint accepts and never answers: every check gets a quick 503, the keys are
    asked for once until the failure is forgotten, and work on the event loop's default
    executor (DNS lookups, Cronofy calls) goes on meanwhile."""
    import asyncio
    import socket

    from adapters.teams import TeamsPlatform
    from adapters.teams.keys import SigningKeys
    from tests.adapters.teams.support import message, personal

    fake_connector.slow("openid_metadata", 60)
    clock = FakeClock()
    keys = SigningKeys(
        fake_connector.openid_metadata_url, timeout=1.0, request_timeout=(0.5, 0.5), clock=clock
    )
    settings = auth_settings()
    platform = TeamsPlatform.from_settings(
        settings, endpoints=fake_endpoints(fake_connector), signing_keys=keys
    )
    client = await aiohttp_client(make_app(settings, store, platforms=[platform]))
    token = fake_connector.make_token(APP_ID)
    loop = asyncio.get_running_loop()

    async def timed(coro: Any) -> tuple[Any, float]:
        started = loop.time()
        result = await coro
        return result, loop.time() - started

    async def lookup_meanwhile() -> tuple[Any, float]:
        await asyncio.sleep(0.3)  # the checks are waiting for the keys by now
        return await timed(loop.run_in_executor(None, socket.getaddrinfo, "localhost", 80))

    checks = [
        timed(post(client, message(personal(fake_connector), "help"), token)) for _ in range(12)
    ]
    answered = await asyncio.gather(*checks, lookup_meanwhile())
    statuses = [status for status, _ in answered[:-1]]
    assert statuses == [503] * 12
    assert max(took for _, took in answered[:-1]) < 3.0, "each check gave up in its time"
    assert answered[-1][1] < 1.0, "a DNS lookup on the default executor was not held up"
    assert len(fake_connector.calls("openid_metadata")) == 1, "one fetch for all of them"

    clock.now += 10  # the failure is remembered: answered at once, nothing asked
    (status, took) = await timed(post(client, message(personal(fake_connector), "help"), token))
    assert (status, len(fake_connector.calls("openid_metadata"))) == (503, 1)
    assert took < 0.5

    fake_connector.reset()  # the key endpoint answers again
    clock.now += 30
    assert await post(client, message(personal(fake_connector), "help"), token) == 201
    assert len(fake_connector.calls("openid_metadata")) == 1
