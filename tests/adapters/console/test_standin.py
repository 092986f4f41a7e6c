"""The console's Cronofy stand-in answers what Slotbot's own Cronofy client asks, as Cronofy does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from adapters.console.runtime import bound_socket
from adapters.console.standin import CronofyStandIn, push, sign
from bot.alerts.hmac import verify_push_hmac
from bot.config import Settings
from bot.cronofy.client import CronofyClient, CronofyKeys, CronofyRequestFailed, CronofyUnauthorized
from tests.support.secret_watch import register_secret

REDIRECT = "http://127.0.0.1:9/cronofy/oauth/callback"


@pytest.fixture
async def standin() -> AsyncIterator[CronofyStandIn]:
    server = CronofyStandIn()
    register_secret("console stand-in client secret", server.client_secret)
    await server.start(bound_socket())
    try:
        yield server
    finally:
        await server.stop()


def client_for(standin: CronofyStandIn) -> CronofyClient:
    return CronofyClient(
        Settings.from_env({"CRONOFY_API_URL": standin.url, "CRONOFY_APP_URL": standin.url}),
        timeout=5,
    )


def keys(standin: CronofyStandIn, **changes: str) -> CronofyKeys:
    values = {"client_id": standin.client_id, "client_secret": standin.client_secret, **changes}
    return CronofyKeys(values["client_id"], values["client_secret"], "us")


async def approve(standin: CronofyStandIn, authorize_url: str, *, decision: str = "approve") -> str:
    """Open the sign-in page, submit it; the URL the stand-in sends the browser back to."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    async with aiohttp.ClientSession() as browser:
        async with browser.get(authorize_url) as page:
            assert page.status == 200
            assert "Approve" in await page.text()
        form = {k: query[k] for k in ("client_id", "redirect_uri", "state")}
        form |= {"email": "Rita@Example.com", "name": "Rita Recruiter", "decision": decision}
        async with browser.post(
            f"{standin.url}/oauth/authorize", data=form, allow_redirects=False
        ) as answer:
            assert answer.status == 302
            return answer.headers["Location"]


async def connected(standin: CronofyStandIn) -> tuple[CronofyClient, str, str]:
    """A code approved and exchanged: (client, access token, refresh token)."""
    client = client_for(standin)
    back = await approve(standin, client.authorize_url(keys(standin), REDIRECT, "st4te"))
    code = parse_qs(urlsplit(back).query)["code"][0]
    grant = await client.exchange_code(keys(standin), code, REDIRECT)
    return client, grant.access_token, grant.refresh_token


async def test_setup_tells_unknown_keys_from_good_ones(standin: CronofyStandIn) -> None:
    client = client_for(standin)
    good = await client.check_keys(keys(standin), REDIRECT)
    wrong_secret = await client.check_keys(
        keys(standin, client_secret="CRN_wrong_secret"), REDIRECT
    )
    unknown = await client.check_keys(keys(standin, client_id="nobody"), REDIRECT)
    assert good.result == "recognised"
    assert wrong_secret.result == unknown.result == "not_recognised"


async def test_token_errors_have_cronofys_statuses_and_bodies(standin: CronofyStandIn) -> None:
    body = {"client_id": standin.client_id, "grant_type": "authorization_code", "code": "x"}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{standin.url}/oauth/token", json={**body, "client_secret": "CRN_not_it"}
        ) as bad_client:
            assert (bad_client.status, (await bad_client.json())["error"]) == (
                401,
                "invalid_client",
            )
        async with http.post(
            f"{standin.url}/oauth/token", json={**body, "client_secret": standin.client_secret}
        ) as bad_code:
            assert (bad_code.status, (await bad_code.json())["error"]) == (400, "invalid_grant")


async def test_connect_exchange_userinfo_and_refresh(standin: CronofyStandIn) -> None:
    client, access, refresh = await connected(standin)
    info = await client.userinfo(keys(standin), access)
    assert info.email == "rita@example.com"
    assert info.name == "Rita Recruiter"
    assert info.sub.startswith("acc_")
    assert info.calendar_id is not None and info.calendar_id.endswith("_primary")
    renewed = await client.refresh(keys(standin), refresh)
    assert renewed.access_token != access
    assert (await client.userinfo(keys(standin), renewed.access_token)).sub == info.sub


async def test_a_code_works_once_and_only_with_its_redirect(standin: CronofyStandIn) -> None:
    client = client_for(standin)
    back = await approve(standin, client.authorize_url(keys(standin), REDIRECT, "st4te"))
    query = parse_qs(urlsplit(back).query)
    assert back.startswith(REDIRECT) and query["state"] == ["st4te"]
    code = query["code"][0]
    with pytest.raises(CronofyRequestFailed) as elsewhere:
        await client.exchange_code(keys(standin), code, "http://127.0.0.1:9/other")
    assert elsewhere.value.error == "invalid_grant"
    await client.exchange_code(keys(standin), code, REDIRECT)
    with pytest.raises(CronofyRequestFailed) as again:
        await client.exchange_code(keys(standin), code, REDIRECT)
    assert again.value.error == "invalid_grant"


async def test_denying_sends_access_denied_back(standin: CronofyStandIn) -> None:
    client = client_for(standin)
    url = client.authorize_url(keys(standin), REDIRECT, "st4te")
    back = await approve(standin, url, decision="deny")
    assert parse_qs(urlsplit(back).query) == {"state": ["st4te"], "error": ["access_denied"]}


async def test_an_unknown_application_gets_no_sign_in_page(standin: CronofyStandIn) -> None:
    url = client_for(standin).authorize_url(keys(standin, client_id="nobody"), REDIRECT, "s")
    async with aiohttp.ClientSession() as browser, browser.get(url) as page:
        assert page.status == 400
        assert "Approve" not in await page.text()


async def test_revoke_ends_the_grant(standin: CronofyStandIn) -> None:
    client, access, refresh = await connected(standin)
    await client.revoke(keys(standin), refresh)
    with pytest.raises(CronofyUnauthorized):
        await client.userinfo(keys(standin), access)
    with pytest.raises(CronofyRequestFailed):
        await client.refresh(keys(standin), refresh)


async def test_real_time_scheduling_link(standin: CronofyStandIn) -> None:
    client, access, _refresh = await connected(standin)
    info = await client.userinfo(keys(standin), access)
    url = await client.real_time_scheduling(
        keys(standin),
        sub=info.sub,
        calendar_id=info.calendar_id,
        event_id="sbcorrelation",
        summary="Conversation with Jane",
        zone="Europe/London",
        minutes=30,
        periods=[{"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T17:00:00Z"}],
        callback_url="http://127.0.0.1:9/cronofy/push/k",
        redirect_uri="http://127.0.0.1:9/cronofy/booked",
    )
    assert url.startswith(f"{standin.url}/rts/")
    (link,) = standin.links.values()
    assert link["request"]["event"]["event_id"] == "sbcorrelation"
    async with aiohttp.ClientSession() as browser, browser.get(url) as page:
        assert page.status == 200
    with pytest.raises(CronofyUnauthorized):
        await client.real_time_scheduling(
            keys(standin, client_secret="CRN_not_the_secret"),
            sub=info.sub,
            calendar_id=None,
            event_id="e",
            summary="s",
            zone="UTC",
            minutes=30,
            periods=[],
            callback_url="http://127.0.0.1:9/p",
            redirect_uri="http://127.0.0.1:9/b",
        )


async def test_callbacks_are_signed_as_slotbot_checks_them() -> None:
    got: dict[str, Any] = {}

    async def receive(request: web.Request) -> web.Response:
        got["body"] = await request.read()
        got["header"] = request.headers.get("Cronofy-HMAC-SHA256")
        got["type"] = request.content_type
        return web.json_response({"status": "accepted"})

    app = web.Application()
    app.router.add_post("/push", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = bound_socket()
    await web.SockSite(runner, sock).start()
    try:
        port = sock.getsockname()[1]
        status, answer = await push(f"http://127.0.0.1:{port}/push", "CRN_sign_me_please", {"a": 1})
    finally:
        await runner.cleanup()
    assert (status, answer) == (200, {"status": "accepted"})
    assert got["type"] == "application/json"
    assert verify_push_hmac("CRN_sign_me_please", got["body"], got["header"])
    assert not verify_push_hmac("CRN_another_secret", got["body"], got["header"])
    assert sign("CRN_sign_me_please", got["body"]) == got["header"]
