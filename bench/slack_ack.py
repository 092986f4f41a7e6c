"""How fast Slotbot acks `/schedule link` compared with a bare slack-bolt app.

Two servers run in a child process (so the load generator does not share their event loop):
Slotbot's full app (signature check, replay dedupe on SQLite, bolt, the command layer
replying through response_url to a local sink) with one connected recruiter, and a bare
bolt `AsyncApp` whose `/schedule` handler only acks. Both get the same really signed
requests from 32 concurrent connections; each request has a fresh trigger_id, so none is
a replay. Target: Slotbot >= 0.8 x the bare throughput, p99 < 100 ms. `cpu_ms_per_req` is
the serving child's CPU per request while each app is loaded alone (/proc): it moves less
with the machine than requests/s do.

    python -m bench.slack_ack [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bench.common import cpu_seconds, free_port, load
from bot import eventloop

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
CONNECTIONS = 32
TEAM = "T1"
RECRUITER = "U1"
PUBLIC_LINK = "https://app.cronofy.com/pls/BenchLink1"


# ------------------------------------------------------------------ servers (child process)


async def _sink() -> web.AppRunner:
    """Slack Web API + response_url stand-in: answers every call with ok."""

    async def api(request: web.Request) -> web.Response:
        await request.read()
        method = request.match_info.get("method", "")
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": TEAM, "user_id": "UBOT", "bot_id": "BBOT", "url": "x"}
            )
        if method == "users.info":
            return web.json_response({"ok": True, "user": {"id": RECRUITER, "is_admin": False}})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/hook/{rest:.*}", api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    return runner


async def _start(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


def _bare_bolt_app(api_url: str) -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=SIGNING_SECRET,
        name="bare",
    )

    @bolt.command("/schedule")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


async def _seed(store: Any, secrets: Any) -> None:
    from bot.store.records import CronofyConfig, Member, Org

    org_id = f"slack:{TEAM}"
    await store.put_org(
        Org(
            org_id=org_id,
            platform="slack",
            org_key="benchkey",
            cronofy=CronofyConfig(
                client_id="cid",
                client_secret_enc=secrets.encrypt("secret"),
                data_center="us",
                configured_by=RECRUITER,
                configured_at=1.0,
            ),
            admins=[RECRUITER],
        )
    )
    await store.put_member(
        Member(
            org_id=org_id,
            user_id=RECRUITER,
            display_name="Rita",
            connected=True,
            email="rita@example.com",
            public_link=PUBLIC_LINK,
        )
    )


async def serve_sink() -> None:
    """Child process: the Slack stand-in alone, so its work is not counted against the apps."""
    sink = await _sink()
    port = free_port()
    await web.TCPSite(sink, "127.0.0.1", port).start()
    sys.stdout.write(json.dumps({"sink": port}) + "\n")
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await sink.cleanup()


async def serve(sink_port: int) -> None:
    """Child process: both apps, print their ports, run until stdin closes."""
    from bot.app import create_app
    from bot.config import Settings
    from bot.secrets import SecretBox, generate_key
    from bot.store.sqlite import SQLiteStore

    api_url = f"http://127.0.0.1:{sink_port}/api/"

    folder = tempfile.mkdtemp(prefix="slotbot-bench-")
    store = SQLiteStore(os.path.join(folder, "bench.db"))
    secrets = SecretBox([generate_key()])
    settings = Settings.from_env(
        {
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": api_url,
            "LOG_LEVEL": "warning",
        }
    )
    app = create_app(settings, store=store, secrets=secrets, run_worker=False)
    slotbot_runner, slotbot_port = await _start(app)
    await _seed(store, secrets)
    bare_runner, bare_port = await _start(_bare_bolt_app(api_url))
    sys.stdout.write(json.dumps({"slotbot": slotbot_port, "bare": bare_port}) + "\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # parent closes stdin when done
    await asyncio.sleep(1.0)  # let replies still in flight finish before the store closes
    await bare_runner.cleanup()
    await slotbot_runner.cleanup()


# ------------------------------------------------------------------ load (parent process)


def _signed(body: str) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    stamp = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": str(
            SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
        ),
    }


def _body(sink_port: int, n: int) -> str:
    return urlencode(
        {
            "team_id": TEAM,
            "channel_id": "C1",
            "channel_name": "hiring",
            "user_id": RECRUITER,
            "user_name": "rita",
            "command": "/schedule",
            "text": "link",
            "api_app_id": "A1",
            "response_url": f"http://127.0.0.1:{sink_port}/hook/{n}",
            "trigger_id": f"{n}.{time.monotonic_ns()}",
        }
    )


async def _load(url: str, sink_port: int, seconds: float) -> dict[str, Any]:
    def make(n: int) -> tuple[bytes, dict[str, str]]:
        body = _body(sink_port, n)
        return body.encode(), _signed(body)

    result = await load(url, make, connections=CONNECTIONS, duration=seconds)
    return {
        "requests": result.requests,
        "errors": result.errors,
        "rps": round(result.rps, 1),
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
    }


async def _child(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.slack_ack",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=str(Path(__file__).resolve().parents[1]),
    )


async def _ready(process: asyncio.subprocess.Process) -> dict[str, int]:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    ports: dict[str, int] = json.loads(line)
    return ports


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), timeout=15)
    except TimeoutError:
        process.kill()
        await process.wait()


async def run(quick: bool) -> list[dict[str, Any]]:
    seconds = 2.0 if quick else 8.0
    rounds = 1 if quick else 2
    sink = await _child("--sink")
    child = None
    try:
        ports = await _ready(sink)
        child = await _child("--serve", str(ports["sink"]))
        ports.update(await _ready(child))
        targets = {
            "bare_bolt": f"http://127.0.0.1:{ports['bare']}/slack/events",
            "slotbot": f"http://127.0.0.1:{ports['slotbot']}/slack/events",
        }
        for url in targets.values():  # warm up: imports, auth.test, first SQLite writes
            await _load(url, ports["sink"], 0.3)
        totals: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _ in range(rounds):  # alternate, so background noise hits both alike
            for name, url in targets.items():
                before = cpu_seconds(child.pid)
                result = await _load(url, ports["sink"], seconds)
                after = cpu_seconds(child.pid)
                if before is not None and after is not None and result["requests"]:
                    # both apps share the child process, measured one at a time
                    result["cpu_ms_per_req"] = round(
                        (after - before) * 1000 / result["requests"], 3
                    )
                totals[name].append(result)
    finally:
        for process in (child, sink):
            if process is not None:
                await _stop(process)

    rows: list[dict[str, Any]] = []
    for name, runs in totals.items():
        best = max(runs, key=lambda r: r["rps"])
        rows.append(
            {
                "bench": "slack_ack",
                "case": name,
                "command": "/schedule link",
                "connections": CONNECTIONS,
                "seconds": seconds,
                **best,
            }
        )
    bare, ours = rows[0], rows[1]
    ratio = ours["rps"] / bare["rps"] if bare["rps"] else 0.0
    rows.append(
        {
            "bench": "slack_ack",
            "case": "slotbot_vs_bare",
            "ratio": round(ratio, 2),
            "target_ratio": 0.8,
            "target_p99_ms": 100,
            "ok": ratio >= 0.8 and ours["p99_ms"] < 100 and ours["errors"] == 0,
        }
    )
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_ack")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sink:
        eventloop.run(serve_sink(), use_uvloop=eventloop.wanted())
        return 0
    if args.serve is not None:
        # both apps on the loop `python -m bot serve` runs on (BOT_UVLOOP)
        eventloop.run(serve(args.serve), use_uvloop=eventloop.wanted())
        return 0
    for row in asyncio.run(run(args.quick)):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
