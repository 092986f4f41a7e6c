"""`python -m bot serve --processes N`: N serving processes on one port.

The parent starts N children, each `python -m bot serve` of its own (its own event loop,
store connection and outbox worker) binding the port with SO_REUSEPORT, so the kernel spreads
the connections over them. The parent only supervises: SIGTERM or SIGINT is passed on to every
child, each finishes its in-flight work as a single `serve` does, and the parent returns once
they have all stopped (a child still running after CHILD_STOP_TIMEOUT is killed). A child that
exits while starting (a wrong setting, a store it cannot open) stops the others and the parent
exits with its code; one that dies later is replaced.

Everything shared lives in the store, so what one process does the others see: dedupe claims,
the outbox and its per-conversation lanes, timers (each fired by one worker), migrations (run
once, under the store's lock, by whichever child opens the store first). SQLite: each child has
its own connection to the one file in WAL mode; their writes take turns on SQLite's lock
(waiting up to BUSY_TIMEOUT), so the file must be on a local disk (never a network share,
where SQLite's locks do not hold). What each process keeps for itself: the per-address
limits of the public pages and the read API (each process counts its own, so N processes allow
up to N times the limit) and its caches.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

from bot import logs
from bot.config import Settings

log = logging.getLogger("bot")

CHILD_STOP_TIMEOUT = 30.0  # longer than a child's own drain (its worker, Slack replies)
STARTING_WINDOW = 15.0  # a child that exits this soon after it was started failed to start
POLL = 0.2


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    started: float


def _spawn() -> _Child:
    argv = [sys.executable, "-m", "bot", "serve", "--reuse-port"]
    return _Child(subprocess.Popen(argv), time.monotonic())  # noqa: S603 - our own command


def serve_processes(settings: Settings, count: int) -> int:
    """Run `count` serving processes until SIGTERM/SIGINT; the exit code for `serve`."""
    if not hasattr(socket, "SO_REUSEPORT"):
        print("serve --processes needs SO_REUSEPORT (Linux, BSD, macOS)", file=sys.stderr)
        return 2
    if settings.port == 0:
        print("serve --processes needs a fixed BOT_PORT, not 0", file=sys.stderr)
        return 2
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    children = [_spawn() for _ in range(count)]
    log.info(
        logs.PREFORK_STARTED,
        count,
        settings.port,
        ",".join(str(c.process.pid) for c in children),
    )
    code = 0
    while not stopping:
        time.sleep(POLL)
        for index, child in enumerate(children):
            status = child.process.poll()
            if status is None or stopping:
                continue
            if time.monotonic() - child.started < STARTING_WINDOW:
                log.error(logs.PREFORK_CHILD_FAILED, child.process.pid, status)
                code = status or 1
                stopping = True
                break
            log.warning(logs.PREFORK_CHILD_DIED, child.process.pid, status)
            children[index] = _spawn()
    _stop_all(children)
    return code


def _stop_all(children: list[_Child]) -> None:
    alive = [c.process for c in children if c.process.poll() is None]
    log.info(logs.PREFORK_STOPPING, len(alive))
    for process in alive:
        try:
            process.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + CHILD_STOP_TIMEOUT
    for process in alive:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning(logs.PREFORK_KILLED, process.pid, CHILD_STOP_TIMEOUT)
            process.kill()
            process.wait()
