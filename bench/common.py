"""What every benchmark shares: a load generator, and the processes it measures.

- `load()`: N connections for D seconds (or M requests) against one URL, 127.0.0.1 only;
  returns requests/s and latency percentiles.
- `cpu_seconds()`: CPU a process has used, for CPU time per request (steady on a busy box).
- `BotProcess`: `python -m bot serve` in a subprocess with a given environment, ready once
  /healthz answers.
- `BareProcess`: a bare aiohttp handler that reads the body and returns 200 — the ceiling
  the bot is compared with, run the same way (`python -m bench.common bare --port N`).
- `FloorProcess`: that handler plus what no durable intake can skip (bench.floor).
- `RedisProcess`: a private redis-server on a free port, set up as the README says (and the
  tests run it): append-only file, fsynced before each answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import aiohttp
from aiohttp import web

from bot import eventloop
from bot.store.base import Store

REPO = Path(__file__).resolve().parents[1]
LOCALHOST = "127.0.0.1"
READY_TIMEOUT = 30.0

# (body, headers) for the i-th request
RequestMaker = Callable[[int], tuple[bytes, dict[str, str]]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far; None where /proc is not there.

    Requests/s on a shared machine move with whatever else runs; the CPU a server spends
    per request does not, so benchmarks print both."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The pids of a process's children (Linux); none where /proc does not list them."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listed:
            return [int(child) for child in listed.read().split()]
    except OSError:
        return []


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process in MiB; empty where /proc is not there."""
    figures: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    figures[name] = int(value.split()[0]) / 1024  # kB
    except OSError:
        pass
    return figures


async def redis_used_mb(url: str) -> float | None:
    import redis.asyncio as aioredis  # here: the bare baseline process never loads redis

    client = aioredis.Redis.from_url(url)
    try:
        info = await client.info("memory")
        return round(int(info["used_memory"]) / 2**20, 1)
    finally:
        await client.aclose()


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000


async def load(
    url: str,
    make: RequestMaker,
    *,
    connections: int = 32,
    duration: float | None = 5.0,
    total: int | None = None,
    warmup: int = 50,
    ok_statuses: tuple[int, ...] = (200,),
) -> LoadResult:
    """POST to `url` from `connections` concurrent clients until `duration` seconds have
    passed or `total` requests were sent (whichever first; at least one must be given)."""
    if not url.startswith(f"http://{LOCALHOST}:"):
        raise ValueError("benchmarks only load 127.0.0.1")
    if duration is None and total is None:
        raise ValueError("give a duration or a request count")
    limit = total if total is not None else 10_000_000
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        for i in range(warmup):  # open connections, let the server warm its caches
            body, headers = make(limit + i)
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors = 0
        counter = iter(range(limit))
        started = time.perf_counter()
        deadline = started + duration if duration is not None else float("inf")

        async def client() -> None:
            nonlocal errors
            for index in counter:
                if time.perf_counter() >= deadline:
                    return
                body, headers = make(index)
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                        if response.status not in ok_statuses:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), errors, elapsed, latencies, statuses)


async def wait_http(
    url: str, process: subprocess.Popen[bytes], timeout: float = READY_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the process exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


# BENCH_PYSPY=<folder>: every measured process is sampled by py-spy (on PATH or in the venv)
# while it runs, one flame graph per process (<folder>/<argv>-<pid>.svg; BENCH_PYSPY_FORMAT
# raw|speedscope for the others; BENCH_PYSPY_GIL=1 samples only the thread holding the GIL).
# For finding where the time goes; the figures of such a run carry the sampler's cost.
PYSPY_ENV = "BENCH_PYSPY"


def _profile(pid: int) -> subprocess.Popen[bytes] | None:
    folder = os.environ.get(PYSPY_ENV)
    if not folder:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    fmt = os.environ.get("BENCH_PYSPY_FORMAT", "flamegraph")
    suffix = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}.get(fmt, fmt)
    Path(folder).mkdir(parents=True, exist_ok=True)
    out = Path(folder) / f"{pid}.{suffix}"
    command = [spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking"]
    if os.environ.get("BENCH_PYSPY_GIL"):
        # only the thread holding the GIL: where the CPU goes, without the threads waiting
        command.append("--gil")
    return subprocess.Popen(
        [*command, "--format", fmt, "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class _Process:
    argv: list[str]
    env: dict[str, str]
    health_path = "/healthz"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._profiler: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """The process's CPU, and its children's (`serve --processes N`) while they run."""
        if self.process is None:
            return None
        pid = self.process.pid
        total = cpu_seconds(pid)
        if total is None:
            return None
        for child in children(pid):
            total += cpu_seconds(child) or 0.0
        return total

    async def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._profiler = _profile(self.process.pid)
        try:
            await wait_http(self.url + self.health_path, self.process)
        except RuntimeError:
            self._log.seek(0)
            sys.stderr.write(self._log.read().decode("utf-8", "replace")[-4000:])
            self.stop()
            raise

    def stop(self) -> None:
        if self._profiler is not None:  # writes its file on SIGINT
            self._profiler.send_signal(signal.SIGINT)
            self._profiler.wait(timeout=30)
            self._profiler = None
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()


class BotProcess(_Process):
    """`python -m bot serve` on 127.0.0.1 with `env` added to a clean environment."""

    def __init__(self, env: dict[str, str], port: int | None = None, *, processes: int = 1) -> None:
        super().__init__(port)
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BOT_", "SLACK_", "MICROSOFT_", "TEAMS_", "CRONOFY_"))
            # the loop is chosen for the whole run (the bare baseline reads it too)
            or k == eventloop.VARIABLE
        }
        self.env = {
            **base,
            "BOT_HOST": LOCALHOST,
            "BOT_PORT": str(self.port),
            "LOG_LEVEL": "warning",
            **env,
        }
        self.argv = [sys.executable, "-m", "bot", "serve"]
        if processes > 1:
            self.argv += ["--processes", str(processes)]


class BareProcess(_Process):
    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.env = dict(os.environ)
        self.argv = [sys.executable, "-m", "bench.common", "bare", "--port", str(self.port)]


class FloorProcess(_Process):
    """bench.floor: the bare handler plus the HMAC check, the JSON parse and one durable write
    to `store_url` (a SQLite file or a Redis server)."""

    def __init__(self, store_url: str, port: int | None = None) -> None:
        super().__init__(port)
        self.env = dict(os.environ)
        self.argv = [
            sys.executable,
            "-m",
            "bench.floor",
            "--port",
            str(self.port),
            "--store",
            store_url,
        ]


class RedisProcess:
    """A private redis-server in a temporary folder, with the persistence settings the README
    asks for (`REDIS_CONF`: append-only file, fsynced before each answer), so the Redis figures
    are those of a Redis that loses nothing Slotbot acknowledged."""

    def __init__(self) -> None:
        self.port = free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="slotbot-bench-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    async def __aenter__(self) -> RedisProcess:
        from bot.store.redis.durability import REDIS_CONF  # not for the bare baseline

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                LOCALHOST,
                "--dir",
                self._folder.name,
                "--save",
                "",
                "--daemonize",
                "no",
                *(part for name, value in REDIS_CONF.items() for part in (f"--{name}", value)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with socket.create_connection((LOCALHOST, self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self._folder.cleanup()


# --- the bare baseline ------------------------------------------------------------------


# how long `drain` waits for the outbox to empty, and how long it goes on once it stops shrinking
DRAIN_TIMEOUT = 60.0
STALL_TIMEOUT = 10.0


async def drain(store: Store, *, poll: float = 0.2) -> bool:
    """Wait until the outbox is empty (every job delivered and acked); False when it stopped
    shrinking or DRAIN_TIMEOUT ran out first."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    last, progress = -1, time.monotonic()
    while time.monotonic() < deadline:
        depth = await store.outbox_depth()
        if depth == 0:
            return True
        if depth != last:
            last, progress = depth, time.monotonic()
        elif time.monotonic() - progress > STALL_TIMEOUT:
            return False
        await asyncio.sleep(poll)
    return False


async def serve_until_signalled(app: web.Application, port: int) -> None:
    """Serve `app` on LOCALHOST:port until SIGINT or SIGTERM: the bare baselines."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOCALHOST, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


async def _bare(port: int) -> None:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    app.router.add_get("/healthz", health)
    await serve_until_signalled(app, port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.common")
    parser.add_argument("what", choices=["bare"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # the same event loop as `python -m bot serve` (BOT_UVLOOP), so the ratio compares handlers
    eventloop.run(_bare(args.port), use_uvloop=eventloop.wanted())


if __name__ == "__main__":
    main()
