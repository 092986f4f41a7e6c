"""FakeCronofy driven by the real pycronofy client (blocking, so run in a thread)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pycronofy
import pytest
import requests
from aiohttp import web
from pycronofy.exceptions import PyCronofyRequestError

from tests.fakes.cronofy import FakeCronofy, push, sign

REDIRECT = "https://bot.example.com/cronofy/oauth/callback"


def cronofy_client(fake: FakeCronofy, **kwargs: Any) -> pycronofy.Client:
    kwargs.setdefault("client_id", fake.client_id)
    kwargs.setdefault("client_secret", fake.client_secret)
    client = pycronofy.Client(**kwargs)
    client.request_handler.base_url = fake.url
    client.app_base_url = fake.url
    return client


async def test_code_exchange_then_userinfo(fake_cronofy: FakeCronofy) -> None:
    account = fake_cronofy.add_code(
        "CODE", sub="acc_1", email="rita@example.com", name="Rita", zone="Europe/Berlin"
    )
    client = cronofy_client(fake_cronofy)

    tokens = await asyncio.to_thread(client.get_authorization_from_code, "CODE", REDIRECT)
    info = await asyncio.to_thread(client.userinfo)

    assert set(tokens) == {"access_token", "refresh_token", "token_expiration"}
    assert (info["sub"], info["email"], info["name"], info["zoneinfo"]) == (
        "acc_1",
        "rita@example.com",
        "Rita",
        "Europe/Berlin",
    )
    assert info["cronofy.data"]["profiles"][0]["profile_connected"] is True
    exchange = fake_cronofy.last("token")
    assert exchange.json["grant_type"] == "authorization_code"
    assert exchange.json["redirect_uri"] == REDIRECT
    assert exchange.response["sub"] == account.sub == "acc_1"
    assert exchange.response["linking_profile"]["profile_name"] == "rita@example.com"
    assert fake_cronofy.last("userinfo").bearer == tokens["access_token"]
    assert [c["calendar_id"] for c in await asyncio.to_thread(client.list_calendars)] == [
        account.calendar_id
    ]


async def test_bad_client_and_bad_code_are_told_apart(fake_cronofy: FakeCronofy) -> None:
    fake_cronofy.add_code("CODE")
    with pytest.raises(PyCronofyRequestError) as bad_client:
        await asyncio.to_thread(
            cronofy_client(fake_cronofy, client_secret="wrong").get_authorization_from_code, "CODE"
        )
    assert bad_client.value.response.status_code == 401
    assert bad_client.value.response.json()["error"] == "invalid_client"

    good = cronofy_client(fake_cronofy)
    with pytest.raises(PyCronofyRequestError) as bad_code:
        await asyncio.to_thread(good.get_authorization_from_code, "NOT-A-CODE")
    assert bad_code.value.response.status_code == 400
    assert bad_code.value.response.json()["error"] == "invalid_grant"

    await asyncio.to_thread(good.get_authorization_from_code, "CODE")
    with pytest.raises(PyCronofyRequestError) as reused:
        await asyncio.to_thread(cronofy_client(fake_cronofy).get_authorization_from_code, "CODE")
    assert reused.value.response.status_code == 400


async def test_refresh_expiry_and_revocation(fake_cronofy: FakeCronofy) -> None:
    fake_cronofy.add_code("CODE")
    client = cronofy_client(fake_cronofy)
    first = await asyncio.to_thread(client.get_authorization_from_code, "CODE")

    fake_cronofy.expire_access_token(first["access_token"])
    with pytest.raises(PyCronofyRequestError) as expired:
        await asyncio.to_thread(client.userinfo)
    assert expired.value.response.status_code == 401

    refreshed = await asyncio.to_thread(client.refresh_authorization)
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] == first["refresh_token"]
    assert (await asyncio.to_thread(client.account))["account_id"]

    fake_cronofy.revoke_refresh_token(first["refresh_token"])
    with pytest.raises(PyCronofyRequestError) as revoked:
        await asyncio.to_thread(client.refresh_authorization)
    assert revoked.value.response.status_code == 400
    assert revoked.value.response.json()["error"] == "invalid_grant"


async def test_revoke_authorization(fake_cronofy: FakeCronofy) -> None:
    fake_cronofy.add_code("CODE")
    client = cronofy_client(fake_cronofy)
    tokens = await asyncio.to_thread(client.get_authorization_from_code, "CODE")

    await asyncio.to_thread(client.revoke_authorization)

    assert fake_cronofy.last("revoke").json["token"] == tokens["access_token"]
    again = cronofy_client(fake_cronofy, access_token=tokens["access_token"])
    with pytest.raises(PyCronofyRequestError) as revoked:
        await asyncio.to_thread(again.userinfo)
    assert revoked.value.response.status_code == 401


async def test_real_time_scheduling_link(fake_cronofy: FakeCronofy) -> None:
    client = cronofy_client(fake_cronofy)
    availability = {
        "participants": [{"members": [{"sub": "acc_1"}], "required": "all"}],
        "required_duration": {"minutes": 30},
        "available_periods": [{"start": "2026-04-28T09:00:00Z", "end": "2026-04-28T18:00:00Z"}],
    }
    answer = await asyncio.to_thread(
        client.real_time_scheduling,
        availability,
        {"redirect_uri": REDIRECT},
        {"event_id": "e1", "summary": "Interview", "tzid": "Etc/UTC"},
        [{"sub": "acc_1", "calendar_id": "cal_1"}],
        callback_urls={"completed_url": "https://bot.example.com/done"},
    )

    link = answer["real_time_scheduling"]
    assert link["status"] == "enabled" and link["url"].startswith(fake_cronofy.url + "/rts/")
    assert fake_cronofy.last("real_time_scheduling").bearer == fake_cronofy.client_secret
    [body] = fake_cronofy.rts_requests()
    assert body["callback_urls"] == {"completed_url": "https://bot.example.com/done"}
    page = await asyncio.to_thread(requests.get, link["url"], timeout=5)
    assert page.status_code == 200 and fake_cronofy.last("rts_page")


async def test_authorize_link_opens_and_scripted_422(fake_cronofy: FakeCronofy) -> None:
    client = cronofy_client(fake_cronofy)
    link = client.user_auth_link(REDIRECT, state="xyz")
    page = await asyncio.to_thread(requests.get, link, timeout=5)
    assert page.status_code == 200
    assert fake_cronofy.last("authorize").query["state"] == "xyz"

    access, _refresh = fake_cronofy.issue_tokens(fake_cronofy.add_code("unused"))
    client = cronofy_client(fake_cronofy, access_token=access)
    errors = {"event_id": [{"key": "errors.required", "description": "required"}]}
    fake_cronofy.fail_next("calendars", status=422, errors=errors)
    with pytest.raises(PyCronofyRequestError) as invalid:
        await asyncio.to_thread(client.list_calendars)
    assert invalid.value.response.status_code == 422
    assert invalid.value.response.json() == {"errors": errors}
    assert len(await asyncio.to_thread(client.list_calendars)) == 1


async def test_notification_channels(fake_cronofy: FakeCronofy) -> None:
    access, _ = fake_cronofy.issue_tokens(fake_cronofy.add_code("unused"))
    client = cronofy_client(fake_cronofy, access_token=access)

    channel = await asyncio.to_thread(
        client.create_notification_channel, "https://bot.example.com/cronofy/push/k"
    )
    listed = await asyncio.to_thread(client.list_notification_channels)
    assert [c["channel_id"] for c in listed] == [channel["channel_id"]]
    await asyncio.to_thread(client.close_notification_channel, channel["channel_id"])
    assert await asyncio.to_thread(client.list_notification_channels) == []


def test_sign_matches_the_published_vectors() -> None:
    body = b'{"example":"well-known"}'
    assert sign(body, "pDY0Oi7TJSP2hfNmZNkm5") == "6r2/HjBkqymGegX0wOfifieeUXbbHwtV/LohHS+jv6c="
    two = sign(body, "pDY0Oi7TJSP2hfNmZNkm5", "CRN_NggYusqPGLxwjw5FHOJYOqSrTPNXy8WQf14OID")
    assert two.split(",")[1] == "5DxentQi5YSXODEzTVv06sRwJ3pULIz1KrYv20qxEK0="
    assert pycronofy.Client(client_secret="pDY0Oi7TJSP2hfNmZNkm5").hmac_valid(two, body.decode())


async def test_push_delivers_a_signed_callback(aiohttp_server: Any) -> None:
    seen: list[tuple[str, bytes]] = []

    async def receive(request: web.Request) -> web.Response:
        seen.append((request.headers["Cronofy-HMAC-SHA256"], await request.read()))
        return web.Response(text="thanks")

    app = web.Application()
    app.router.add_post("/cronofy/push/k", receive)
    server = await aiohttp_server(app)

    payload = {"notification": {"type": "scheduling_request_time_chosen"}}
    status, text = await push(str(server.make_url("/cronofy/push/k")), payload, "secret")

    assert (status, text) == (200, "thanks")
    [(header, body)] = seen
    assert header == sign(body, "secret") and json.loads(body) == payload
