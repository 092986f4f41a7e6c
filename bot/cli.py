"""Command line: `serve`, `worker`, `doctor`, `genkey`, the tools features add, and the
subcommands installed platforms offer (`Platform.commands()`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence

from aiohttp import web

from bot import eventloop, logs
from bot.app import create_app, feature_report
from bot.config import Settings
from bot.doctor import check_services, check_settings
from bot.errors import ConfigError, StoreError
from bot.platforms import Command, Platform, enabled, installed_platforms, platform_commands
from bot.secrets import generate_key

log = logging.getLogger("bot")

MAX_PROCESSES = 64


def settings_or_exit() -> Settings:
    """The settings, or exit 2 naming the variable that is wrong."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _platforms_or_exit(settings: Settings) -> list[Platform]:
    try:
        return installed_platforms(settings)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _serve(
    settings: Settings, platforms: list[Platform], *, reuse_port: bool = False
) -> None:
    app = create_app(settings, platforms=enabled(platforms))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    log.info(logs.STARTING, settings.describe()["store_url"], settings.public_url)
    log.info(logs.EVENT_LOOP, eventloop.name(settings.uvloop))
    for name, on, why in feature_report(settings, platforms):
        log.info(logs.FEATURE_ON if on else logs.FEATURE_OFF, name, why)
    if not enabled(platforms):
        log.warning(logs.NO_PLATFORM)
    await runner.setup()  # opens the store: a bad path fails here, before we listen
    for resource in app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or ""
        methods = sorted({r.method for r in resource if r.method != "HEAD"})
        log.info(logs.ROUTE, ",".join(methods), settings.public_url, path)
    # one of several `serve --processes N` children: each binds the port itself
    # (SO_REUSEPORT) and the kernel spreads the connections over them
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None)
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


def _no_arguments(command: str, description: str, argv: list[str]) -> None:
    """`--help` says what the command does; anything else it was given exits 2."""
    argparse.ArgumentParser(prog=f"python -m bot {command}", description=description).parse_args(
        argv
    )


def serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot serve",
        description="Serve every route of Slotbot (and deliver alerts) with the settings of the "
        "environment; Ctrl-C stops it cleanly.",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes on the one port (SO_REUSEPORT, Linux), each with its own "
        "outbox worker, under a parent that stops them on SIGTERM or Ctrl-C (default 1)",
    )
    # how the parent starts each of its children
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.processes <= MAX_PROCESSES:
        parser.error(f"--processes must be between 1 and {MAX_PROCESSES}")
    settings = settings_or_exit()
    platforms = _platforms_or_exit(settings)
    logs.configure(settings.log_level, settings.log_format)
    if args.processes > 1:
        from bot.prefork import serve_processes

        return serve_processes(settings, args.processes)
    try:
        eventloop.run(
            _serve(settings, platforms, reuse_port=args.reuse_port), use_uvloop=settings.uvloop
        )
    except (StoreError, ConfigError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    return 0


def doctor_main(argv: list[str]) -> int:
    _no_arguments(
        "doctor",
        "Say in plain words what is wrong with this deployment's settings and store (exit 1 "
        "when anything is), and what is fine on a laptop but not in production. It changes "
        "nothing: no store, no key is created.",
        argv,
    )
    try:
        settings = Settings.from_env()
        platforms = installed_platforms(settings)
    except ConfigError as exc:
        print(f"✗ configuration: {exc}")
        return 1
    print("Slotbot configuration:")
    described = settings.describe()
    for platform in platforms:
        described.update(platform.describe())
    width = max(len(key) for key in described)
    for key, value in described.items():
        print(f"  {key:{width}}  {value}")
    print()
    report = feature_report(settings, platforms)
    name_width = max(len(name) for name, _, _ in report)
    for name, on, why in report:
        print(f"  {'on ' if on else 'off'}  {name:{name_width}}  {why}")
    print()
    found = check_settings(settings, platforms)
    found.add(asyncio.run(check_services(settings)))
    problems = list(dict.fromkeys(found.problems))
    for warning in dict.fromkeys(found.warnings):
        print(f"! {warning}")
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        return 1
    print("✓ configuration and store look good")
    return 0


def genkey_main(argv: list[str]) -> int:
    _no_arguments("genkey", "Print a new key for BOT_SECRET_KEYS.", argv)
    print(generate_key())
    return 0


def manifest_main(argv: list[str]) -> int:
    """`manifest <platform> …`: hands over to the platform that owns the manifest."""
    platforms = {p.name: p for p in _platforms_or_exit(settings_or_exit())}
    usage = f"usage: python -m bot manifest {'|'.join(sorted(platforms))} [options]"
    if argv[:1] in (["-h"], ["--help"]):
        print(
            usage + "\n\nPrint or write a platform's app manifest; "
            "`manifest <platform> --help` says how."
        )
        return 0
    if not argv or argv[0] not in platforms:
        print(usage, file=sys.stderr)
        return 2
    return platforms[argv[0]].manifest(argv[1:])


# Subcommands that belong to a feature live with it and are imported only when run, so
# `serve` does not pay for them.
def _cards(argv: list[str]) -> int:
    from cards.demo import main as cards_main

    return cards_main(argv)


def _worker(argv: list[str]) -> int:
    from bot.alerts.cli import worker_main

    return worker_main(argv)


def _deadletters(argv: list[str]) -> int:
    from bot.alerts.cli import deadletters_main

    return deadletters_main(argv)


def _export(argv: list[str]) -> int:
    from bot.candidates.cli import export_main

    return export_main(argv)


def _store_command(name: str) -> Callable[[list[str]], int]:
    def run(argv: list[str]) -> int:
        from bot.store import cli as store_cli

        command: Callable[[list[str]], int] = getattr(store_cli, f"{name}_main")
        return command(argv)

    return run


COMMANDS: dict[str, Command] = {
    "serve": serve_main,
    "worker": _worker,
    "doctor": doctor_main,
    "genkey": genkey_main,
    "cards": _cards,
    "deadletters": _deadletters,
    "manifest": manifest_main,
    "migrate": _store_command("migrate"),
    "store": _store_command("store"),
    "backup": _store_command("backup"),
    "restore": _store_command("restore"),
    "export": _export,
}

HELP = (
    "serve: run the bot; worker: run only the outbox worker; doctor: check configuration and "
    "store; genkey: print a new BOT_SECRET_KEYS key; cards: print the message cards; "
    "deadletters: list or replay failed deliveries; manifest: print or write a chat "
    "platform's app manifest; migrate: bring the store to this version's schema; store copy: "
    "copy every record to another store; backup / restore: the store to a file and back; "
    "export: an org's candidates and timelines as JSON lines or CSV"
)


def installed_commands() -> dict[str, Command]:
    """The subcommands the installed platforms add to the core's."""
    try:
        platforms = installed_platforms(Settings.from_env())
    except ConfigError:
        # what a platform offers does not depend on the environment: a variable that is wrong
        # is reported by the commands that read it
        platforms = installed_platforms(Settings())
    return platform_commands(platforms, taken=COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in COMMANDS:
        return COMMANDS[args[0]](args[1:])
    extra = installed_commands()
    commands = {**extra, **COMMANDS}
    parser = argparse.ArgumentParser(prog="slotbot", description="Slotbot scheduling bot")
    more = f"; from the installed platforms: {', '.join(sorted(extra))}" if extra else ""
    parser.add_argument("command", choices=sorted(commands), help=HELP + more)
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if args else 2
    ns, _rest = parser.parse_known_args(args[:1])
    return commands[ns.command](args[1:])
