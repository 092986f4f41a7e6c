"""`python -m bot console` (also `python -m adapters.console`, and `make demo`).

Nothing is read from the environment or the data folder: the store lives in a temporary folder
deleted at the end, the secret key is made for the session, and Slotbot and the Cronofy
stand-in listen on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from adapters.console.delivery import ConsoleDelivery
from adapters.console.runtime import Running
from adapters.console.screen import Screen
from adapters.console.session import Session
from adapters.console.terminal import Terminal, enable_readline
from adapters.console.workspace import Workspace
from bot import logs
from bot.errors import SlotbotError
from cards import console as say

INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot console", description=say.DESCRIPTION)
    parser.add_argument("--verbose", action="store_true", help=say.VERBOSE_HELP)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    level = "info" if args.verbose else "warning"
    logs.configure(level)
    interactive = stdin.isatty() and stdout.isatty()
    screen = Screen(stdout)
    workspace = Workspace()
    delivery = ConsoleDelivery(screen, workspace)
    with tempfile.TemporaryDirectory(prefix="slotbot-console-") as folder:
        running = Running(Path(folder), delivery, log_level=level)
        try:
            running.start()
        except (OSError, SlotbotError) as exc:
            print(say.CANNOT_START.format(reason=exc), file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return INTERRUPTED
        try:
            terminal = Terminal(screen, stdin, interactive=interactive)
            session = Session(running, delivery, terminal, screen, workspace)
            if interactive:
                enable_readline(session.words)
            session.run()
        except KeyboardInterrupt:  # the session handles Ctrl-C; this is one while it stops
            return INTERRUPTED
        finally:
            running.stop()
    return 0
