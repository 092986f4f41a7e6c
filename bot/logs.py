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
EVENT_LOOP = "event loop: %s"
FEATURE_ON = "%s: on (%s)"
FEATURE_OFF = "%s: off (%s)"
NO_PLATFORM = (
    "no chat platform is on: Slotbot serves, but nobody can talk to it (see the lines above "
    "for what turns each one on)"
)
ROUTE = "route %s %s%s"
LISTENING = "listening on http://%s:%s"
STOPPING = "Slotbot stopping: finishing in-flight work"
STOPPED = "Slotbot stopped"
# `serve --processes N`
PREFORK_STARTED = "serving from %d processes on port %s (pids %s)"
PREFORK_CHILD_FAILED = "serving process %d exited with %s while starting: stopping the others"
PREFORK_CHILD_DIED = "serving process %d exited with %s: starting another"
PREFORK_STOPPING = "stopping %d serving processes"
PREFORK_KILLED = "serving process %d did not stop within %.0fs: killed"
DEV_SECRET_KEY = (
    "BOT_SECRET_KEYS is not set: using a development key kept in the data folder. "
    "Set BOT_SECRET_KEYS in production."
)

# store ------------------------------------------------------------------------
SQLITE_CHECKPOINTS_OFF = "%s: WAL checkpoints stay in the store's commits: %s"
SQLITE_CHECKPOINT_SKIPPED = "%s: WAL checkpoint skipped, tried again shortly: %s"
STORE_UP = "store reachable again"
STORE_DOWN = "store unreachable: %s"
STORE_WAITING = "%s does not answer yet; waiting up to %.0fs for it"
STORE_MIGRATED = "%s migrated from schema version %d to %d (steps: %s)"
STORE_DURABLE = "%s: durable: %s"
STORE_NOT_DURABLE = (
    "%s is NOT DURABLE and BOT_REDIS_DURABILITY=relaxed: starting anyway, but a crash of "
    "Redis may lose callbacks Cronofy was already answered 200 for. %s"
)

# http -------------------------------------------------------------------------
REQUEST_REJECTED = "rejected %s %s: %s"
REQUEST_DUPLICATE = "%s: duplicate ignored (%s)"
UNHANDLED = "unhandled error on %s %s"
RATE_LIMITED = "too many requests from %s (%s): answering 429 until it slows down"
METRICS_REFUSED = "refused GET /metrics from %s: no valid bearer token (METRICS_TOKEN is set)"

# outbox -----------------------------------------------------------------------
WORKER_STARTED = "outbox worker %s started"
WORKER_STOPPED = "outbox worker %s stopped"
JOB_DELIVERED = "job %s delivered (%s)"
JOB_RETRY = "job %s failed (attempt %d): %s; next try in %.1fs"
JOB_DEAD = "job %s dead-lettered: %s"
JOB_CRASHED = "job %s failed unexpectedly; it will be tried again"
JOB_FOUND_SENT = (
    "job %s: its message is already in %s (posted by an earlier try that stopped before "
    "recording it); not posted again"
)
JOBS_GIVEN_BACK = "outbox worker %s: %d job(s) of its batch given back before their claim runs out"
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
CRONOFY_FIRST_ADMIN = (
    "cronofy: %s set up org %s and became its admin, as the first to set it up (announced in %s)"
)
CRONOFY_RESET = "cronofy: org %s reset by %s"
CRONOFY_CONNECTED = "cronofy: member %s of org %s connected"
CRONOFY_CALLBACK_REJECTED = "cronofy: OAuth callback rejected: %s"
CRONOFY_DISCONNECTED = "cronofy: member %s of org %s disconnected: %s"
CRONOFY_REFRESHED = "cronofy: token of member %s of org %s refreshed"
CRONOFY_REVOKE_FAILED = "cronofy: revoke for member %s of org %s failed: %s"
COMMAND_FAILED = "command %r of %s in org %s failed"

# a candidate's own data (bot.candidates): ids and counts only, never a name or an email
CANDIDATE_ERASED = "privacy: candidate %s of org %s erased by %s: %s"
RETENTION_SWEPT = "privacy: retention sweep of org %s (%d days): %s"
RETENTION_STOPPED = "privacy: retention sweep of org %s: retention is off, no next sweep"
EXPORT_LINK_MADE = "privacy: export link for candidate %s of org %s made by %s"
EXPORT_SERVED = "privacy: export of candidate %s of org %s downloaded"
EXPORT_REFUSED = "privacy: export download refused: %s"
ORG_EXPORTED = "privacy: org %s exported: %d candidate(s), %d timeline entries"


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
    quiet("urllib3", "aiohttp.access")


def quiet(*loggers: str) -> None:
    """SDKs are chatty at INFO and some log request bodies at DEBUG: their loggers say only
    warnings and worse (or less, when LOG_LEVEL asks for less). Platforms quiet their own."""
    level = max(logging.WARNING, logging.getLogger().level)
    for name in loggers:
        logging.getLogger(name).setLevel(level)
