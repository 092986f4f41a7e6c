"""The read API: `GET /api/v1/events?limit=100` on a store of 100,000 timeline events,
requests/s and latency, next to a bare aiohttp handler answering the same JSON bytes in the
same run (the ceiling: no token check, no store read, no serialisation).

Two pages are read: the first page, and pages at random places in the 100,000 (cursors of
events spread over the whole feed), so the figure is not that of one cached page. SQLite
always; Redis too when redis-server is installed (set up as the README asks: fsync always).
`python -m bench api` (add `--quick` for shorter runs)."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import (
    LOCALHOST,
    BotProcess,
    LoadResult,
    RedisProcess,
    _Process,
    serve_until_signalled,
)
from bot import eventloop

EVENTS = 100_000
CANDIDATES = 5_000
ORG = "slack:TBENCH"
PAGE = 100


async def _fill(store_url: str) -> tuple[str, list[str]]:
    """The org's 100,000 events (and a token), written as a copy writes them; returns the
    token and the cursors of 200 events spread over the feed."""
    from bot.api import cursors, tokens
    from bot.api.http import EVENTS_FEED
    from bot.store import store_for_url
    from bot.store.records import Org, TimelineEntry
    from bot.store.transfer import BATCH, Item, TimelineItem

    store = store_for_url(store_url)
    await store.open()
    try:
        await store.put_org(Org(org_id=ORG, platform="slack", name="Bench"))
        start = time.time() - EVENTS
        batch: list[Item] = []
        for i in range(EVENTS):
            entry = TimelineEntry(
                kind=("booked", "rescheduled", "cancelled", "note")[i % 4],
                at=start + i,
                booking_id=f"srq_{i // 3:08d}",
                start="2027-01-05T10:00:00Z",
                end="2027-01-05T10:45:00Z",
                zone="Europe/London",
                recruiter_id="U0RECRUITER",
                raw_type="scheduling_request_time_chosen",
            )
            batch.append(TimelineItem(ORG, f"cand_{i % CANDIDATES:06d}", entry))
            if len(batch) >= BATCH:
                await store.import_records(list(batch))
                batch = []
        if batch:
            await store.import_records(batch)
        token = await tokens.create(store, ORG, "bench", actor="U0ADMIN", now=time.time())
        # cursors spread over the feed, read from the store as the API gives them out
        spread: list[str] = []
        after = None
        while True:
            page = await store.list_org_events(ORG, after, limit=500)
            if page.last is None:
                break
            # the first event of each page of 500: 200 cursors over the feed
            spread.append(cursors.encode(EVENTS_FEED, page.rows[0].position))
            after = page.last
        return token, spread
    finally:
        await store.close()


async def get_load(
    url_for: Callable[[int], str],
    headers: dict[str, str],
    *,
    connections: int,
    duration: float,
    warmup: int = 50,
) -> LoadResult:
    """GET from `connections` concurrent clients for `duration` seconds (127.0.0.1 only)."""
    if not url_for(0).startswith(f"http://{LOCALHOST}:"):
        raise ValueError("benchmarks only load 127.0.0.1")
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        for i in range(warmup):
            async with session.get(url_for(i)) as response:
                await response.read()
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors = 0
        counter = iter(range(10_000_000))
        started = time.perf_counter()
        deadline = started + duration

        async def client() -> None:
            nonlocal errors
            for index in counter:
                if time.perf_counter() >= deadline:
                    return
                t0 = time.perf_counter()
                try:
                    async with session.get(url_for(index)) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), errors, elapsed, latencies, statuses)


class BareJson(_Process):
    """A bare aiohttp GET handler answering `body` (the API's own answer) as JSON."""

    def __init__(self, body_file: Path) -> None:
        super().__init__()
        self.env = dict(os.environ)
        self.argv = [
            sys.executable, "-m", "bench.api", "bare", "--port", str(self.port),
            "--body", str(body_file),
        ]  # fmt: skip


def _row(
    target: str, store: str, result: LoadResult, connections: int, **extra: Any
) -> dict[str, Any]:
    return {
        "bench": "api",
        "target": target,
        "store": store,
        "connections": connections,
        "requests": result.requests,
        "errors": result.errors,
        "rps": round(result.rps),
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        **extra,
    }


async def _measure(
    store_url: str, store_name: str, quick: bool, folder: Path
) -> list[dict[str, Any]]:
    from bot.secrets import generate_key

    filled = time.perf_counter()
    token, spread = await _fill(store_url)
    fill_seconds = time.perf_counter() - filled
    duration = 3.0 if quick else 8.0
    connections = 16
    headers = {"Authorization": f"Bearer {token}"}
    env = {
        "BOT_STORE_URL": store_url,
        "BOT_SECRET_KEYS": generate_key(),
        "BOT_API_RATE_LIMIT": "0",
        "BOT_PUBLIC_URL": "http://localhost:3978",
    }
    rows: list[dict[str, Any]] = []
    async with BotProcess(env) as bot:
        first = f"{bot.url}/api/v1/events?limit={PAGE}"
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.get(first) as response:
                assert response.status == 200, await response.text()
                body = await response.read()
        body_file = folder / f"page-{store_name}.json"
        body_file.write_bytes(body)
        rng = random.Random(7)
        picks = [rng.choice(spread) for _ in range(1000)]

        def anywhere(i: int) -> str:
            return f"{first}&after={picks[i % len(picks)]}"

        cpu0 = bot.cpu_seconds()
        api_first = await get_load(
            lambda i: first, headers, connections=connections, duration=duration
        )
        cpu1 = bot.cpu_seconds()
        api_any = await get_load(anywhere, headers, connections=connections, duration=duration)
        cpu2 = bot.cpu_seconds()
    async with BareJson(body_file) as bare:
        bare_url = f"{bare.url}/api/v1/events?limit={PAGE}"
        bare_result = await get_load(
            lambda i: bare_url, headers, connections=connections, duration=duration
        )

    def cpu_ms(before: float | None, after: float | None, result: LoadResult) -> Any:
        if before is None or after is None or not result.requests:
            return ""
        return round((after - before) * 1000 / (result.requests + 50), 2)

    size = f"{len(body) / 1024:.0f} KiB"
    for target, result, cpu in (
        ("GET /api/v1/events?limit=100 (first page)", api_first, cpu_ms(cpu0, cpu1, api_first)),
        ("GET /api/v1/events?limit=100&after=<anywhere>", api_any, cpu_ms(cpu1, cpu2, api_any)),
    ):
        rows.append(
            _row(
                target, store_name, result, connections,
                vs_bare=f"{result.rps / bare_result.rps:.0%}" if bare_result.rps else "",
                cpu_ms_per_req=cpu, page=size, events=EVENTS, fill_s=round(fill_seconds, 1),
            )
        )  # fmt: skip
    rows.append(_row("bare aiohttp, same JSON", store_name, bare_result, connections, page=size))
    return rows


async def run(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-api-") as name:
        folder = Path(name)
        rows += await _measure(f"sqlite:///{folder / 'slotbot.db'}", "sqlite", quick, folder)
        if RedisProcess.available():
            async with RedisProcess() as redis_server:
                rows += await _measure(redis_server.url, "redis", quick, folder)
    return rows


# --- the bare baseline ------------------------------------------------------------------


async def _bare(port: int, body: bytes) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/v1/events", page)
    await serve_until_signalled(app, port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api")
    parser.add_argument("what", choices=["bare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    args = parser.parse_args(argv)
    # the same event loop as `python -m bot serve` (BOT_UVLOOP), so the ratio compares handlers
    eventloop.run(_bare(args.port, args.body.read_bytes()), use_uvloop=eventloop.wanted())


if __name__ == "__main__":
    main()
