"""The event loop a long-running command runs on: uvloop when it is installed and
`BOT_UVLOOP` is on (the default), else asyncio's own.

uvloop (libuv underneath) runs the same aiohttp app with less CPU per request: socket
reads and writes, callbacks and timers cost less than in asyncio's pure-Python loop. Nothing
in Slotbot depends on which loop runs it, so the setting only changes speed; `BOT_UVLOOP=0`
is the way back to the standard loop (to rule it out when chasing a problem).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from bot.config import env_value, flag

T = TypeVar("T")

VARIABLE = "BOT_UVLOOP"


def wanted(environ: Mapping[str, str] | None = None) -> bool:
    """BOT_UVLOOP, checked (on unless set to 0)."""
    env = os.environ if environ is None else environ
    return flag(VARIABLE, env_value(env, VARIABLE) or "1")


def loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when asked for and installed; None: asyncio's default loop."""
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def name(use_uvloop: bool) -> str:
    """The loop `run` would use, for the start-up log and doctor."""
    return "uvloop" if loop_factory(use_uvloop) is not None else "asyncio"


def run(main: Coroutine[Any, Any, T], *, use_uvloop: bool) -> T:
    """`asyncio.run(main)` on the loop the setting asks for."""
    factory = loop_factory(use_uvloop)
    if factory is None:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
