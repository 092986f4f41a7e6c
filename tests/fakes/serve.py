"""Run one fake in its own process: ``python -m tests.fakes.serve slack|botframework|cronofy --port N``.

Prints ``READY <url>`` on stdout once listening, then serves until SIGTERM/SIGINT. Inspect it
with ``GET <url>/_fake/requests`` (JSON list, credentials masked) and script it with
``POST <url>/_fake/control`` and a JSON command such as
``{"op": "fail_next", "key": "chat.postMessage", "status": 429, "retry_after": 1}``,
``{"op": "fail_for", "key": "*", "seconds": 5, "status": 503}``,
``{"op": "slow", "key": "token", "seconds": 2}``, ``{"op": "reset_connection", "key": "*"}``
or ``{"op": "reset"}``. ``spawn()`` starts one from a test and waits for it to listen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fakes.base import FakeServer
from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack

FAKES: dict[str, type[FakeServer]] = {
    "slack": FakeSlack,
    "botframework": FakeConnector,
    "cronofy": FakeCronofy,
}
_REPO = Path(__file__).resolve().parents[2]


async def _serve(kind: str, port: int, host: str) -> None:
    fake = FAKES[kind]()
    await fake.serve_here(port, host)
    print(f"READY {fake.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake._unbind()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.serve")
    parser.add_argument("kind", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.kind, args.port, args.host))


def spawn(kind: str, port: int = 0, timeout: float = 15.0) -> tuple[subprocess.Popen[str], str]:
    """Start a fake in a child process; returns the process and its base URL once listening.

    Stop it with ``proc.terminate(); proc.wait()``.
    """
    env = dict(os.environ, PYTHONPATH=str(_REPO), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.serve", kind, "--port", str(port)],
        cwd=_REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = _readline(proc, timeout)
    if not line.startswith("READY "):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise RuntimeError(f"fake {kind} did not start: {line!r}")
    return proc, line.split(" ", 1)[1].strip()


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    import threading

    result: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


if __name__ == "__main__":
    main()
