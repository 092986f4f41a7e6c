"""The Cronofy client against the fake Cronofy: real pycronofy and aiohttp requests over HTTP."""

from __future__ import annotations

import logging

import pytest

from bot.cronofy.client import (
    CronofyBusy,
    CronofyClient,
    CronofyKeys,
    CronofyRequestFailed,
    CronofyUnauthorized,
    api_base_url,
    app_base_url,
    normalise_data_center,
)
from bot.errors import CronofyUnreachable
from tests.bot.cronofy.support import make_settings
from tests.fakes.cronofy import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeCronofy

REDIRECT = "https://slotbot.example.com/cronofy/oauth/callback"


@pytest.fixture
def client(fake_cronofy: FakeCronofy) -> CronofyClient:
    return CronofyClient(make_settings(fake_cronofy), timeout=0.5)


@pytest.fixture
def keys() -> CronofyKeys:
    return CronofyKeys(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "uk")


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_data_centers_and_overrides() -> None:
    plain = make_settings(None)
    assert normalise_data_center(" UK ") == "uk"
    assert normalise_data_center("eu") is None
    assert normalise_data_center(None) is None
    assert api_base_url(plain, "us") == "https://api.cronofy.com"
    assert api_base_url(plain, "de") == "https://api-de.cronofy.com"
    assert app_base_url(plain, "sg") == "https://app-sg.cronofy.com"
    overridden = make_settings(
        None, CRONOFY_API_URL="http://127.0.0.1:9/", CRONOFY_APP_URL="http://127.0.0.1:8"
    )
    assert api_base_url(overridden, "de") == "http://127.0.0.1:9"
    assert app_base_url(overridden, "de") == "http://127.0.0.1:8"


def test_authorize_url_goes_to_the_app_host_with_state(keys: CronofyKeys) -> None:
    client = CronofyClient(make_settings(None))
    url = client.authorize_url(keys, REDIRECT, "st4te")
    assert url.startswith("https://app-uk.cronofy.com/oauth/authorize?")
    assert "state=st4te" in url and "response_type=code" in url
    assert "read_free_busy" in url and "create_event" in url
    assert DEFAULT_CLIENT_SECRET not in url


async def test_key_check_tells_apart_recognised_and_not(
    client: CronofyClient, keys: CronofyKeys, fake_cronofy: FakeCronofy
) -> None:
    assert (await client.check_keys(keys, REDIRECT)).result == "recognised"
    wrong = CronofyKeys(DEFAULT_CLIENT_ID, "not-the-secret", "uk")
    check = await client.check_keys(wrong, REDIRECT)
    assert check.result == "not_recognised"
    assert "not-the-secret" not in check.reason
    # the check really asked Cronofy's token endpoint with a made-up code
    sent = fake_cronofy.token_requests("authorization_code")
    assert len(sent) == 2 and sent[0].args["code"].startswith("slotbot-key-check-")


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_key_check_on_server_errors_is_unreachable(
    client: CronofyClient, keys: CronofyKeys, fake_cronofy: FakeCronofy, status: int
) -> None:
    fake_cronofy.fail_next("token", status=status)
    assert (await client.check_keys(keys, REDIRECT)).result == "unreachable"


async def test_key_check_when_cronofy_is_slow_or_gone(
    client: CronofyClient, keys: CronofyKeys, fake_cronofy: FakeCronofy
) -> None:
    fake_cronofy.slow("token", 3.0, times=1)
    check = await client.check_keys(keys, REDIRECT)
    assert check.result == "unreachable" and "did not answer" in check.reason
    fake_cronofy.reset_connection("token")
    assert (await client.check_keys(keys, REDIRECT)).result == "unreachable"
    nowhere = CronofyClient(make_settings(None, CRONOFY_API_URL="http://127.0.0.1:9"), timeout=0.5)
    assert (await nowhere.check_keys(keys, REDIRECT)).result == "unreachable"


async def test_code_exchange_keeps_sub_and_userinfo(
    client: CronofyClient, keys: CronofyKeys, fake_cronofy: FakeCronofy
) -> None:
    account = fake_cronofy.add_code(
        "code-1", email="jane@example.com", name="Jane", zone="Europe/Paris"
    )
    grant = await client.exchange_code(keys, "code-1", REDIRECT)
    assert grant.sub == account.sub and grant.expires_in == 3600 and grant.refresh_token
    info = await client.userinfo(keys, grant.access_token)
    assert (info.sub, info.email, info.name, info.zone) == (
        account.sub,
        "jane@example.com",
        "Jane",
        "Europe/Paris",
    )
    assert info.calendar_id == account.calendar_id
    with pytest.raises(CronofyRequestFailed) as reused:
        await client.exchange_code(keys, "code-1", REDIRECT)
    assert reused.value.status == 400 and reused.value.error == "invalid_grant"


async def test_refresh_keeps_the_returned_refresh_token(
    client: CronofyClient, keys: CronofyKeys, fake_cronofy: FakeCronofy
) -> None:
    fake_cronofy.rotate_refresh_tokens = True
    account = fake_cronofy.add_code("code-2")
    grant = await client.exchange_code(keys, "code-2", REDIRECT)
    again = await client.refresh(keys, grant.refresh_token)
    assert again.refresh_token != grant.refresh_token and again.access_token != grant.access_token
    assert (await client.userinfo(keys, again.access_token)).sub == account.sub
    fake_cronofy.revoke_refresh_token(again.refresh_token)
    with pytest.raises(CronofyRequestFailed) as refused:
        await client.refresh(keys, again.refresh_token)
    assert refused.value.error == "invalid_grant"


async def test_errors_from_pycronofy_carry_no_secret_or_token(
    client: CronofyClient,
    keys: CronofyKeys,
    fake_cronofy: FakeCronofy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_cronofy.add_code("code-3")
    grant = await client.exchange_code(keys, "code-3", REDIRECT)
    fake_cronofy.expire_access_token(grant.access_token)
    with pytest.raises(CronofyUnauthorized) as expired:
        await client.userinfo(keys, grant.access_token)
    fake_cronofy.fail_next(
        "revoke", status=422, errors={"token": [{"key": "errors.invalid", "description": "x"}]}
    )
    with pytest.raises(CronofyRequestFailed) as invalid:
        await client.revoke(keys, grant.refresh_token)
    assert invalid.value.status == 422 and "errors.invalid" in str(invalid.value)
    fake_cronofy.fail_next("revoke", status=502)
    with pytest.raises(CronofyBusy):
        await client.revoke(keys, grant.refresh_token)
    fake_cronofy.fail_next("revoke", status=429)
    with pytest.raises(CronofyBusy) as busy:
        await client.revoke(keys, grant.refresh_token)
    assert busy.value.status == 429
    for error in (expired.value, invalid.value, busy.value):
        text = str(error) + repr(error.__cause__) + repr(error.__context__)
        assert_no_secret(text, DEFAULT_CLIENT_SECRET, grant.access_token, grant.refresh_token)
    assert caplog.records, "failures are logged"
    assert_no_secret(caplog.text, DEFAULT_CLIENT_SECRET, grant.access_token, grant.refresh_token)


async def test_pycronofy_calls_time_out(
    client: CronofyClient, keys: CronofyKeys, fake_cronofy: FakeCronofy
) -> None:
    fake_cronofy.add_code("code-4")
    grant = await client.exchange_code(keys, "code-4", REDIRECT)
    fake_cronofy.slow("userinfo", 3.0, times=1)
    with pytest.raises(CronofyUnreachable) as slow:
        await client.userinfo(keys, grant.access_token)
    assert "did not answer" in str(slow.value)
    fake_cronofy.reset_connection("userinfo")
    with pytest.raises(CronofyUnreachable):
        await client.userinfo(keys, grant.access_token)


async def test_real_time_scheduling_link(
    client: CronofyClient, keys: CronofyKeys, fake_cronofy: FakeCronofy
) -> None:
    url = await client.real_time_scheduling(
        keys,
        sub="acc_1",
        calendar_id="cal_1",
        event_id="sb_abc",
        summary="Conversation with Jane",
        zone="Europe/London",
        minutes=30,
        periods=[{"start": "2027-01-04T09:00:00Z", "end": "2027-01-04T17:00:00Z"}],
        callback_url="https://slotbot.example.com/cronofy/push/key",
        redirect_uri=REDIRECT,
    )
    assert url.startswith(fake_cronofy.url + "/rts/")
    sent = fake_cronofy.rts_requests()[0]
    assert sent["event"]["event_id"] == "sb_abc"
    assert sent["availability"]["required_duration"] == {"minutes": 30}
    assert sent["callback_urls"] == {
        "completed_url": "https://slotbot.example.com/cronofy/push/key?callback=completed",
        "no_times_suitable_url": (
            "https://slotbot.example.com/cronofy/push/key?callback=no_times_suitable"
        ),
    }
    assert sent["redirect_urls"] == {"completed_url": REDIRECT}
    assert sent["target_calendars"] == [{"sub": "acc_1", "calendar_id": "cal_1"}]
    # Real-Time Scheduling authenticates with the client secret
    assert fake_cronofy.last("real_time_scheduling").bearer == DEFAULT_CLIENT_SECRET
    fake_cronofy.fail_next("real_time_scheduling", status=422)
    with pytest.raises(CronofyRequestFailed) as refused:
        await client.real_time_scheduling(
            keys,
            sub="acc_1",
            calendar_id=None,
            event_id="e",
            summary="s",
            zone="UTC",
            minutes=30,
            periods=[],
            callback_url="https://x/y",
            redirect_uri=REDIRECT,
        )
    assert refused.value.status == 422
    assert DEFAULT_CLIENT_SECRET not in str(refused.value)
