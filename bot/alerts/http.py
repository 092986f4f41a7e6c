"""HTTP side of alerts: the Cronofy push URL.

`POST /cronofy/push/{org_key}` runs the ingress chain (bot.ingress), cheapest check first
and nothing parsed before it is authenticated: size cap (413) → org lookup (404) → HMAC
over the raw bytes with the org's client secret (401) → content type (415) and JSON (400) →
dedupe and store everything in one step → 200. Only the store being down answers 5xx (503,
so that Cronofy retries); any other problem with a request is a 4xx with its reason.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot import ingress, jsonio, logs
from bot.alerts.hmac import HEADER, verify_push_hmac
from bot.alerts.intake import record_event
from bot.alerts.parse import Notification, parse_notification
from bot.cronofy.urls import PUSH_PATH
from bot.errors import SecretKeyRetired, StoreError
from bot.ingress import Call, EndpointBase, Rejected, Unavailable
from bot.org_state import hold_jobs, record_callback
from bot.outbox.lifecycle import wake_worker
from bot.runtime import METRICS, SERVICES, Services
from bot.store.orgcache import OrgKeyCache
from bot.store.records import Org

log = logging.getLogger(__name__)

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

    # push key -> org, for a moment (bot.store.orgcache: dropped when an org is written)
    orgs: OrgKeyCache = field(default_factory=OrgKeyCache)
    # encrypted client secret -> plain text: Fernet on every callback is wasted work (a new
    # secret is a new ciphertext, so a changed secret is never answered from here)
    secrets: dict[str, str] = field(default_factory=dict)
    # org id -> when this process last wrote its last-callback time
    callbacks_recorded: dict[str, float] = field(default_factory=dict)


ALERTS = web.AppKey("alerts", AlertsState)


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
        value = jsonio.loads(body)
    except UnicodeDecodeError:
        return "body is not UTF-8"
    except RecursionError:
        return "JSON nested too deeply"
    except ValueError:
        return "body is not valid JSON"
    if not isinstance(value, dict):
        return "JSON body must be an object"
    return value


class PushEndpoint(EndpointBase[Notification]):
    """`POST /cronofy/push/{org_key}` on the ingress chain: the org is found from the URL
    before the body is read, the HMAC checked on the raw bytes before anything is parsed, and
    the event deduped in the same store write that records it (`record_event`)."""

    name = PUSH_PATH

    def on_rejected(self, call: Call, rejected: Rejected) -> None:
        call.request.app[METRICS].callbacks.labels("rejected").inc()

    async def before_read(self, call: Call) -> None:
        app = call.request.app
        org_key = call.request.match_info.get("org_key", "")
        if not ORG_KEY.fullmatch(org_key):
            raise Rejected(404, "unknown push URL")
        try:
            org = await app[ALERTS].orgs.get(app[SERVICES].store, org_key)
        except StoreError:
            raise Unavailable("store unavailable") from None
        # an org whose chat app is uninstalled still has valid keys: its callbacks are
        # recorded (a 404 would make Cronofy give up on them) and their alerts held
        if org is None or org.cronofy is None:
            raise Rejected(404, "unknown push URL")
        call.state[_ORG] = org

    async def verify(self, call: Call) -> None:
        org: Org = call.state[_ORG]
        app = call.request.app
        try:
            secret = _client_secret(app[ALERTS], app[SERVICES], org)
        except SecretKeyRetired:
            log.error(logs.PUSH_SECRET_RETIRED, org.org_id)
            raise Rejected(401, "signature cannot be checked") from None
        header = call.request.headers.get(HEADER)
        if header is None:
            raise Rejected(401, f"missing {HEADER} header")
        if not verify_push_hmac(secret, call.body, header):
            raise Rejected(401, f"{HEADER} does not match the body")

    def parse(self, call: Call) -> Notification:
        if not _content_type_ok(call.request.headers.get("Content-Type")):
            raise Rejected(415, "content type must be application/json")
        payload = _json_object(call.body)
        if isinstance(payload, str):
            raise Rejected(400, payload)
        return parse_notification(payload, callback=call.request.query.get("callback"))

    async def handle(self, call: Call, note: Notification) -> web.Response:
        app = call.request.app
        services, state, metrics = app[SERVICES], app[ALERTS], app[METRICS]
        org: Org = call.state[_ORG]
        now = services.clock()
        try:
            committed, write = await record_event(services.store, org, note, call.body, now=now)
        except StoreError:
            raise Unavailable("store unavailable") from None
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
                pass  # the adapters refuse to deliver for an inactive org: held anyway
        elif write.jobs:
            wake_worker(app)
        await _touch_last_callback(state, services, org.org_id, now)
        return web.json_response({"status": "accepted", "type": note.raw_type})


_ORG = "org"
_PUSH = PushEndpoint()


async def push(request: web.Request) -> web.StreamResponse:
    return await ingress.run(_PUSH, request)


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
