"""How fast Slotbot answers a Teams message compared with a bare botbuilder bot.

Two servers run in a child process (so the load generator does not share their event loop):
Slotbot's full app (TEAMS_DEV_MODE, so no token check; size cap, parse, redelivery dedupe on
SQLite, conversation references, the command layer, an Adaptive Card reply) and a bare
botbuilder `CloudAdapter` + `ActivityHandler` that only replies with a text message. A Teams
turn runs inside the HTTP request, so both acknowledge only after their reply reached the
connector: a local sink standing in for the Bot Framework connector. Both get the same
`help` message activities (each with a fresh id) from 32 concurrent connections.

    python -m bench.teams_ack [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.common import load
from bot import eventloop

CONNECTIONS = 32
TENANT = "bench-tenant"


# ------------------------------------------------------------------ servers (child process)


async def _start(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    addresses = runner.addresses
    port = int(addresses[0][1])
    return runner, port


def _sink_app() -> web.Application:
    """The Bot Framework connector stand-in: every send or reply gets an activity id."""
    ids = itertools.count(1)

    async def activity(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": f"act-{next(ids)}"})

    app = web.Application()
    app.router.add_route("*", "/v3/conversations/{cid}/activities", activity)
    app.router.add_route("*", "/v3/conversations/{cid}/activities/{aid}", activity)
    return app


def _bare_bot_app() -> web.Application:
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )
    from botbuilder.schema import Activity

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))

    class Bare(ActivityHandler):  # type: ignore[misc]
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity("ok")

    bot = Bare()

    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        await adapter.process_activity("", activity, bot.on_turn)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


async def serve() -> None:
    """Child process: start the sink and both bots, print their ports, run until stdin closes."""
    from bot.app import create_app
    from bot.config import Settings
    from bot.secrets import SecretBox, generate_key
    from bot.store.sqlite import SQLiteStore

    sink_runner, sink_port = await _start(_sink_app())
    folder = tempfile.mkdtemp(prefix="slotbot-bench-")
    store = SQLiteStore(os.path.join(folder, "bench.db"))
    settings = Settings.from_env({"TEAMS_DEV_MODE": "1", "LOG_LEVEL": "warning"})
    app = create_app(settings, store=store, secrets=SecretBox([generate_key()]), run_worker=False)
    slotbot_runner, slotbot_port = await _start(app)
    bare_runner, bare_port = await _start(_bare_bot_app())
    sys.stdout.write(
        json.dumps({"slotbot": slotbot_port, "bare": bare_port, "sink": sink_port}) + "\n"
    )
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # parent closes stdin when done
    await bare_runner.cleanup()
    await slotbot_runner.cleanup()
    await sink_runner.cleanup()


# ------------------------------------------------------------------ load (parent process)


def _activity(sink_port: int, n: int) -> bytes:
    user = f"29:user-{n % 50}"
    return json.dumps(
        {
            "type": "message",
            "id": f"m-{n}-{time.monotonic_ns()}",
            "channelId": "msteams",
            "serviceUrl": f"http://127.0.0.1:{sink_port}/",
            "from": {"id": user, "name": "Bench User", "aadObjectId": f"aad-{n % 50}"},
            "recipient": {"id": "28:bench-bot", "name": "Slotbot"},
            "conversation": {"id": f"a:{user}", "conversationType": "personal"},
            "channelData": {"tenant": {"id": TENANT}},
            "text": "help",
        }
    ).encode()


async def _load(url: str, sink_port: int, seconds: float) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}

    def make(n: int) -> tuple[bytes, dict[str, str]]:
        return _activity(sink_port, n), headers

    # Bot Framework answers a message activity with 200 or 201
    result = await load(
        url, make, connections=CONNECTIONS, duration=seconds, ok_statuses=(200, 201)
    )
    return {
        "requests": result.requests,
        "errors": result.errors,
        "rps": round(result.rps, 1),
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
    }


async def run(quick: bool) -> list[dict[str, Any]]:
    seconds = 2.0 if quick else 8.0
    rounds = 1 if quick else 2
    root = str(Path(__file__).resolve().parents[1])
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.teams_ack",
        "--serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=root,
    )
    totals: dict[str, list[dict[str, Any]]] = {}
    try:
        assert child.stdout is not None and child.stdin is not None
        line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        ports = json.loads(line)
        targets = {
            "bare_botbuilder": f"http://127.0.0.1:{ports['bare']}/api/messages",
            "slotbot": f"http://127.0.0.1:{ports['slotbot']}/api/messages",
        }
        for url in targets.values():  # warm up: imports, first SQLite writes, connector pools
            await _load(url, ports["sink"], 0.3)
        totals = {name: [] for name in targets}
        for _ in range(rounds):  # alternate, so background noise hits both alike
            for name, url in targets.items():
                totals[name].append(await _load(url, ports["sink"], seconds))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), timeout=10)
        except TimeoutError:
            child.kill()
            await child.wait()

    rows: list[dict[str, Any]] = []
    for name, runs in totals.items():
        best = max(runs, key=lambda r: r["rps"])
        rows.append(
            {
                "bench": "teams_ack",
                "case": name,
                "command": "help (Adaptive Card reply)" if name == "slotbot" else "text reply",
                "connections": CONNECTIONS,
                "seconds": seconds,
                **best,
            }
        )
    if len(rows) == 2:
        bare, ours = rows
        ratio = ours["rps"] / bare["rps"] if bare["rps"] else 0.0
        rows.append({"bench": "teams_ack", "case": "slotbot_vs_bare", "ratio": round(ratio, 2)})
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.teams_ack")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        # both apps on the loop `python -m bot serve` runs on (BOT_UVLOOP)
        eventloop.run(serve(), use_uvloop=eventloop.wanted())
        return 0
    for row in asyncio.run(run(args.quick)):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
