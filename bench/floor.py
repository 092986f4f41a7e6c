"""The durable floor of callback intake: the least a verified callback can cost when it must
be stored before its 200, in one process, on the same event loop and JSON library as Slotbot.

Its handler reads the body, checks `Cronofy-HMAC-SHA256` with the client secret, parses the
JSON object, and stores the body under its SHA-256 digest before answering (a replay is
answered as one): on SQLite one `INSERT OR IGNORE` through Slotbot's own store thread and
group commit (WAL, synchronous=NORMAL); on Redis one `SET NX` to a server that fsyncs its
append-only file before answering (bench.common.RedisProcess). No org lookup, profile,
booking, routing or job: between the bare handler and Slotbot, it says how much of the gap
is the durable write itself and how much is everything Slotbot decides around it.

    python -m bench.floor --port N --store sqlite:///path | redis://host:port/0
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from bench._pushload import CLIENT_SECRET
from bench.common import serve_until_signalled
from bot import eventloop, jsonio
from bot.alerts.hmac import HEADER, verify_push_hmac
from bot.store.sqlite import rows
from bot.store.sqlite.connection import SYNCHRONOUS
from bot.store.sqlite.thread import StoreThread

# Slotbot remembers a callback's digest for 3 days (bot.alerts.intake.DEDUPE_TTL)
DEDUPE_SECONDS = 3 * 24 * 3600

Keeper = Callable[[str, bytes], Awaitable[bool]]  # (digest, body) -> stored now (not a replay)


Closer = Callable[[], Awaitable[None]]


def sqlite_keeper(path: str) -> tuple[Keeper, Closer]:
    thread = StoreThread("floor-store")
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    db.execute("CREATE TABLE IF NOT EXISTS callbacks (digest TEXT PRIMARY KEY, body BLOB)")
    thread.group_writer = partial(rows.write_group, db)

    def insert(digest: str, body: bytes) -> bool:
        cursor = db.execute(
            "INSERT OR IGNORE INTO callbacks (digest, body) VALUES (?, ?)", (digest, body)
        )
        return cursor.rowcount == 1

    async def keep(digest: str, body: bytes) -> bool:
        return await thread.submit(partial(insert, digest, body), write=True)

    async def close() -> None:
        thread.stop()

    return keep, close


def redis_keeper(url: str) -> tuple[Keeper, Closer]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)

    async def keep(digest: str, body: bytes) -> bool:
        return bool(await client.set(f"floor:{digest}", body, nx=True, ex=DEDUPE_SECONDS))

    async def close() -> None:
        await client.aclose()

    return keep, close


def floor_app(keep: Keeper) -> web.Application:
    async def push(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_push_hmac(CLIENT_SECRET, body, request.headers.get(HEADER)):
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            payload = jsonio.loads(body)
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "not an object"}, status=400)
        stored = await keep(hashlib.sha256(body).hexdigest(), body)
        return web.json_response({"status": "accepted" if stored else "duplicate"})

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/cronofy/push/{org_key}", push)
    app.router.add_get("/healthz", health)
    return app


async def _serve(port: int, store: str) -> None:
    if store.startswith("sqlite:///"):
        keep, close = sqlite_keeper(store.removeprefix("sqlite:///"))
    else:
        keep, close = redis_keeper(store)
    try:
        await serve_until_signalled(floor_app(keep), port)
    finally:
        await close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    args = parser.parse_args(argv)
    eventloop.run(_serve(args.port, args.store), use_uvloop=eventloop.wanted())


if __name__ == "__main__":
    main()
