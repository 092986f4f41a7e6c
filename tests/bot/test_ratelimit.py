"""The in-process rate limiter of the public routes: a token bucket per client address, on
an injected clock, in a table that never grows past its bound."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_request_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, clock=clock)
    assert [limiter.take("a") for _ in range(6)] == [0.0] * 6
    assert limiter.take("a") == pytest.approx(10.0)
    clock.now += 4
    assert limiter.take("a") == pytest.approx(6.0)  # still waiting, nothing taken
    clock.now += 6
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(10.0)


def test_clients_do_not_share_a_bucket() -> None:
    limiter = RateLimiter(per_minute=1, clock=Clock())
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0


def test_a_bucket_never_holds_more_than_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    limiter.take("a")
    clock.now += 3600
    assert [limiter.take("a") == 0.0 for _ in range(3)] == [True, True, False]


def test_the_table_is_bounded_and_forgets_the_least_recently_seen() -> None:
    limiter = RateLimiter(per_minute=1, clock=Clock(), max_clients=3)
    for client in ("a", "b", "c"):
        assert limiter.take(client) == 0.0
    assert limiter.take("a") > 0  # "a" is seen again: now the most recent
    assert limiter.take("d") == 0.0  # "b", the least recently seen, makes room
    assert len(limiter) == 3
    assert limiter.take("b") == 0.0  # forgotten, so it starts afresh
    assert limiter.take("a") > 0


def test_zero_turns_it_off() -> None:
    limiter = RateLimiter(per_minute=0, clock=Clock())
    assert all(limiter.take("a") == 0.0 for _ in range(1000))
    assert len(limiter) == 0
