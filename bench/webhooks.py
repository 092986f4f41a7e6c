"""Webhook fan-out: 1,000 Cronofy callbacks, each a booking event for one webhook, from the
callback accepted by a serving Slotbot (`python -m bot serve`, its own outbox worker) to the
signed event received by a local HTTPS receiver (a certificate made for the run, trusted
through BOT_WEBHOOK_CA_BUNDLE; BOT_WEBHOOK_ALLOW_LOOPBACK=1), on SQLite and on Redis.

- `delivered_per_s`: events received per second, from the first callback sent to the last
  event received (what a receiver sees while callbacks arrive as fast as Cronofy can push);
- `lag_p50_ms` / `lag_p99_ms`: per event, the receiver's arrival time minus the time its
  callback was sent;
- `bad_signatures`: events whose Slotbot-Signature did not verify (0 expected);
- the `webhooks_e2e` row: callbacks one at a time, each waiting for its event, so the lag
  is that of one event with no queue in front of it.

Every event goes to the one webhook, so they go out one at a time, in order (the webhook's
lane); each send resolves, checks and connects afresh (a new TLS connection per event).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench._pushload import CLIENT_SECRET, callback
from bench.common import LOCALHOST, BotProcess, RedisProcess, percentile
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import CronofyConfig, Org, WebhookConfig

ORG_ID = "slack:T1"
ORG_KEY = "benchpushkey0000webhooks"
PUSH_PATH = f"/cronofy/push/{ORG_KEY}"
SECRET = "whsec_bench_secret_0123456789"
CONNECTIONS = 8  # callbacks in flight at once
EVENTS = 1000
WAIT = 100.0  # seconds for every event to arrive, at most
_EMAIL = re.compile(r"candidate(\d+)\.")


class _Receiver:
    def __init__(self, folder: Path) -> None:
        from tests.support.webhook_receiver import make_certificate

        self.cert, self._key = make_certificate(folder)
        self.arrivals: dict[int, float] = {}
        self.bad_signatures = 0
        self.duplicates = 0
        self.out_of_order = 0
        self._last = -1
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        at = time.time()
        fields = dict(
            part.split("=", 1) for part in request.headers.get("Slotbot-Signature", "").split(",")
        )
        signed = fields.get("t", "").encode() + b"." + body
        expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("v1", "")):
            self.bad_signatures += 1
        found = _EMAIL.search(json.loads(body)["data"]["candidate"]["email"])
        if found is not None:
            i = int(found.group(1))
            if i in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[i] = at
        return web.Response(text="ok")

    async def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self._key)
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOCALHOST, 0, ssl_context=context)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"https://{LOCALHOST}:{self.port}/hook"


async def _seed(store: Store, box: SecretBox, url: str) -> None:
    await store.open()
    try:
        await store.put_org(
            Org(
                org_id=ORG_ID,
                platform="slack",
                name="Bench",
                org_key=ORG_KEY,
                cronofy=CronofyConfig(
                    client_id="cid_bench",
                    client_secret_enc=box.encrypt(CLIENT_SECRET),
                    data_center="us",
                    configured_by="UBENCH",
                    configured_at=time.time(),
                ),
                admins=["UBENCH"],
                webhooks=[WebhookConfig("whbench", url, box.encrypt(SECRET), "UBENCH")],
            )
        )
    finally:
        await store.close()


async def _send(bot_url: str, run: str, count: int) -> tuple[dict[int, float], dict[int, float]]:
    """Callbacks 0..count-1, `CONNECTIONS` at a time: (when each was sent, answered)."""
    sent_at: dict[int, float] = {}
    answered_at: dict[int, float] = {}
    queue = iter(range(count))

    async def loop(session: aiohttp.ClientSession) -> None:
        for i in queue:
            body, headers = callback(i, run)
            at = time.time()
            async with session.post(bot_url + PUSH_PATH, data=body, headers=headers) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"callback refused: {answer.status}")
            sent_at[i] = at
            answered_at[i] = time.time()

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(loop(session) for _ in range(CONNECTIONS)))
    return sent_at, answered_at


def _order_violations(
    arrivals: dict[int, float], sent_at: dict[int, float], answered_at: dict[int, float]
) -> int:
    """Events received after one whose callback was sent only once theirs was answered:
    callbacks in flight together have no order, but one answered before another was sent
    must reach the receiver first."""
    violations = 0
    latest_sent = float("-inf")
    for i in sorted(arrivals, key=arrivals.__getitem__):
        if latest_sent > answered_at[i]:
            violations += 1
        latest_sent = max(latest_sent, sent_at[i])
    return violations


async def _one_at_a_time(bot_url: str, receiver: _Receiver, run: str, count: int) -> list[float]:
    lags: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(count):
            body, headers = callback(i, run)
            sent = time.time()
            async with session.post(bot_url + PUSH_PATH, data=body, headers=headers) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"callback refused: {answer.status}")
            deadline = time.monotonic() + 10
            while i not in receiver.arrivals and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            if i not in receiver.arrivals:
                raise RuntimeError("an event did not arrive within 10s")
            lags.append(receiver.arrivals[i] - sent)
    receiver.arrivals.clear()
    return lags


async def _measure(
    store_name: str, store_url: str, make_store: Callable[[], Store], quick: bool
) -> list[dict[str, Any]]:
    count = 200 if quick else EVENTS
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-hooks-") as folder:
        receiver = _Receiver(Path(folder))
        await receiver.start()
        try:
            key = generate_key()
            await _seed(make_store(), SecretBox([key]), receiver.url)
            env = {
                "BOT_STORE_URL": store_url,
                "BOT_SECRET_KEYS": key,
                "BOT_WEBHOOK_ALLOW_LOOPBACK": "1",
                "BOT_WEBHOOK_CA_BUNDLE": str(receiver.cert),
            }
            async with BotProcess(env) as bot:
                single = await _one_at_a_time(
                    bot.url, receiver, f"one{int(time.time())}", 20 if quick else 100
                )
                started = time.time()
                sent_at, answered_at = await _send(bot.url, f"wh{int(started)}", count)
                deadline = time.monotonic() + WAIT
                while len(receiver.arrivals) < count and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
        finally:
            await receiver.stop()
    arrivals = receiver.arrivals
    lags = [arrivals[i] - sent_at[i] for i in arrivals if i in sent_at]
    last = max(arrivals.values()) if arrivals else started
    e2e = {
        "bench": "webhooks_e2e",
        "target": "slotbot",
        "store": store_name,
        "requests": len(single),
        "lag_p50_ms": round(percentile(single, 50) * 1000, 1),
        "lag_p99_ms": round(percentile(single, 99) * 1000, 1),
    }
    return [
        e2e,
        {
            "bench": "webhooks",
            "target": "slotbot",
            "store": store_name,
            "requests": count,
            "delivered": len(arrivals),
            "delivered_per_s": round(len(arrivals) / (last - started), 1) if arrivals else 0.0,
            "lag_p50_ms": round(percentile(lags, 50) * 1000, 1) if lags else None,
            "lag_p99_ms": round(percentile(lags, 99) * 1000, 1) if lags else None,
            "bad_signatures": receiver.bad_signatures,
            "duplicates": receiver.duplicates,
            "out_of_order": _order_violations(arrivals, sent_at, answered_at),
        },
    ]


async def run(quick: bool) -> list[dict[str, Any]]:
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-") as folder:
        path = Path(folder) / "slotbot.db"
        rows += await _measure("sqlite", f"sqlite:///{path}", lambda: SQLiteStore(str(path)), quick)
    if RedisProcess.available():
        async with RedisProcess() as redis:
            rows += await _measure("redis", redis.url, lambda: RedisStore(redis.url), quick)
    else:
        rows.append({"bench": "webhooks", "store": "redis", "skipped": "no redis-server"})
    return rows
