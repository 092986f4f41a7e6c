"""Durable timers (`bot.timers`): how precisely `python -m bot serve` fires them, what each
costs it, and what pending ones cost in memory, on SQLite and on Redis.

Firing. COUNT timers (notice jobs with a due time and a key, each a direct message to one of
MEMBERS connected members of a Slack workspace) due evenly at RATE a second (10,000 over a
minute), the first LEAD seconds after they were written. This process writes them straight
into the store, as a booking's callback would leave them, while the serving process runs; its
own outbox worker finds them by polling (an idle worker looks every `poll_interval`, 0.5 s:
the floor of the lag). The fake Slack Web API, a process of its own, stamps each
chat.postMessage with its arrival time: lag = arrival - due time, p50/p99/max. `rps` is the
rate they were delivered at (first due time to last arrival); "behind" in the note: the
last timers were more than BEHIND late, so the worker could not keep up and the lag grew
through the run. `cpu_ms_per_job`: the serving process's CPU
(/proc/<pid>/stat, user + system) from the first due time to the last delivery, polls
included, per timer fired; on Redis, `redis_cpu_ms_per_job` is redis-server's.

The baseline, in the same process just before: BASELINE plain notice jobs (no key) all due at
one moment, the same messages to the same members, delivered as fast as the worker goes: the
CPU of a delivery with no due time to wait for. `cpu_vs_bare` is a timer's CPU over that:
above 1 is what waiting for due times costs (the polls, and timers that come due a few at a
time are claimed in smaller batches than a backlog is). Both come after a warm-up (one notice
to each member: Slack's DM channels opened, connections made).

Memory (`timers_memory`). A fresh serving process on an empty store, then PENDING timers due
in 30 days written into it: the process's resident set (VmRSS, peak VmHWM) and its idle CPU
(over IDLE_SECONDS) before and after, and after a restart on that store; beside it what the
store holds them in (redis-server's used_memory, or the SQLite files). Idle CPU is read in
clock ticks (10 ms): over IDLE_SECONDS one tick is 3.3 ms/s.

`python -m bench timers [--quick] [--store sqlite|redis|both] [--count N] [--workers N]`:
`--count` sets COUNT (at the same RATE, so it sets the spread too); `--workers` runs that many
`python -m bot worker` processes beside `serve` for the firing (their CPU counted with its);
`--quick` is 2,000 timers over 12 s and 20,000 pending. The full run on both stores takes about 3.5 minutes, one store under 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench._pushload import arrivals, bench_orgs, bot_env, fake_slack, forget_requests, seed
from bench.common import (
    DRAIN_TIMEOUT,
    REPO,
    BotProcess,
    RedisProcess,
    cpu_seconds,
    drain,
    percentile,
    proc_memory_mb,
    redis_used_mb,
)
from bot.chat import DeliveryTarget
from bot.outbox.kinds.notice import KIND, Notice
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import Job, Member
from bot.timers import timer_key
from cards.model import Card, Header, Section

COUNT = 10_000
QUICK_COUNT = 2_000
RATE = COUNT / 60.0  # timers due per second: 10,000 over a minute
LEAD = 10.0  # seconds from writing the timers to the first one's due time
BASELINE = 1_000  # notices of the baseline, all due at once (fewer when COUNT is smaller)
BASELINE_LEAD = 2.0  # seconds from writing them to their due time
PENDING = 100_000
QUICK_PENDING = 20_000
FAR = 30 * 86_400.0  # pending timers are due this far ahead: none fires during the run
MEMBERS = 50
WRITE_BATCH = 1_000  # jobs per store.enqueue while seeding
IDLE_SECONDS = 3.0
SETTLE = 1.0  # after start-up: the first worker poll, the store's connections
BEHIND = 1.0  # s: the last timers' lag past two idle polls means the worker fell behind
Rows = list[dict[str, Any]]
# the card's title names (run, i), so an arrival at the fake Slack can be matched to its timer
TOKEN = re.compile(r"Tmr([0-9a-z]+)x(\d+)z")


@dataclass(frozen=True)
class Target:
    """One store under test: its name, its URL for the serving process, how this process opens
    it, and where its memory can be read (a Redis URL, or the SQLite file)."""

    name: str
    url: str
    make: Callable[[], Store]
    redis_url: str | None = None
    db_path: Path | None = None
    redis_pid: int | None = None  # redis-server's CPU is part of a delivery's cost

    def redis_cpu(self) -> float | None:
        return None if self.redis_pid is None else cpu_seconds(self.redis_pid)


@dataclass
class Fleet:
    """The serving process and the extra `python -m bot worker` processes beside it: the CPU
    they spend between them."""

    bot: BotProcess
    workers: list[subprocess.Popen[bytes]]

    def cpu_seconds(self) -> float | None:
        assert self.bot.process is not None
        figures = [cpu_seconds(p.pid) for p in (self.bot.process, *self.workers)]
        return None if None in figures else sum(f for f in figures if f is not None)


@contextlib.asynccontextmanager
async def fleet(env: dict[str, str], workers: int) -> AsyncIterator[Fleet]:
    async with BotProcess(env) as bot:
        extra = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "worker"],
                env=bot.env,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        try:
            yield Fleet(bot, extra)
        finally:
            for worker in extra:
                worker.terminate()
            for worker in extra:
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


def member_id(m: int) -> str:
    return f"UBTMR{m:04d}"


def notice(org_id: str, run: str, i: int) -> Notice:
    target = DeliveryTarget("slack", org_id, "dm", user_id=member_id(i % MEMBERS))
    card = Card(
        blocks=[Header(f"Reminder Tmr{run}x{i}z"), Section("Interview with a candidate soon.")]
    )
    return Notice(target, card)


async def seed_members(store: Store, box: SecretBox, org_id: str) -> None:
    """MEMBERS members with Cronofy connected, as the people timers remind would be."""
    for m in range(MEMBERS):
        await store.put_member(
            Member(
                org_id,
                member_id(m),
                display_name=f"Member {m}",
                cronofy_sub=f"acc_bench_{m}",
                email=f"member{m}@example.com",
                access_token_enc=box.encrypt("bench-access-token"),
                connected=True,
            )
        )


async def write_jobs(store: Store, jobs: Iterator[Job]) -> float:
    """Enqueue `jobs` WRITE_BATCH at a time; returns the seconds it took."""
    started = time.perf_counter()
    batch: list[Job] = []
    for job in jobs:
        batch.append(job)
        if len(batch) >= WRITE_BATCH:
            await store.enqueue(batch)
            batch = []
    if batch:
        await store.enqueue(batch)
    return time.perf_counter() - started


def timers(org_id: str, run: str, dues: list[float], now: float) -> Iterator[Job]:
    for i, due in enumerate(dues):
        key = timer_key("notice", org_id, "bench", run, str(i))
        yield KIND.timer(org_id, notice(org_id, run, i), key=key, due=due, now=now)


def redis_cpu(
    target: Target, before: float | None, after: float | None, jobs: int
) -> dict[str, Any]:
    """redis-server's CPU per job, for a row of a Redis store."""
    if target.redis_pid is None:
        return {}
    return {"redis_cpu_ms_per_job": cpu_ms(before, after, jobs)}


def processes(workers: int) -> str:
    return f", serve + {workers} worker{'s' if workers > 1 else ''}" if workers else ""


def cpu_ms(before: float | None, after: float | None, jobs: int) -> float | None:
    if before is None or after is None or jobs == 0:
        return None
    return round((after - before) * 1000 / jobs, 3)


async def idle_cpu_ms_per_s(bot: BotProcess) -> float | None:
    """The serving process's CPU while nothing is due: its worker's polls, and the rest."""
    before = bot.cpu_seconds()
    await asyncio.sleep(IDLE_SECONDS)
    after = bot.cpu_seconds()
    return (
        None
        if before is None or after is None
        else round((after - before) * 1000 / IDLE_SECONDS, 1)
    )


def store_mb(target: Target) -> dict[str, Any]:
    if target.db_path is None:
        return {}
    files = target.db_path.parent.glob(target.db_path.name + "*")  # with -wal, -shm
    return {"db_file_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1)}


async def _firing(target: Target, count: int, workers: int, fake_url: str) -> Rows:
    orgs = bench_orgs(1, routed=False)
    org_id = orgs[0].org_id
    key = generate_key()
    box = SecretBox([key])
    await seed(target.make(), box, orgs)
    store = target.make()
    await store.open()
    rows: list[dict[str, Any]] = []
    try:
        await seed_members(store, box, org_id)
        async with (
            fleet(bot_env(target.url, key, fake_url), workers) as bot,
            aiohttp.ClientSession() as session,
        ):
            await asyncio.sleep(SETTLE)
            warm = (
                KIND.job(org_id, notice(org_id, "w", i), now=time.time()) for i in range(MEMBERS)
            )
            await write_jobs(store, warm)
            await drain(store)
            await forget_requests(session, fake_url)
            baseline = await _baseline(target, store, bot, session, fake_url, count, org_id)
            rows.append(baseline)
            run = f"t{target.name[0]}"
            spread = count / RATE
            first = time.time() + LEAD
            dues = [first + i * spread / count for i in range(count)]
            seeded_s = await write_jobs(store, timers(org_id, run, dues, time.time()))
            late_seed = time.time() > first
            await asyncio.sleep(max(0.0, first - time.time()))
            load_before = os.getloadavg()[0]
            cpu_before, redis_before = bot.cpu_seconds(), target.redis_cpu()
            await asyncio.sleep(max(0.0, dues[-1] - time.time()))
            drained = await drain(store)
            cpu_after, redis_after = bot.cpu_seconds(), target.redis_cpu()
            load_after = os.getloadavg()[0]
            got = await arrivals(session, fake_url, run, TOKEN)
            await forget_requests(session, fake_url)
    finally:
        await store.close()
    lags = [at - dues[i] for i, at in got.items()]
    cpu = cpu_ms(cpu_before, cpu_after, len(got))
    span = max(got.values(), default=first) - first
    rate = len(got) / span if span > 0 else 0.0
    # behind: a backlog built up, so the last timers came later than a poll or two late
    tail = [at - dues[i] for i, at in got.items() if i >= count * 0.95]
    keeps_up = percentile(tail, 50) <= BEHIND
    notes = [
        "keeps up" if keeps_up else f"behind: {rate:.0f}/s delivered, {count / spread:.0f}/s due",
        f"written in {seeded_s:.1f}s ({count / seeded_s:,.0f}/s)",
        # the lag moves with whatever else runs on the machine; the CPU per timer much less
        f"load average {load_before:.1f} → {load_after:.1f}",
    ]
    if late_seed:
        notes.append(f"writing them took longer than the {LEAD:.0f}s lead: lags are high")
    if not drained or len(got) < count:
        notes.append(f"{count - len(got)} not delivered within {DRAIN_TIMEOUT:.0f}s")
    bare_cpu = rows[0].get("cpu_ms_per_job")
    rows.append(
        {
            "bench": "timers",
            "target": f"{count:,} timers due over {spread:.0f}s{processes(workers)}",
            "store": target.name,
            "requests": count,
            "delivered": len(got),
            "rps": round(rate, 1),  # delivered per second, first due time to last arrival
            "p50_ms": round(percentile(lags, 50) * 1000, 1),
            "p99_ms": round(percentile(lags, 99) * 1000, 1),
            "max_ms": round(max(lags, default=float("nan")) * 1000, 1),
            "early": sum(
                1 for lag in lags if lag < 0
            ),  # fired before their due time: none expected
            "cpu_ms_per_job": cpu,
            "cpu_vs_bare": f"{cpu / bare_cpu:.2f}x" if bare_cpu and cpu else None,
            **redis_cpu(target, redis_before, redis_after, len(got)),
            "note": "; ".join(notes),
        }
    )
    return rows


async def _baseline(
    target: Target,
    store: Store,
    bot: Fleet,
    session: aiohttp.ClientSession,
    fake_url: str,
    count: int,
    org_id: str,
) -> dict[str, Any]:
    """The same notices all due at one moment (a backlog, as after an outage): a delivery's CPU
    with no due time to wait for. Written ahead of that moment, as the timers are, so neither
    window holds the writing."""
    jobs = min(count, BASELINE)
    run = f"b{target.name[0]}"
    now = time.time()
    release = now + BASELINE_LEAD

    def backlog() -> Iterator[Job]:
        for i in range(jobs):
            job = KIND.job(org_id, notice(org_id, run, i), now=now)
            job.not_before = release
            yield job

    await write_jobs(store, backlog())
    await asyncio.sleep(max(0.0, release - time.time()))
    cpu_before, redis_before = bot.cpu_seconds(), target.redis_cpu()
    drained = await drain(store)
    cpu_after, redis_after = bot.cpu_seconds(), target.redis_cpu()
    got = await arrivals(session, fake_url, run, TOKEN)
    await forget_requests(session, fake_url)
    span = max(got.values(), default=release) - release
    return {
        "bench": "timers",
        "target": f"{jobs:,} notices due at once (baseline){processes(len(bot.workers))}",
        "store": target.name,
        "requests": jobs,
        "delivered": len(got),
        "rps": round(len(got) / span, 1) if span > 0 else None,  # delivered per second
        "cpu_ms_per_job": cpu_ms(cpu_before, cpu_after, len(got)),
        **redis_cpu(target, redis_before, redis_after, len(got)),
        "note": "as fast as the worker(s) go" + ("" if drained else "; did not drain"),
    }


async def _memory(target: Target, pending: int, fake_url: str) -> list[dict[str, Any]]:
    orgs = bench_orgs(1, routed=False)
    org_id = orgs[0].org_id
    key = generate_key()
    box = SecretBox([key])
    await seed(target.make(), box, orgs)
    store = target.make()
    await store.open()
    env = bot_env(target.url, key, fake_url)
    rows: list[dict[str, Any]] = []

    async def row(state: str, bot: BotProcess, **extra: Any) -> dict[str, Any]:
        assert bot.process is not None
        memory = proc_memory_mb(bot.process.pid)
        figures: dict[str, Any] = {
            "bench": "timers_memory",
            "target": f"serve, {state}",
            "store": target.name,
            "rss_mb": round(memory.get("VmRSS", float("nan")), 1),
            "peak_rss_mb": round(memory.get("VmHWM", float("nan")), 1),
            "idle_cpu_ms_per_s": await idle_cpu_ms_per_s(bot),
            **store_mb(target),
            **extra,
        }
        if target.redis_url:
            figures["redis_used_mb"] = await redis_used_mb(target.redis_url)
        return figures

    try:
        await seed_members(store, box, org_id)
        async with BotProcess(env) as bot:
            await asyncio.sleep(SETTLE)
            rows.append(await row("empty outbox", bot))
            now = time.time()
            dues = [now + FAR + i for i in range(pending)]
            seconds = await write_jobs(store, timers(org_id, "m", dues, now))
            await asyncio.sleep(SETTLE)
            note = f"written in {seconds:.1f}s ({pending / seconds:,.0f}/s)"
            rows.append(await row(f"{pending:,} timers pending", bot, note=note))
        started = time.perf_counter()
        async with BotProcess(env) as bot:
            startup = time.perf_counter() - started
            await asyncio.sleep(SETTLE)
            note = f"start-up {startup:.2f}s (spawn to /healthz)"
            rows.append(await row(f"restarted on {pending:,} pending", bot, note=note))
        left = await store.outbox_depth()
        if left != pending:
            rows[-1]["note"] += f"; {pending - left} of them fired or were lost"
    finally:
        await store.close()
    return rows


async def _on(name: str, folder: Path, work: Callable[[Target], Awaitable[Rows]]) -> Rows:
    """`work` on a fresh store of kind `name` (SQLite file in `folder`, or a private Redis)."""
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    if name == "sqlite":
        path = folder / f"timers-{time.monotonic_ns()}.db"
        target = Target("sqlite", f"sqlite:///{path}", lambda: SQLiteStore(str(path)), None, path)
        return await work(target)
    if not RedisProcess.available():
        return [{"bench": "timers", "store": "redis", "skipped": "no redis-server"}]
    async with RedisProcess() as redis:
        url = redis.url
        pid = redis.process.pid if redis.process is not None else None
        return await work(Target("redis", url, lambda: RedisStore(url), url, redis_pid=pid))


async def run(quick: bool, store: str = "both", count: int | None = None, workers: int = 0) -> Rows:
    firing = count or (QUICK_COUNT if quick else COUNT)
    pending = QUICK_PENDING if quick else PENDING
    names = ("sqlite", "redis") if store == "both" else (store,)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-timers-") as tmp, fake_slack() as fake:
        folder = Path(tmp)
        for name in names:
            rows += await _on(name, folder, lambda t: _firing(t, firing, workers, fake))
            rows += await _on(name, folder, lambda t: _memory(t, pending, fake))
    return rows
