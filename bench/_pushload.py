"""Helpers for the benchmarks that push Cronofy callbacks at real serving processes
(latency, memory, scaleout): seeded orgs, signed callbacks that name their candidate,
a fake Slack in its own process, the environment of a serving process, and an open-loop
(paced) sender.

Kept apart from bench/common.py so those benchmarks share one way of building a callback
without reaching into another benchmark's module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.common import LOCALHOST, RequestMaker
from bot.alerts.hmac import HEADER, compute_push_hmac
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import AlertRoute, CronofyConfig, Org

CLIENT_SECRET = "CRN_bench_client_secret_000000000000"
# a candidate's display name carries this token, so a post can be matched to its callback
_TOKEN = re.compile(r"Cand([0-9a-z]+)x(\d+)z")


@dataclass(frozen=True)
class BenchOrg:
    org_id: str
    org_key: str
    channel: str  # "" for an org without an alert route

    @property
    def push_path(self) -> str:
        return f"/cronofy/push/{self.org_key}"


def bench_orgs(count: int, *, routed: bool = True) -> list[BenchOrg]:
    """`count` Slack workspaces, each with its own hiring channel (when `routed`)."""
    return [
        BenchOrg(
            org_id=f"slack:T{i + 1}",
            org_key=f"benchpushkey{i:04d}0123456789",
            channel=f"C0BENCH{i:03d}" if routed else "",
        )
        for i in range(count)
    ]


async def seed(store: Store, box: SecretBox, orgs: list[BenchOrg]) -> None:
    await store.open()
    try:
        for org in orgs:
            await store.put_org(
                Org(
                    org_id=org.org_id,
                    platform="slack",
                    name="Bench",
                    org_key=org.org_key,
                    cronofy=CronofyConfig(
                        client_id="cid_bench",
                        client_secret_enc=box.encrypt(CLIENT_SECRET),
                        data_center="us",
                        configured_by="UBENCH",
                        configured_at=time.time(),
                    ),
                    admins=["UBENCH"],
                    routes=(
                        [AlertRoute(conversation_id=org.channel, name="bench")]
                        if org.channel
                        else []
                    ),
                )
            )
    finally:
        await store.close()


def callback(i: int, run: str) -> tuple[bytes, dict[str, str]]:
    """A signed, unique `scheduling_request_time_chosen` for a new candidate whose name
    carries (run, i)."""
    body = json.dumps(
        {
            "notification": {
                "type": "scheduling_request_time_chosen",
                "triggered_at": "2026-11-27T10:00:00Z",
            },
            "scheduling_request": {
                "scheduling_request_id": f"srq_{run}_{i}",
                "recipients": [
                    {
                        "email": f"candidate{i}.{run}@example.com",
                        "display_name": f"Cand{run}x{i}z",
                        "slot_selector": True,
                    }
                ],
                "event": {
                    "summary": "Interview",
                    "start": {"time": "2026-12-01T10:00:00Z", "tzid": "Europe/London"},
                    "end": {"time": "2026-12-01T10:30:00Z", "tzid": "Europe/London"},
                },
            },
        },
        separators=(",", ":"),
    ).encode()
    headers = {
        HEADER: compute_push_hmac(CLIENT_SECRET, body),
        "Content-Type": "application/json; charset=utf-8",
    }
    return body, headers


def callbacks(run: str, stride: int = 1, offset: int = 0) -> RequestMaker:
    """Request i is the callback of candidate i * stride + offset: disjoint candidates for
    loops that share a run."""
    return lambda i: callback(i * stride + offset, run)


def bot_env(store_url: str, key: str, fake_url: str) -> dict[str, str]:
    return {
        "BOT_STORE_URL": store_url,
        "BOT_SECRET_KEYS": key,
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_API_URL": fake_url + "/api/",
    }


@contextlib.contextmanager
def fake_slack() -> Iterator[str]:
    """A fake Slack Web API in a process of its own (its clock stamps each arrival)."""
    from tests.fakes.serve import spawn

    fake, fake_url = spawn("slack")
    try:
        yield fake_url
    finally:
        fake.terminate()
        fake.wait(timeout=20)


async def arrivals(
    session: aiohttp.ClientSession, fake_url: str, run: str, token: re.Pattern[str] = _TOKEN
) -> dict[int, float]:
    """When the fake Slack first received a post for each candidate i of `run` (epoch s);
    `token` finds (run, i) in a post (by default the candidate's name `callback` gives)."""
    async with session.get(f"{fake_url}/_fake/requests") as response:
        data = await response.json()
    first: dict[int, float] = {}
    for record in data:
        if record.get("name") != "chat.postMessage" or record.get("status") != 200:
            continue
        found = token.search(json.dumps(record.get("json") or record.get("form") or {}))
        if found is None or found.group(1) != run:
            continue
        i = int(found.group(2))
        at = float(record["at"])
        if i not in first or at < first[i]:
            first[i] = at
    return first


async def forget_requests(session: aiohttp.ClientSession, fake_url: str) -> None:
    """Clear the fake's request log: each later look at it then reads only what came after."""
    async with session.post(f"{fake_url}/_fake/control", json={"op": "reset"}) as response:
        response.raise_for_status()


@dataclass
class PacedResult:
    offered_rps: float
    seconds: float  # from the first scheduled send to the last answer
    sent_at: dict[int, float] = field(default_factory=dict)  # epoch s, accepted only
    ack_latencies: list[float] = field(default_factory=list)
    errors: int = 0
    late_starts: int = 0  # sends that left more than 10 ms after their slot
    send_seconds: float = 0.0  # from the first send to the last one leaving
    total: int = 0

    @property
    def sent_rps(self) -> float:
        # n sends span n - 1 intervals
        return (self.total - 1) / self.send_seconds if self.send_seconds > 0 else 0.0

    @property
    def accepted(self) -> int:
        return len(self.sent_at)


async def paced(
    urls: list[str],
    make: Callable[[int], tuple[bytes, dict[str, str]]],
    *,
    rate: float,
    seconds: float,
    max_in_flight: int = 512,
) -> PacedResult:
    """Open loop: request i leaves at start + i/rate whatever the earlier ones are doing
    (round-robin over `urls`); a slow server shows up as latency and a lower accepted
    rate, not as a lower offered rate. In-flight requests are capped so an overwhelmed
    server cannot make the generator open sockets without bound."""
    if not all(u.startswith(f"http://{LOCALHOST}:") for u in urls):
        raise ValueError("benchmarks only load 127.0.0.1")
    total = int(rate * seconds)
    result = PacedResult(offered_rps=rate, seconds=0.0)
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            body, headers = make(i)
            sent = time.time()
            t0 = time.perf_counter()
            try:
                async with session.post(urls[i % len(urls)], data=body, headers=headers) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                result.sent_at[i] = sent
                result.ack_latencies.append(time.perf_counter() - t0)
            else:
                result.errors += 1

        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        for i in range(total):
            slot = start + i / rate
            delay = slot - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                result.late_starts += 1
            tasks.append(asyncio.create_task(one(i)))
        result.send_seconds = time.perf_counter() - start
        result.total = total
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - start
    return result


def round_or_none(value: float | None, digits: int = 1) -> Any:
    return None if value is None else round(value, digits)
