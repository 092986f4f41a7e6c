"""`python -m bot worker` and `python -m bot deadletters list|replay`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time

from aiohttp import web

from bot import logs
from bot.app import create_app
from bot.config import Settings
from bot.errors import ConfigError, SlotbotError, StoreError
from bot.store import open_store

log = logging.getLogger("bot.alerts")


def _settings() -> Settings:
    from bot.cli import settings_or_exit

    return settings_or_exit()


async def _run_worker(settings: Settings) -> None:
    """The app with its adapters and worker started, but listening on no port."""
    app = create_app(settings, run_worker=True)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()  # runs the cleanup contexts: store, worker, adapters
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info(logs.STOPPING)
    await runner.cleanup()  # the worker finishes the job in hand
    log.info(logs.STOPPED)


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot worker",
        description="Run only the outbox worker against BOT_STORE_URL (to scale delivery out).",
    )
    parser.parse_args(argv)
    settings = _settings()
    logs.configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(_run_worker(settings))
    except (StoreError, ConfigError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    return 0


async def _list(settings: Settings, org_id: str | None, limit: int) -> int:
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        print(f"no dead letters (no store at {settings.sqlite_path} yet)")
        return 0
    store = open_store(settings)
    await store.open()
    try:
        jobs = await store.list_dead_letters(org_id, limit=limit)
    finally:
        await store.close()
    if not jobs:
        print("no dead letters")
        return 0
    print(f"{'job id':32}  {'org':24}  {'kind':8}  {'tries':>5}  {'created (UTC)':19}  reason")
    for job in jobs:
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(job.created_at))
        reason = (job.dead_reason or job.last_error).replace("\n", " ")[:80]
        print(
            f"{job.job_id:32}  {job.org_id:24}  {job.kind:8}  {job.attempts:>5}  {created:19}  {reason}"
        )
    return 0


async def _replay(settings: Settings, job_ids: list[str], org_id: str | None) -> int:
    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        print(f"no dead letters (no store at {settings.sqlite_path} yet)")
        return 0
    store = open_store(settings)
    await store.open()
    try:
        if org_id is not None:
            # every dead letter of the org, or only those of the ids given that are its own
            of_org = {j.job_id for j in await store.list_dead_letters(org_id, limit=100_000)}
            job_ids = [i for i in job_ids if i in of_org] if job_ids else sorted(of_org)
            count = await store.requeue_dead_letters(job_ids) if job_ids else 0
        else:
            count = await store.requeue_dead_letters(job_ids or None)
    finally:
        await store.close()
    print(f"requeued {count} job(s)")
    return 0


def deadletters_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot deadletters", description="Show or re-queue deliveries that gave up."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="print job id, org, kind, attempts and reason")
    listing.add_argument("--org", default=None, help="only this org (its id, as the list shows it)")
    listing.add_argument("--limit", type=int, default=100)
    replay = sub.add_parser(
        "replay", help="re-queue the dead letters named, those of one org, or --all"
    )
    replay.add_argument("job_ids", nargs="*")
    replay.add_argument("--org", default=None, help="only this org's dead letters")
    replay.add_argument("--all", action="store_true", help="every dead letter (of --org)")
    args = parser.parse_args(argv)
    if args.action == "replay" and not args.job_ids and not args.all:
        replay.error("name the dead letters to replay (their job ids), or say --all")
    if args.action == "replay" and args.job_ids and args.all:
        replay.error("job ids and --all: choose one")
    settings = _settings()
    try:
        if args.action == "list":
            return asyncio.run(_list(settings, args.org, args.limit))
        return asyncio.run(_replay(settings, list(args.job_ids), args.org))
    except SlotbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
