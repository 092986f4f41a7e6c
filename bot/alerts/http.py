"""HTTP side of alerts: the Cronofy push URL.

`POST /cronofy/push/{org_key}` runs one ordered chain, cheapest check first and nothing
parsed before it is authenticated: size cap (413) → org lookup (404) → HMAC over the raw
bytes with the org's client secret (401) → content type (415) and JSON (400) → dedupe and
store everything in one step → 200. Only the store being down answers 5xx (503, so that
Cronofy retries); any other problem with a request is a 4xx with its reason.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot import logs
from bot.alerts.hmac import HEADER, verify_push_hmac
from bot.alerts.intake import record_event
from bot.alerts.parse import parse_notification
from bot.errors import SecretKeyRetired, StoreError
from bot.org_state import hold_jobs, record_callback
from bot.outbox.lifecycle import wake_worker
from bot.runtime import METRICS, SERVICES, Services
from bot.store.records import Org

log = logging.getLogger(__name__)

PUSH_PATH = "/cronofy/push/{org_key}"
ORG_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
JSON_TYPES = ("application/json", "text/json")
# an HTTP client that sends bytes without saying what they are labels them like this
UNDECLARED_TYPES = ("application/octet-stream",)
# the last-callback time is a status detail: writing it once a minute is enough
LAST_CALLBACK_EVERY = 60.0
_SECRET_CACHE_SIZE = 1024


@dataclass
class AlertsState:
    """Per-app state of the alerts feature (set up before the app starts, filled as it runs)."""

    # encrypted client secret -> plain text: Fernet on every callback is wasted work
    secrets: dict[str, str] = field(default_factory=dict)
    # org id -> when this process last wrote its last-callback time
    callbacks_recorded: dict[str, float] = field(default_factory=dict)


ALERTS = web.AppKey("alerts", AlertsState)


def _reject(request: web.Request, status: int, reason: str, org_id: str = "-") -> web.Response:
    request.app[METRICS].callbacks.labels("rejected").inc()
    log.info(logs.PUSH_REJECTED, org_id, reason)
    return web.json_response({"error": reason}, status=status)


def _client_secret(state: AlertsState, services: Services, org: Org) -> str:
    assert org.cronofy is not None
    encrypted = org.cronofy.client_secret_enc
    secret = state.secrets.get(encrypted)
    if secret is None:
        secret = services.secrets.decrypt(encrypted)
        if len(state.secrets) >= _SECRET_CACHE_SIZE:
            state.secrets.clear()
        state.secrets[encrypted] = secret
    return secret


def _content_type_ok(header: str | None) -> bool:
    if header is None or not header.strip():
        return True  # Cronofy always sends one; a missing header is not worth a refusal
    mime = header.split(";", 1)[0].strip().lower()
    if mime in JSON_TYPES or mime in UNDECLARED_TYPES:
        return True
    return mime.startswith("application/") and mime.endswith("+json")


def _json_object(body: bytes) -> dict[str, Any] | str:
    """The body as a JSON object, or the reason it is not one."""
    if not body.strip():
        return "empty body"
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "body is not UTF-8"
    except RecursionError:
        return "JSON nested too deeply"
    except ValueError:
        return "body is not valid JSON"
    if not isinstance(value, dict):
        return "JSON body must be an object"
    return value


async def push(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    state = request.app[ALERTS]
    metrics = request.app[METRICS]
    limit = services.settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return _reject(request, 413, f"body larger than {limit} bytes")

    org_key = request.match_info.get("org_key", "")
    if not ORG_KEY.fullmatch(org_key):
        return _reject(request, 404, "unknown push URL")
    try:
        org = await services.store.get_org_by_key(org_key)
    except StoreError:
        return _reject(request, 503, "store unavailable")
    # an org whose chat app is uninstalled still has valid keys: its callbacks are recorded
    # (a 404 would make Cronofy give up on them) and their alerts held until a reinstall
    if org is None or org.cronofy is None:
        return _reject(request, 404, "unknown push URL")

    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _reject(request, 413, f"body larger than {limit} bytes", org.org_id)
    if len(body) > limit:
        return _reject(request, 413, f"body larger than {limit} bytes", org.org_id)

    try:
        secret = _client_secret(state, services, org)
    except SecretKeyRetired:
        log.error(logs.PUSH_SECRET_RETIRED, org.org_id)
        return _reject(request, 401, "signature cannot be checked", org.org_id)
    header = request.headers.get(HEADER)
    if header is None:
        return _reject(request, 401, f"missing {HEADER} header", org.org_id)
    if not verify_push_hmac(secret, body, header):
        return _reject(request, 401, f"{HEADER} does not match the body", org.org_id)

    if not _content_type_ok(request.headers.get("Content-Type")):
        return _reject(request, 415, "content type must be application/json", org.org_id)
    payload = _json_object(body)
    if isinstance(payload, str):
        return _reject(request, 400, payload, org.org_id)

    note = parse_notification(payload, callback=request.query.get("callback"))
    now = services.clock()
    try:
        committed, write = await record_event(services.store, org, note, body, now=now)
    except StoreError:
        return _reject(request, 503, "store unavailable", org.org_id)
    if not committed:
        metrics.callbacks.labels("duplicate").inc()
        log.info(logs.PUSH_DUPLICATE, org.org_id)
        return web.json_response({"status": "duplicate"})
    metrics.callbacks.labels("accepted").inc()
    log.info(logs.PUSH_ACCEPTED, org.org_id, note.raw_type, len(write.jobs))
    if not org.active and write.jobs:
        try:
            await hold_jobs(services.store, org.org_id)
        except StoreError:
            pass  # the adapters refuse to deliver for an inactive org: the jobs end held anyway
    elif write.jobs:
        wake_worker(request.app)
    await _touch_last_callback(state, services, org.org_id, now)
    return web.json_response({"status": "accepted", "type": note.raw_type})


async def _touch_last_callback(
    state: AlertsState, services: Services, org_id: str, now: float
) -> None:
    # kept out of the org record, which admins edit (see bot.org_state)
    written = state.callbacks_recorded.get(org_id)
    if written is not None and now - written < LAST_CALLBACK_EVERY:
        return
    if len(state.callbacks_recorded) >= _SECRET_CACHE_SIZE:
        state.callbacks_recorded.clear()
    state.callbacks_recorded[org_id] = now
    try:
        await record_callback(services.store, org_id, now)
    except StoreError:
        pass  # a status detail; the event itself is stored


def setup(app: web.Application) -> None:
    """Add the push route (the outbox worker that delivers its alerts is `bot.outbox`'s)."""
    app[ALERTS] = AlertsState()
    app.router.add_post(PUSH_PATH, push)
