"""SigningKeys: one fetch at a time, failures remembered for a while, keys kept and refreshed."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.teams.keys import KeysUnavailable, SigningKey, SigningKeys

URL = "https://keys.example/openid"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def a_key(kid: str) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid, private.public_key(), frozenset({"msteams"}))


class Endpoint:
    """A key endpoint: answers `keys`, or fails, or holds every fetch until released."""

    def __init__(self, *kids: str) -> None:
        self.keys = {kid: a_key(kid) for kid in kids}
        self.fetches = 0
        self.failing = False
        self.release = threading.Event()
        self.release.set()

    def __call__(self, url: str, timeout: Any) -> dict[str, SigningKey]:
        self.fetches += 1
        self.release.wait(10)
        if self.failing:
            raise KeysUnavailable("the key endpoint failed (ConnectionError)")
        return dict(self.keys)


def keys_for(endpoint: Endpoint, clock: Clock, **options: Any) -> SigningKeys:
    return SigningKeys(URL, clock=clock, fetch=endpoint, **options)


async def test_checks_that_arrive_together_share_one_fetch() -> None:
    endpoint, clock = Endpoint("k1"), Clock()
    endpoint.release.clear()
    keys = keys_for(endpoint, clock)
    waiting = [asyncio.create_task(keys.key("k1")) for _ in range(10)]
    await asyncio.sleep(0.1)
    endpoint.release.set()
    found = await asyncio.gather(*waiting)
    assert endpoint.fetches == 1
    assert all(key is not None and key.kid == "k1" for key in found)
    keys.close()


async def test_a_fetch_that_never_ends_is_given_up_on_and_remembered() -> None:
    endpoint, clock = Endpoint("k1"), Clock()
    endpoint.release.clear()
    keys = keys_for(endpoint, clock, timeout=0.2, failure_memory=30.0)
    with pytest.raises(KeysUnavailable, match="in time"):
        await keys.key("k1")
    clock.now += 10
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(KeysUnavailable):
        await keys.key("k1")
    assert loop.time() - started < 0.1, "answered from memory, without waiting"
    assert endpoint.fetches == 1, "not asked again while the failure is remembered"
    endpoint.release.set()
    clock.now += 30
    assert (await keys.key("k1")) is not None
    keys.close()


async def test_a_failed_fetch_is_not_retried_until_the_memory_expires() -> None:
    endpoint, clock = Endpoint("k1"), Clock()
    endpoint.failing = True
    keys = keys_for(endpoint, clock, failure_memory=30.0)
    for _ in range(5):
        with pytest.raises(KeysUnavailable, match="failed"):
            await keys.key("k1")
    assert endpoint.fetches == 1
    endpoint.failing = False
    clock.now += 31
    assert (await keys.key("k1")) is not None
    assert endpoint.fetches == 2
    keys.close()


async def test_keys_are_kept_a_day_and_old_ones_serve_while_the_endpoint_is_down() -> None:
    endpoint, clock = Endpoint("k1"), Clock()
    keys = keys_for(endpoint, clock)
    assert (await keys.key("k1")) is not None
    clock.now += 3600
    assert (await keys.key("k1")) is not None
    assert endpoint.fetches == 1
    clock.now += 24 * 3600
    endpoint.failing = True
    assert (await keys.key("k1")) is not None, "a day old, refresh failed: still usable"
    assert endpoint.fetches == 2
    keys.close()


async def test_an_unknown_key_fetches_again_but_not_at_every_token() -> None:
    endpoint, clock = Endpoint("k1"), Clock()
    keys = keys_for(endpoint, clock, refetch_unknown=300.0)
    assert (await keys.key("k1")) is not None
    for _ in range(5):
        assert (await keys.key("rotated")) is None
    assert endpoint.fetches == 1, "forged key ids do not make Slotbot hammer the endpoint"
    endpoint.keys["rotated"] = a_key("rotated")
    clock.now += 301
    assert (await keys.key("rotated")) is not None
    assert endpoint.fetches == 2
    keys.close()
