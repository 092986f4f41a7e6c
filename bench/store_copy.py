"""`python -m bot store copy` of a store holding EVENTS timeline events, SQLite → Redis and
back: seconds and the copying process's peak memory (VmHWM, from wait4's ru_maxrss), at two
store sizes so that memory can be seen not to grow with the store; and the start-up time of
`python -m bot serve` on that store (opening it, checking and migrating its schema) beside
start-up on an empty store.

The bare baseline, run the same way in the same sitting: a script that moves the same
timeline rows with nothing of Slotbot (sqlite3 reads, raw RPUSHes through a redis pipeline,
1,000 at a time). It is the floor for moving that many bytes with these two clients in one
Python process; the rest of `store copy` is records read back into types, every other kind
of record, and the checks.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, BotProcess, RedisProcess
from bot.secrets import SecretBox, generate_key
from bot.store.migrations.renames import V2_CLAIM_PREFIXES, V2_KV_NAMESPACES
from bot.store.records import Booking, Candidate, Member, Org, TimelineEntry
from bot.store.sqlite import SQLiteStore
from bot.store.transfer import BATCH, ClaimItem, Item, TimelineItem

EVENTS = 100_000
SIZES = (10_000, EVENTS)
QUICK_SIZES = (2_000, 10_000)
EVENTS_PER_CANDIDATE = 10
ORG = "slack:TBENCHCOPY"


async def make_store(path: Path, events: int, key: str) -> None:
    """A store of `events` timeline entries: one org, a member, events/10 candidates each
    with a booking and ten entries."""
    box = SecretBox([key])
    store = SQLiteStore(str(path))
    await store.open()
    try:
        await store.import_records(
            [
                Org(org_id=ORG, platform="slack", org_key="bench-copy-key"),
                Member(ORG, "U1", access_token_enc=box.encrypt("token"), connected=True),
            ]
        )
        batch: list[Item] = []
        for c in range(events // EVENTS_PER_CANDIDATE):
            cid = f"cand{c:07d}"
            batch.append(Candidate(ORG, cid, f"c{c}@example.com", name=f"Candidate {c}"))
            batch.append(Booking(ORG, f"b{c}", cid, "U1", start="2031-01-01T10:00:00Z"))
            for e in range(EVENTS_PER_CANDIDATE):
                entry = TimelineEntry(kind="booked", at=1.8e9 + e, booking_id=f"b{c}")
                batch.append(TimelineItem(ORG, cid, entry))
                # each callback leaves its dedupe claim (kept for days)
                batch.append(ClaimItem(f"cronofy_callback:{cid}:{e}", time.time() + 7 * 86400))
            if len(batch) >= BATCH:
                await store.import_records(batch)
                batch = []
        if batch:
            await store.import_records(batch)
    finally:
        await store.close()


def as_version_1(path: Path) -> None:
    """The store as the first release left it: the names version 2 renamed back to their
    version-1 form, the timer column and the indexes of versions 3 and 4 taken away, and the
    version 1 (what `serve` then migrates, so its start-up pays for the migration)."""
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX IF EXISTS outbox_timer")
        db.execute("ALTER TABLE outbox DROP COLUMN timer_key")
        db.execute("DROP INDEX IF EXISTS timeline_by_org")
        for old, new in V2_KV_NAMESPACES.items():
            db.execute("UPDATE kv SET namespace = ? WHERE namespace = ?", (old, new))
        for old, new in V2_CLAIM_PREFIXES.items():
            db.execute(
                "UPDATE dedupe SET key = ? || substr(key, ?) WHERE substr(key, 1, ?) = ?",
                (old, len(new) + 1, len(new), new),
            )
        db.execute("UPDATE schema_version SET version = 1")


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a command to its end: (seconds, its peak resident memory in MiB, its output)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode("utf-8", "replace")
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:5])} failed:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, output  # ru_maxrss is in KiB on Linux


def bot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def _row(
    target: str, store: str, events: int, seconds: float, peak: float, **extra: Any
) -> dict[str, Any]:
    return {
        "bench": "store_copy",
        "target": target,
        "store": store,
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "peak_rss_mb": round(peak, 1),
        **extra,
    }


async def startup_seconds(store_url: str, key: str) -> float:
    started = time.perf_counter()
    async with BotProcess(
        {"BOT_STORE_URL": store_url, "BOT_SECRET_KEYS": key, "TEAMS_DEV_MODE": "1"}
    ):
        return time.perf_counter() - started


async def run(quick: bool) -> list[dict[str, Any]]:
    if not RedisProcess.available():
        return [{"bench": "store_copy", "skipped": "no redis-server"}]
    rows: list[dict[str, Any]] = []
    key = generate_key()
    with tempfile.TemporaryDirectory(prefix="slotbot-bench-copy-") as folder:
        base = Path(folder)
        async with RedisProcess() as redis:
            sizes = QUICK_SIZES if quick else SIZES
            for n, events in enumerate(sizes):
                source = base / f"source-{events}.db"
                await make_store(source, events, key)
                redis_url = redis.url.rsplit("/", 1)[0] + f"/{n + 1}"
                bare_url = redis.url.rsplit("/", 1)[0] + f"/{n + 8}"
                bare_s, bare_peak, _ = run_measured(
                    [sys.executable, "-m", "bench.store_copy", "bare", str(source), bare_url]
                )
                rows.append(_row("bare rows copy", "sqlite→redis", events, bare_s, bare_peak))
                seconds, peak, out = run_measured(
                    bot("store", "copy", f"sqlite:///{source}", redis_url)
                )
                assert "✓" in out, out
                rows.append(
                    _row(
                        "slotbot store copy",
                        "sqlite→redis",
                        events,
                        seconds,
                        peak,
                        vs_bare=f"{bare_s / seconds:.2f}x",
                    )
                )
                back = base / f"back-{events}.db"
                seconds, peak, out = run_measured(
                    bot("store", "copy", redis_url, f"sqlite:///{back}")
                )
                assert "✓" in out, out
                rows.append(_row("slotbot store copy", "redis→sqlite", events, seconds, peak))
            empty = base / "empty.db"
            empty_s = await startup_seconds(f"sqlite:///{empty}", key)
            old = base / f"source-{sizes[-1]}.db"
            as_version_1(old)
            migrating_s = await startup_seconds(f"sqlite:///{old}", key)
            current_s = await startup_seconds(f"sqlite:///{old}", key)
            for label, seconds in (
                ("empty store", empty_s),
                (f"version-1 store of {sizes[-1]:,} events, migrated at start", migrating_s),
                ("the same store, already migrated", current_s),
            ):
                rows.append(
                    {
                        "bench": "store_copy",
                        "target": f"serve start-up, {label}",
                        "store": "sqlite",
                        "seconds": round(seconds, 2),
                        "note": "spawn to /healthz answering; includes the schema check/migration",
                    }
                )
    return rows


def bare_copy(sqlite_path: str, redis_url: str) -> None:
    """The baseline: timeline rows straight from sqlite3 into Redis lists, nothing else."""
    import sqlite3

    import redis

    client = redis.Redis.from_url(redis_url)
    db = sqlite3.connect(sqlite_path)
    pipe = client.pipeline(transaction=False)
    pending = 0
    for org_id, candidate_id, doc in db.execute(
        "SELECT org_id, candidate_id, doc FROM timeline ORDER BY seq"
    ):
        pipe.rpush(f"bare:timeline:{org_id}|{candidate_id}", doc)
        pending += 1
        if pending >= 1000:
            pipe.execute()
            pending = 0
    pipe.execute()
    db.close()
    client.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak {peak} KiB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["bare"]:
        bare_copy(sys.argv[2], sys.argv[3])
