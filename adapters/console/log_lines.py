"""Every log message of the console adapter, in one place (see bot/logs.py for the core's)."""

from __future__ import annotations

CONSOLE_STARTED = "console: Slotbot on %s, Cronofy stand-in on %s, store in %s"
CONSOLE_TURN_FAILED = "console: the turn %r failed"
CONSOLE_STOPPED = "console: stopped"
CONSOLE_SETTLE_TIMEOUT = "console: %d job(s) still in the outbox after %.0fs"
