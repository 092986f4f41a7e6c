"""Every log message Slotbot writes, in one place, and the logging set-up.

Messages are constants with %-style fields filled from `extra`-free arguments; no message
takes a secret. `configure()` picks text or JSON output from LOG_FORMAT.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

# start-up ---------------------------------------------------------------------
STARTING = "Slotbot starting: store=%s public_url=%s"
FEATURE_ON = "%s: on (%s)"
FEATURE_OFF = "%s: off (%s)"
ROUTE = "route %s %s%s"
LISTENING = "listening on http://%s:%s"
STOPPING = "Slotbot stopping: finishing in-flight work"
STOPPED = "Slotbot stopped"
DEV_SECRET_KEY = (
    "BOT_SECRET_KEYS is not set: using a development key kept in the data folder. "
    "Set BOT_SECRET_KEYS in production."
)
TEAMS_DEV_MODE = (
    "TEAMS_DEV_MODE=1: Microsoft Teams requests are NOT authenticated. "
    "Use this only with a local emulator."
)

# store ------------------------------------------------------------------------
STORE_UP = "store reachable again"
STORE_DOWN = "store unreachable: %s"
STORE_WAITING = "%s does not answer yet; waiting up to %.0fs for it"
STORE_MIGRATED = "%s migrated from schema version %d to %d (steps: %s)"

# http -------------------------------------------------------------------------
REQUEST_REJECTED = "rejected %s %s: %s"
REQUEST_DUPLICATE = "%s: duplicate ignored (%s)"
UNHANDLED = "unhandled error on %s %s"

# slack ------------------------------------------------------------------------
SLACK_MODE = "slack: %s"
SLACK_USERS_INFO_FAILED = "slack: users.info for %s failed (%s); treating as a member"
SLACK_REPLY_FAILED = "slack: could not reply: %s"
SLACK_HOME_FAILED = "slack: App Home not published: %s"
SLACK_UNINSTALLED = "slack: %s for team %s; %d pending job(s) held until a reinstall"
SLACK_AUTH_TEST_FAILED = "slack: auth.test failed (%s); the bot token may be wrong"
SLACK_SOCKET_MODE = "slack: Socket Mode %s"
SLACK_DRAIN_TIMEOUT = "slack: %d listener(s) still replying after %.0fs at shutdown"
SLACK_REINSTALLED = "slack: installed again in team %s; deliveries resume"

# teams ------------------------------------------------------------------------
TEAMS_TURN_ERROR = "teams turn failed: %s"
TEAMS_APOLOGY_FAILED = "teams: could not tell the member that the turn failed"
TEAMS_UNINSTALLED = "teams: uninstalled from tenant %s; %d pending job(s) held until a reinstall"
TEAMS_REINSTALLED = "teams: installed again in tenant %s; %d held job(s) released"
TEAMS_MEMBER_LOOKUP_FAILED = "teams: could not look up a mentioned member (%s)"
TEAMS_PRIVATE_REPLY_FAILED = "teams: could not open a 1:1 chat for a private answer (%s)"

# outbox -----------------------------------------------------------------------
WORKER_STARTED = "outbox worker %s started"
WORKER_STOPPED = "outbox worker %s stopped"
JOB_DELIVERED = "job %s delivered (%s)"
JOB_RETRY = "job %s failed (attempt %d): %s; next try in %.1fs"
JOB_DEAD = "job %s dead-lettered: %s"
JOB_CRASHED = "job %s failed unexpectedly; it will be tried again"
WORKER_STORE_ERROR = "outbox worker %s: store error, backing off: %s"
WORKER_STOP_TIMEOUT = "outbox worker %s did not finish its job within %.0fs; cancelled"

# cronofy push -----------------------------------------------------------------
PUSH_SECRET_RETIRED = (
    "cronofy push for org %s: the stored client secret was encrypted under a key no longer "
    "in BOT_SECRET_KEYS; an admin must run /cronofy setup again"
)
PUSH_ACCEPTED = "cronofy push accepted for org %s: %s (%d job(s))"
PUSH_DUPLICATE = "cronofy push for org %s: duplicate delivery ignored"

# cronofy ----------------------------------------------------------------------
CRONOFY_CALL_FAILED = "cronofy: %s failed: %s"
CRONOFY_SETUP = "cronofy: org %s set up by %s (data center %s)"
CRONOFY_SETUP_REJECTED = "cronofy: org %s setup rejected: %s"
CRONOFY_RESET = "cronofy: org %s reset by %s"
CRONOFY_CONNECTED = "cronofy: member %s of org %s connected"
CRONOFY_CALLBACK_REJECTED = "cronofy: OAuth callback rejected: %s"
CRONOFY_DISCONNECTED = "cronofy: member %s of org %s disconnected: %s"
CRONOFY_REFRESHED = "cronofy: token of member %s of org %s refreshed"
CRONOFY_REVOKE_FAILED = "cronofy: revoke for member %s of org %s failed: %s"
COMMAND_FAILED = "command %r of %s in org %s failed"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # the SDKs are chatty at INFO and some log request bodies at DEBUG
    for noisy in ("slack_bolt", "slack_sdk", "msrest", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
