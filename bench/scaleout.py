"""Scale-out: callback intake requests/s of two serving processes sharing one Redis, against
one process on its own Redis, same load generator and connection count (CONNECTIONS, split
evenly over the two processes: two load loops, each with its own connections, in one
generator process).

Each phase gets a fresh Redis, and the orgs have no alert route: the figure is the intake
(signed callback checked, candidate, timeline, booking written), not a delivery backlog left
over from the previous phase. `cpu_ms_per_req` sums the CPU of every serving process.

Read the ratio with the machine's cores in mind: the serving processes, redis-server and the
load generator all share them, so on a 2-core machine a second process cannot double
anything; the row says how many cores there were.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from bench._pushload import bench_orgs, bot_env, callbacks, fake_slack, seed
from bench.common import BotProcess, LoadResult, RedisProcess, load, percentile
from bot.secrets import SecretBox, generate_key

CONNECTIONS = 32
ORGS = 4


async def _phase(processes: int, quick: bool, fake_url: str) -> dict[str, Any]:
    from bot.store.redis import RedisStore

    orgs = bench_orgs(ORGS, routed=False)
    key = generate_key()
    duration = 3.0 if quick else 8.0
    async with RedisProcess() as redis:
        await seed(RedisStore(redis.url), SecretBox([key]), orgs)
        bots = [BotProcess(bot_env(redis.url, key, fake_url)) for _ in range(processes)]
        for bot in bots:
            await bot.start()
        try:
            run = f"s{processes}{int(time.time())}"
            cpu_before = [bot.cpu_seconds() for bot in bots]
            generator_before = time.process_time()
            per_loop = CONNECTIONS // processes
            results: list[LoadResult] = await asyncio.gather(
                *(
                    load(
                        bot.url + orgs[n % ORGS].push_path,
                        callbacks(run, stride=processes, offset=n),
                        connections=per_loop,
                        duration=duration,
                        warmup=50,
                    )
                    for n, bot in enumerate(bots)
                )
            )
            cpu_after = [bot.cpu_seconds() for bot in bots]
            generator_cpu = time.process_time() - generator_before
        finally:
            for bot in bots:
                bot.stop()
    requests = sum(r.requests for r in results)
    errors = sum(r.errors for r in results)
    seconds = max(r.seconds for r in results)
    latencies = [x for r in results for x in r.latencies]
    cpu = sum(
        (after - before)
        for before, after in zip(cpu_before, cpu_after, strict=True)
        if before is not None and after is not None
    )
    sent = requests + errors + 50 * processes  # the warm-up is inside the CPU window
    return {
        "bench": "scaleout",
        "target": f"{processes} slotbot process{'es' if processes > 1 else ''}",
        "store": "redis",
        "connections": CONNECTIONS,
        "requests": requests,
        "errors": errors,
        "rps": round(requests / seconds, 1) if seconds > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "cpu_ms_per_req": round(cpu * 1000 / sent, 3) if sent else None,
        # cores busy over the run (the warm-up makes these slightly high): where the CPU went
        "note": f"servers used {cpu / seconds:.2f} cores, load generator {generator_cpu / seconds:.2f}",
    }


async def run(quick: bool) -> list[dict[str, Any]]:
    if not RedisProcess.available():
        return [{"bench": "scaleout", "store": "redis", "skipped": "no redis-server"}]
    cores = os.cpu_count() or 0
    with fake_slack() as fake_url:
        one = await _phase(1, quick, fake_url)
        two = await _phase(2, quick, fake_url)
    ratio = round(two["rps"] / one["rps"], 2) if one["rps"] else None
    one["vs_1_process"] = 1.0
    two["vs_1_process"] = ratio
    two["note"] += f"; the ratio is bounded by the machine's {cores} cores, shared with redis"
    return [one, two]
