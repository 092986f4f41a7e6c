"""A rate limit per client address for the routes anyone can reach without credentials (the
Cronofy OAuth callback, the booked page, a platform's install pages: `bot.pages.limited`).

A token bucket per address, in this process's memory: a burst of `per_minute` requests, then
one more each `60 / per_minute` seconds. The table of buckets is bounded: past `max_clients`
addresses the least recently seen is forgotten (and starts afresh if it comes back), so a
flood from many addresses costs a fixed amount of memory and nothing in the store. Each
replica counts on its own. Webhooks (Slack, Teams, Cronofy push) are authenticated and are
not limited here.

Behind reverse proxies (`BOT_PROXY_HOPS`), the client is the address the outermost proxy saw:
the `hops`-th address from the right of X-Forwarded-For; what a client puts before it is not
believed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from aiohttp import web

MAX_CLIENTS = 10_000


class RateLimiter:
    """Token buckets per key on an injectable clock (seconds, monotonic by default)."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._max = max(1, max_clients)
        # key -> (tokens left, when they were counted, refused last time), least recently
        # seen first
        self._buckets: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one request for `key`: 0.0 when it may go on, else the seconds until it may."""
        return self.check(key)[0]

    def check(self, key: str) -> tuple[float, bool]:
        """`take`, and whether this is the first refusal since the key was last let through
        (so a flood is logged once, not once per request)."""
        if self.per_minute <= 0:
            return 0.0, False
        now = self._clock()
        burst = float(self.per_minute)
        per_second = self.per_minute / 60.0
        tokens, then, was_refused = self._buckets.pop(key, (burst, now, False))
        tokens = min(burst, tokens + max(0.0, now - then) * per_second)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / per_second
        self._buckets[key] = (tokens, now, wait > 0)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return wait, wait > 0 and not was_refused


def client_address(request: web.Request, proxy_hops: int) -> str:
    """Who is asking: the connecting address, or behind `proxy_hops` proxies that each append
    to X-Forwarded-For, the address the outermost of them saw."""
    if proxy_hops > 0:
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
        hops = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    return request.remote or "-"
