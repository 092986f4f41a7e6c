"""Recruiter connect: the authorize link, GET /cronofy/oauth/callback over HTTP, token upkeep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.cronofy import connect
from bot.cronofy import http as cronofy_http
from bot.cronofy.client import CronofyClient, CronofyKeys
from bot.runtime import SERVICES, Services
from bot.store.base import Store
from bot.store.records import Member
from tests.bot.commands.turns import run_command, submit_setup
from tests.bot.cronofy.support import (
    ORG_ID,
    PUBLIC_URL,
    Clock,
    actor,
    card_text,
    ctx,
    job_text,
    make_settings,
    pending_jobs,
)
from tests.fakes.cronofy import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeCronofy

CALLBACK = f"{PUBLIC_URL}/cronofy/oauth/callback"
RECRUITER = "U_REC"

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def http(
    aiohttp_client: AiohttpClient, store: Store, fake_cronofy: FakeCronofy, clock: Clock
) -> TestClient[Any, Any]:
    from bot.secrets import SecretBox, generate_key

    app = create_app(
        make_settings(fake_cronofy),
        store=store,
        secrets=SecretBox([generate_key()]),
        features=[cronofy_http.setup],
        platforms=[],
        run_worker=False,
    )
    app[SERVICES].clock = clock
    return await aiohttp_client(app)


def services_of(http: TestClient[Any, Any]) -> Services:
    return http.server.app[SERVICES]


async def set_up_org(services: Services) -> None:
    """Set up from the admin's DM with Slotbot (no channel to tell of its first admin)."""
    outcome = await submit_setup(
        ctx(services, actor("U_ADMIN"), "D_ADMIN", "dm"),
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        "us",
    )
    assert outcome.ok


async def connect_link(services: Services, user_id: str = RECRUITER) -> str:
    replies = await run_command(ctx(services, actor(user_id, name="Rita")), "schedule connect")
    (button,) = [b for b in replies[0].card.buttons if b.kind == "open_url"]
    return button.url


def state_of(url: str) -> str:
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"] == [CALLBACK] and query["client_id"] == [DEFAULT_CLIENT_ID]
    return query["state"][0]


async def callback(http: TestClient[Any, Any], **params: str) -> tuple[int, str]:
    response = await http.get("/cronofy/oauth/callback", params=params)
    assert response.content_type == "text/html"
    return response.status, await response.text()


async def connected_member(
    http: TestClient[Any, Any], fake: FakeCronofy, code: str = "code-ok"
) -> Member:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    fake.add_code(code, email="rita@example.com", name="Rita", redirect_uri=CALLBACK)
    status, _ = await callback(http, code=code, state=state)
    assert status == 200
    member = await services.store.get_member(ORG_ID, RECRUITER)
    assert member is not None and member.connected
    return member


async def test_connect_round_trip_stores_encrypted_tokens_and_sends_a_dm(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    services = services_of(http)
    await set_up_org(services)
    url = await connect_link(services)
    assert url.startswith(fake_cronofy.url + "/oauth/authorize?")
    account = fake_cronofy.add_code(
        "code-ok", email="rita@example.com", name="Rita", redirect_uri=CALLBACK
    )
    status, page = await callback(http, code="code-ok", state=state_of(url))
    assert status == 200 and "Calendar connected as rita@example.com" in page
    member = await services.store.get_member(ORG_ID, RECRUITER)
    assert member is not None and member.connected and member.cronofy_sub == account.sub
    assert (member.email, member.zone) == ("rita@example.com", "Europe/London")
    grant = fake_cronofy.last("token").response
    access = services.secrets.decrypt(member.access_token_enc or "")
    assert member.access_token_enc != access and access.startswith("at_")
    assert member.token_expires_at == services.clock() + 3600
    (job,) = await pending_jobs(services.store)
    assert job.kind == "notice" and job.payload["target"]["user_id"] == RECRUITER
    assert job.payload["target"]["kind"] == "dm"
    assert "calendar of Rita" in job_text(job) and "rita@example.com" in job_text(job)
    refresh = services.secrets.decrypt(member.refresh_token_enc or "")
    for secret in (access, refresh, DEFAULT_CLIENT_SECRET):
        assert secret not in caplog.text and secret not in page
    del grant


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"error": "access_denied"}, 403, "did not allow"),
        ({}, 400, "did not send a sign-in code"),
    ],
)
async def test_callback_without_a_grant_stores_nothing(
    http: TestClient[Any, Any],
    fake_cronofy: FakeCronofy,
    params: dict[str, str],
    status: int,
    says: str,
) -> None:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    got, page = await callback(http, state=state, **params)
    assert (got, says in page) == (status, True)
    assert await services.store.get_member(ORG_ID, RECRUITER) is None
    assert fake_cronofy.token_requests("authorization_code")[1:] == []  # only the setup key check
    assert await pending_jobs(services.store) == []


async def test_tampered_unknown_and_missing_state(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy
) -> None:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    fake_cronofy.add_code("code-x", redirect_uri=CALLBACK)
    status, page = await callback(http, code="code-x", state=state[:-2] + "zz")
    assert status == 400 and "does not recognise" in page
    status, page = await callback(http, code="code-x", state="<script>alert(1)</script>")
    assert status == 400 and "<script>" not in page and "does not recognise" in page
    status, _ = await callback(http, code="code-x")
    assert status == 400
    status, _ = await callback(http, code="code-x", state="s" * 5000)
    assert status == 400
    assert await services.store.get_member(ORG_ID, RECRUITER) is None
    # the genuine state still works afterwards
    status, _ = await callback(http, code="code-x", state=state)
    assert status == 200


async def test_expired_state(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy, clock: Clock
) -> None:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    clock.now += 601
    fake_cronofy.add_code("code-late", redirect_uri=CALLBACK)
    status, page = await callback(http, code="code-late", state=state)
    assert status == 410 and "expired" in page
    assert await services.store.get_member(ORG_ID, RECRUITER) is None
    assert len(fake_cronofy.token_requests("authorization_code")) == 1  # the key check only


async def test_reused_state_and_two_concurrent_callbacks(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy
) -> None:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    fake_cronofy.add_code("code-twice", redirect_uri=CALLBACK)
    results = await asyncio.gather(
        *(callback(http, code="code-twice", state=state) for _ in range(2))
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409]
    assert any("already used" in page for status, page in results if status == 409)
    again, page = await callback(http, code="code-twice", state=state)
    assert again == 409 and "already used" in page
    assert len(await pending_jobs(services.store)) == 1


async def test_code_already_used_at_cronofy(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy
) -> None:
    services = services_of(http)
    await set_up_org(services)
    first, second = state_of(await connect_link(services)), state_of(await connect_link(services))
    fake_cronofy.add_code("code-once", redirect_uri=CALLBACK)
    assert (await callback(http, code="code-once", state=first))[0] == 200
    await services.store.delete_member(ORG_ID, RECRUITER)
    status, page = await callback(http, code="code-once", state=second)
    assert status == 400 and "already" in page
    assert await services.store.get_member(ORG_ID, RECRUITER) is None


@pytest.mark.parametrize("fault", ["token-503", "token-slow", "userinfo-500", "userinfo-reset"])
async def test_cronofy_failing_during_callback_stores_nothing(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy, fault: str
) -> None:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    fake_cronofy.add_code("code-f", redirect_uri=CALLBACK)
    name, how = fault.split("-")
    if how == "slow":
        fake_cronofy.slow(name, 3.0, times=1)
    elif how == "reset":
        fake_cronofy.reset_connection(name)
    else:
        fake_cronofy.fail_next(name, status=int(how))
    status, page = await callback(http, code="code-f", state=state)
    assert status == 503 and "could not be reached" in page
    assert await services.store.get_member(ORG_ID, RECRUITER) is None
    assert await pending_jobs(services.store) == []


async def test_callback_for_an_org_without_keys(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy
) -> None:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    org = await services.store.get_org(ORG_ID)
    assert org is not None
    org.cronofy = None
    await services.store.put_org(org)
    status, _ = await callback(http, code="whatever", state=state)
    assert status == 409
    assert await services.store.get_member(ORG_ID, RECRUITER) is None


async def test_refresh_ahead_of_expiry_and_once_on_401(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy, clock: Clock
) -> None:
    services = services_of(http)
    member = await connected_member(http, fake_cronofy)
    keys = CronofyKeys(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us")
    client = CronofyClient(services.settings, timeout=0.5)
    seen: list[str] = []

    async def whoami(keys: CronofyKeys, member: Member, token: str) -> str:
        seen.append(token)
        return (await client.userinfo(keys, token)).email or ""

    assert await connect.call_as_member(services, ORG_ID, RECRUITER, whoami) == "rita@example.com"
    assert fake_cronofy.token_requests("refresh_token") == []
    # near expiry: refreshed before the call
    clock.now += 3600 - 60
    assert await connect.call_as_member(services, ORG_ID, RECRUITER, whoami) == "rita@example.com"
    assert len(fake_cronofy.token_requests("refresh_token")) == 1
    # a 401 on a token that still looks fresh: refreshed once, then retried
    fake_cronofy.expire_access_token(seen[-1])
    assert await connect.call_as_member(services, ORG_ID, RECRUITER, whoami) == "rita@example.com"
    assert len(fake_cronofy.token_requests("refresh_token")) == 2
    assert len(set(seen)) == 3
    stored = await services.store.get_member(ORG_ID, RECRUITER)
    assert (
        stored is not None and services.secrets.decrypt(stored.access_token_enc or "") == seen[-1]
    )
    del member, keys


async def test_revoked_refresh_token_disconnects_and_sends_a_reconnect_link(
    http: TestClient[Any, Any],
    fake_cronofy: FakeCronofy,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    services = services_of(http)
    member = await connected_member(http, fake_cronofy)
    refresh = services.secrets.decrypt(member.refresh_token_enc or "")
    await pending_jobs(services.store)  # the "connected" notice
    fake_cronofy.revoke_refresh_token(refresh)
    clock.now += 4000
    replies = await run_command(
        ctx(services, actor(RECRUITER)), "schedule link for jane@example.com Jane"
    )
    text = card_text(replies[0].card)
    assert "Connect your calendar" in text and "/oauth/authorize" in text
    stored = await services.store.get_member(ORG_ID, RECRUITER)
    assert stored is not None and not stored.connected
    assert stored.access_token_enc is None and stored.refresh_token_enc is None
    (notice,) = await pending_jobs(services.store, now=clock.now + 10_000_000)
    assert "reconnect" in job_text(notice).lower() and "/oauth/authorize" in job_text(notice)
    assert await services.store.find_candidate_by_email(ORG_ID, "jane@example.com") is None
    assert refresh not in caplog.text and DEFAULT_CLIENT_SECRET not in caplog.text


async def test_handle_disconnected_by_sub_for_alerts(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy
) -> None:
    services = services_of(http)
    member = await connected_member(http, fake_cronofy)
    await pending_jobs(services.store)
    assert member.cronofy_sub is not None
    found = await connect.find_member_by_sub(services, ORG_ID, member.cronofy_sub)
    assert found is not None and found.user_id == RECRUITER
    await connect.handle_disconnected(services, ORG_ID, member.cronofy_sub, "profile_disconnected")
    stored = await services.store.get_member(ORG_ID, RECRUITER)
    assert stored is not None and not stored.connected and stored.access_token_enc is None
    (notice,) = await pending_jobs(services.store, now=services.clock() + 10_000_000)
    assert notice.payload["target"]["user_id"] == RECRUITER
    # already disconnected: no second message
    await connect.handle_disconnected(services, ORG_ID, RECRUITER, "profile_disconnected")
    assert await pending_jobs(services.store, now=services.clock() + 20_000_000) == []


async def test_disconnect_revokes_and_forgets(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy
) -> None:
    services = services_of(http)
    member = await connected_member(http, fake_cronofy)
    refresh = services.secrets.decrypt(member.refresh_token_enc or "")
    who = ctx(services, actor(RECRUITER))
    fake_cronofy.fail_next("revoke", status=503)
    failed = await run_command(who, "schedule disconnect")
    assert "not answering" in card_text(failed[0].card)
    still = await services.store.get_member(ORG_ID, RECRUITER)
    assert still is not None and still.connected, "nothing changes when Cronofy cannot revoke"
    done = await run_command(who, "schedule disconnect")
    assert "disconnected" in card_text(done[0].card)
    assert fake_cronofy.last("revoke").args["token"] == refresh
    stored = await services.store.get_member(ORG_ID, RECRUITER)
    assert stored is not None and not stored.connected and stored.refresh_token_enc is None
    again = await run_command(who, "schedule disconnect")
    assert "not connected" in card_text(again[0].card)


async def test_concurrent_calls_refresh_once_even_when_tokens_rotate(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy, clock: Clock
) -> None:
    services = services_of(http)
    await connected_member(http, fake_cronofy)
    fake_cronofy.rotate_refresh_tokens = True
    client = CronofyClient(services.settings, timeout=0.5)

    async def whoami(keys: CronofyKeys, member: Member, token: str) -> str:
        return (await client.userinfo(keys, token)).sub

    clock.now += 3600
    subs = await asyncio.gather(
        *(connect.call_as_member(services, ORG_ID, RECRUITER, whoami) for _ in range(3))
    )
    assert len(set(subs)) == 1
    assert len(fake_cronofy.token_requests("refresh_token")) == 1
    stored = await services.store.get_member(ORG_ID, RECRUITER)
    assert stored is not None and stored.connected


class _StoreDownOnMemberWrite:
    """The real store, except that writing a member fails as if the store went away."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def put_member(self, member: Member) -> None:
        from bot.errors import StoreUnavailable

        raise StoreUnavailable("store down")


async def test_store_down_during_callback_is_a_plain_503_page(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy
) -> None:
    services = services_of(http)
    await set_up_org(services)
    state = state_of(await connect_link(services))
    fake_cronofy.add_code("code-s", redirect_uri=CALLBACK)
    real = services.store
    services.store = _StoreDownOnMemberWrite(real)  # type: ignore[assignment]
    try:
        status, page = await callback(http, code="code-s", state=state)
    finally:
        services.store = real
    assert status == 503 and "try again" in page.lower()
    assert await real.get_member(ORG_ID, RECRUITER) is None
