"""The console: Slotbot in a terminal, with no accounts (`python -m bot console`).

A third platform on the core's `Platform` interface: a person types the Slack and Teams
commands as one of a few people, in a channel or a DM (session.py turns each line into the
core's Turn and prints the Replies); the outbox worker delivers alerts to the terminal through
`ConsoleDelivery` (delivery.py). main.py serves the real app on 127.0.0.1 with a throw-away
store and a local stand-in for Cronofy (standin.py); simulate.py makes the signed callbacks a
candidate's booking would.
"""

from __future__ import annotations

from adapters.console.platform import ConsolePlatform, platform
from adapters.console.workspace import NAME

__all__ = ["NAME", "ConsolePlatform", "platform"]
