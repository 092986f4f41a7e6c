"""Command line: `serve`, `worker`, `doctor`, `genkey`, and the tools features add.

Subcommands that belong to a feature live with it and are loaded lazily, so `serve`
does not pay for them and `bot/` does not import a chat SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
from collections.abc import Callable, Sequence

from aiohttp import web

from bot import logs
from bot.app import create_app, feature_report
from bot.config import Settings
from bot.doctor import check_services, check_settings
from bot.errors import ConfigError, StoreError
from bot.secrets import generate_key

log = logging.getLogger("bot")

# subcommand -> "module:function"; the function takes argv and returns an exit code
EXTERNAL: dict[str, str] = {
    "cards": "cards.demo:main",
    "deadletters": "bot.alerts.cli:deadletters_main",
    "worker": "bot.alerts.cli:worker_main",
    "manifest": "bot.manifests:main",
    "migrate": "bot.store.cli:migrate_main",
    "store": "bot.store.cli:store_main",
    "backup": "bot.store.cli:backup_main",
    "restore": "bot.store.cli:restore_main",
}


def _load(target: str) -> Callable[[list[str]], int]:
    module, _, func = target.partition(":")
    fn: Callable[[list[str]], int] = getattr(importlib.import_module(module), func)
    return fn


def _settings_or_exit() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    log.info(logs.STARTING, settings.describe()["store_url"], settings.public_url)
    for name, on, why in feature_report(settings):
        log.info(logs.FEATURE_ON if on else logs.FEATURE_OFF, name, why)
    if settings.teams_dev_mode and not settings.microsoft_app_id:
        log.warning(logs.TEAMS_DEV_MODE)
    await runner.setup()  # opens the store: a bad path fails here, before we listen
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or ""
        methods = sorted({r.method for r in resource if r.method != "HEAD"})
        log.info(logs.ROUTE, ",".join(methods), settings.public_url, path)
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info(logs.LISTENING, settings.host, settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info(logs.STOPPING)
    # cleanup runs the cleanup contexts: the worker finishes its current job, the store closes
    await runner.cleanup()
    log.info(logs.STOPPED)


def serve_main(argv: list[str]) -> int:
    settings = _settings_or_exit()
    logs.configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(_serve(settings))
    except (StoreError, ConfigError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    return 0


def doctor_main(argv: list[str]) -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"✗ configuration: {exc}")
        return 1
    print("Slotbot configuration:")
    for key, value in settings.describe().items():
        print(f"  {key:24} {value}")
    print()
    for name, on, why in feature_report(settings):
        print(f"  {'on ' if on else 'off'}  {name}: {why}")
    print()
    found = check_settings(settings)
    services = asyncio.run(check_services(settings))
    problems = found.problems + services.problems
    for warning in found.warnings + services.warnings:
        print(f"! {warning}")
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        return 1
    print("✓ configuration and store look good")
    return 0


def genkey_main(argv: list[str]) -> int:
    print(generate_key())
    return 0


BUILTIN: dict[str, Callable[[list[str]], int]] = {
    "serve": serve_main,
    "doctor": doctor_main,
    "genkey": genkey_main,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="slotbot", description="Slotbot scheduling bot")
    parser.add_argument(
        "command",
        choices=sorted([*BUILTIN, *EXTERNAL]),
        help="serve: run the bot; worker: run only the outbox worker; doctor: check "
        "configuration and store; genkey: print a new BOT_SECRET_KEYS key; cards: print the "
        "message cards; deadletters: list or replay failed deliveries; manifest: print or "
        "write the Slack / Teams app manifest; migrate: bring the store to this version's "
        "schema; store copy: copy every record to another store; backup / restore: the "
        "store to a file and back",
    )
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if args else 2
    ns, _rest = parser.parse_known_args(args[:1])
    if ns.command in BUILTIN:
        return BUILTIN[ns.command](args[1:])
    return _load(EXTERNAL[ns.command])(args[1:])
