"""Slotbot and the Cronofy stand-in, served on 127.0.0.1 by an event loop of their own.

The loop runs in a thread so the terminal keeps the main thread (readline and Ctrl-C live
there); the session hands it coroutines with `call`. The app is the real one (`create_app`,
every core feature, the outbox worker) served on a socket bound before the settings are made,
so `BOT_PUBLIC_URL` is the port it listens on and the OAuth redirect and push callbacks really
go over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from adapters.console import log_lines
from adapters.console.delivery import ConsoleDelivery
from adapters.console.platform import ConsolePlatform
from adapters.console.standin import CronofyStandIn
from bot.app import create_app
from bot.config import Settings
from bot.outbox.lifecycle import wake_worker
from bot.runtime import SERVICES, Services
from bot.secrets import generate_key

log = logging.getLogger(__name__)

T = TypeVar("T")
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
SETTLE_POLL = 0.05


def bound_socket() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def console_settings(folder: Path, port: int, cronofy_url: str, log_level: str) -> Settings:
    """Settings made from a mapping, never from the environment: a store in `folder`, a fresh
    key, Slotbot on `port` and Cronofy at the stand-in."""
    return Settings.from_env(
        {
            "BOT_PUBLIC_URL": f"http://{HOST}:{port}",
            "BOT_HOST": HOST,
            "BOT_PORT": str(port),
            "BOT_STORE_URL": f"sqlite:///{folder / 'slotbot.db'}",
            "BOT_SECRET_KEYS": generate_key(),
            "CRONOFY_API_URL": cronofy_url,
            "CRONOFY_APP_URL": cronofy_url,
            "CRONOFY_TIMEOUT": "5",
            "LOG_LEVEL": log_level,
        }
    )


class Running:
    """One console session's servers. `start()` returns once both answer; `stop()` shuts the
    app down as `serve` does (the worker finishes its job, the store closes)."""

    def __init__(
        self, folder: Path, delivery: ConsoleDelivery, *, log_level: str = "warning"
    ) -> None:
        self.folder = folder
        self.delivery = delivery
        self.log_level = log_level
        self.standin = CronofyStandIn()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="slotbot-console", daemon=True)
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `work` on Slotbot's loop and wait for its result (KeyboardInterrupt stops the
        wait, not the work)."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    @property
    def app(self) -> web.Application:
        assert self._app is not None, "not started"
        return self._app

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    def start(self) -> None:
        self._thread.start()
        try:
            self.call(self._start(), START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    async def _start(self) -> None:
        await self.standin.start(bound_socket())
        sock = bound_socket()
        port = sock.getsockname()[1]
        settings = console_settings(self.folder, port, self.standin.url, self.log_level)
        self._app = create_app(settings, platforms=[ConsolePlatform(self.delivery)])
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self.url = settings.public_url
        log.info(log_lines.CONSOLE_STARTED, self.url, self.standin.url, self.folder)

    def stop(self) -> None:
        if self._thread.is_alive():
            try:
                self.call(self._stop(), STOP_TIMEOUT)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive() and not self.loop.is_closed():
            self.loop.close()
        log.info(log_lines.CONSOLE_STOPPED)

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.standin.stop()

    async def settle(self, within: float) -> bool:
        """Wait until the outbox is empty (every delivery made and acked), at most `within`
        seconds; False when it is not."""
        wake_worker(self.app)
        store = self.services.store
        deadline = time.monotonic() + within
        while True:
            depth = await store.outbox_depth()
            if depth == 0:
                return True
            if time.monotonic() >= deadline:
                log.info(log_lines.CONSOLE_SETTLE_TIMEOUT, depth, within)
                return False
            await asyncio.sleep(SETTLE_POLL)
