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

# http -------------------------------------------------------------------------
REQUEST_REJECTED = "rejected %s %s: %s"
UNHANDLED = "unhandled error on %s %s"

# outbox -----------------------------------------------------------------------
WORKER_STARTED = "outbox worker %s started"
WORKER_STOPPED = "outbox worker %s stopped"
JOB_DELIVERED = "job %s delivered (%s)"
JOB_RETRY = "job %s failed (attempt %d): %s; next try in %.1fs"
JOB_DEAD = "job %s dead-lettered: %s"


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
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # the SDKs are chatty at INFO and some log request bodies at DEBUG
    for noisy in ("slack_bolt", "slack_sdk", "msrest", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
