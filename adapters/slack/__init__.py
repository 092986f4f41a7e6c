"""The Slack adapter: slash commands, the setup modal, buttons, App Home, installs, delivery.

The platform (platform.py) is what the core sees; runtime.py builds bolt and mounts the
routes; events.py is `POST /slack/events` on the core's ingress chain; turns.py and
replies.py turn Slack payloads into the core's Turns and show its Replies; delivery.py
posts alerts for the outbox worker.
"""

from __future__ import annotations

from adapters.slack.events import EVENTS_PATH
from adapters.slack.platform import SlackPlatform, platform
from adapters.slack.runtime import (
    BOT_SCOPES,
    REDIRECT_PATH,
    SLACK,
    SlackRuntime,
    build_runtime,
    deactivate_installation,
    reactivate_org,
    setup,
)

__all__ = [
    "BOT_SCOPES",
    "EVENTS_PATH",
    "REDIRECT_PATH",
    "SLACK",
    "SlackPlatform",
    "SlackRuntime",
    "build_runtime",
    "deactivate_installation",
    "platform",
    "reactivate_org",
    "setup",
]
