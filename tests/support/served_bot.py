"""`python -m bot serve` as a child process a test can start, SIGKILL and start again.

Its stderr goes to a file (so a killed process loses nothing already written) and is handed
to the secret watch when the process ends.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from bot.alerts.hmac import HEADER, compute_push_hmac
from tests.scenarios.test_serve import ROOT, clean_env, wait_until_up
from tests.support.redis_server import free_port
from tests.support.secret_watch import watch_text

STOP_TIMEOUT = 30.0


class ServedBot:
    """One `python -m bot serve` (or `worker`) at a time, on a fixed port, with the
    environment given. Several may share a folder: each names its log after itself."""

    def __init__(
        self, workdir: Path, env: Mapping[str, str], *, command: str = "serve", name: str = ""
    ) -> None:
        self.workdir = workdir
        self.command = command
        self.name = name or command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **clean_env(**env),
            "BOT_HOST": "127.0.0.1",
            "BOT_PORT": str(self.port),
            "PYTHONPATH": str(ROOT),
        }
        self._proc: subprocess.Popen[str] | None = None
        self._runs = 0

    def start(self) -> None:
        assert self._proc is None, "already running"
        self._runs += 1
        log = (self.workdir / f"{self.name}-{self._runs}.log").open("w")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bot", self.command],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log.close()
        if self.command == "serve":
            wait_until_up(f"{self.url}/healthz", self._proc)
        else:
            self._wait_for_line("outbox worker", STOP_TIMEOUT)

    def _wait_for_line(self, text: str, timeout: float) -> None:
        """A process without a port is up once it has said so in its log."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self._proc is not None and self._proc.poll() is None, self.output()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start: {self.output()[-2000:]}")
            time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL: no shutdown hook, no worker stop, no store close."""
        proc = self._take()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)
        self._collect()

    def stop(self) -> int:
        """SIGINT, as Ctrl-C: a clean stop; returns the exit code."""
        proc = self._take()
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        self._collect()
        return code

    def ensure_stopped(self) -> None:
        if self._proc is not None:
            self.kill9()

    def output(self, run: int | None = None) -> str:
        return (self.workdir / f"{self.name}-{run or self._runs}.log").read_text()

    def _take(self) -> subprocess.Popen[str]:
        assert self._proc is not None, "not running"
        proc, self._proc = self._proc, None
        return proc

    def _collect(self) -> None:
        watch_text(f"python -m bot {self.command} {self.name} (run {self._runs})", self.output())


async def post_callbacks(
    url: str, secret: str, bodies: list[bytes], *, concurrency: int = 16, attempts: int = 50
) -> list[int]:
    """POST signed Cronofy callbacks as Cronofy does: a 5xx or a refused connection is tried
    again (after a short pause), anything else is final. Returns each callback's final status."""
    statuses = [0] * len(bodies)
    gate = asyncio.Semaphore(concurrency)

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        body = bodies[index]
        headers = {
            HEADER: compute_push_hmac(secret, body),
            "Content-Type": "application/json; charset=utf-8",
        }
        async with gate:
            for _ in range(attempts):
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[index] = response.status
                except (aiohttp.ClientError, OSError):
                    statuses[index] = 0
                if 0 < statuses[index] < 500:
                    return
                await asyncio.sleep(0.1)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(*(one(session, i) for i in range(len(bodies))))
    return statuses


async def until(check: Any, timeout: float, what: str) -> None:
    """Poll an async predicate; `timeout` is an upper bound, never a timing assertion."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout:g}s: {what}")
        await asyncio.sleep(0.05)
