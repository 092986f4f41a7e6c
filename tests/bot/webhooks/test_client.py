"""A receiver's answer, in the outbox worker's terms; a refused address before any connect."""

from __future__ import annotations

import pytest

from bot.chat import DeliveryFailure
from bot.errors import DeliveryError
from bot.webhooks import client
from bot.webhooks.settings import WebhookSettings
from tests.support.webhook_receiver import FakeDNS


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_done(status: int) -> None:
    assert client._judge(status, None) == status


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_timeouts_and_5xx_are_tried_again(status: int) -> None:
    with pytest.raises(DeliveryError) as failed:
        client._judge(status, None)
    assert failed.value.failure is DeliveryFailure.TRANSIENT and not failed.value.permanent


def test_429_honours_retry_after() -> None:
    with pytest.raises(DeliveryError) as failed:
        client._judge(429, "30")
    assert failed.value.failure is DeliveryFailure.RATE_LIMITED
    assert failed.value.retry_after == 30.0
    with pytest.raises(DeliveryError) as dated:
        client._judge(429, "Wed, 21 Oct 2015 07:28:00 GMT")
    assert dated.value.retry_after is None


@pytest.mark.parametrize("status", [301, 302, 400, 401, 403, 404, 410, 422])
def test_other_answers_are_dead_letters(status: int) -> None:
    with pytest.raises(DeliveryError) as failed:
        client._judge(status, None)
    assert failed.value.permanent and failed.value.reason == f"webhook_http_{status}"


async def test_a_refused_address_is_final_and_an_unresolvable_one_is_not() -> None:
    dns = FakeDNS({"inside.example.com": ["192.168.1.20"]})
    settings = WebhookSettings(allow_loopback=True)
    with pytest.raises(DeliveryError) as refused:
        await client.post(dns, settings, "https://inside.example.com/h", b"{}", {})
    assert refused.value.permanent
    assert refused.value.reason == "webhook_address_refused:private"
    assert "192.168.1.20" in str(refused.value)
    with pytest.raises(DeliveryError) as unresolvable:
        await client.post(dns, settings, "https://gone.example.com/h", b"{}", {})
    assert not unresolvable.value.permanent


async def test_nothing_listening_is_tried_again() -> None:
    dns = FakeDNS({"closed.example.com": ["127.0.0.1"]})
    settings = WebhookSettings(allow_loopback=True, timeout=2.0)
    with pytest.raises(DeliveryError) as failed:
        await client.post(dns, settings, "https://closed.example.com:9/h", b"{}", {})
    assert not failed.value.permanent and failed.value.reason == "webhook_unreachable"
