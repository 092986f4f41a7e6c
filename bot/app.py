"""The aiohttp application factory.

One process serves every route. The core adds health, readiness and metrics; each feature
module and each enabled platform adapter adds its own routes through a `setup(app)` hook,
so the core never imports a chat SDK.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import logs
from bot.config import Settings
from bot.errors import StoreError
from bot.metrics import Metrics
from bot.runtime import METRICS, READINESS, RUN_WORKER, SERVICES, Services
from bot.secrets import SecretBox, secret_box_for
from bot.store import open_store
from bot.store.base import Store

log = logging.getLogger(__name__)


# Feature modules of the core: each has `setup(app: web.Application) -> None`.
FEATURES: tuple[str, ...] = (
    "bot.cronofy.http",
    "bot.alerts.http",
    "bot.outbox.lifecycle",
)
# Platform adapters: (name, module); each has `setup(app)` and is loaded when enabled
ADAPTERS: tuple[tuple[str, str], ...] = (
    ("Slack", "adapters.slack"),
    ("Teams", "adapters.teams"),
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request; turn an unexpected exception into a plain 500."""
    metrics = request.app[METRICS]
    route = _route_name(request)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except Exception:
        log.exception(logs.UNHANDLED, request.method, route)
        return web.json_response({"error": "internal error"}, status=500)
    finally:
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    state = request.app[READINESS]
    try:
        await services.store.ping()
    except StoreError as exc:
        if state.get("up", True):
            log.error(logs.STORE_DOWN, exc)
        state["up"] = False
        return web.json_response({"status": "unavailable", "store": str(exc)}, status=503)
    if not state.get("up", True):
        log.info(logs.STORE_UP)
    state["up"] = True
    return web.json_response({"status": "ready"})


async def metrics_view(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    services = request.app[SERVICES]
    try:
        metrics.outbox_depth.set(await services.store.outbox_depth())
    except StoreError:
        pass
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    secrets: SecretBox | None = None,
    features: tuple[str, ...] = FEATURES,
    adapters: bool = True,
    run_worker: bool = True,
) -> web.Application:
    """Build the application. `store` and `secrets` may be given (tests); otherwise they are
    made from settings and opened/closed with the app."""
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[observe])
    services = Services(
        settings=settings,
        store=store if store is not None else open_store(settings),
        secrets=secrets
        if secrets is not None
        else secret_box_for(settings.secret_keys, settings.data_dir),
    )
    app[SERVICES] = services
    app[METRICS] = Metrics()
    app[READINESS] = {}
    app[RUN_WORKER] = run_worker

    async def store_lifecycle(app: web.Application) -> AsyncIterator[None]:
        await services.store.open()
        yield
        await services.store.close()

    # the store opens first and closes last: every later context may use it
    app.cleanup_ctx.append(store_lifecycle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    for module in features:
        importlib.import_module(module).setup(app)
    if adapters:
        for _name, module in enabled_adapters(settings):
            importlib.import_module(module).setup(app)
    return app


def enabled_adapters(settings: Settings) -> list[tuple[str, str]]:
    out = []
    for name, module in ADAPTERS:
        if name == "Slack" and settings.slack_enabled:
            out.append((name, module))
        if name == "Teams" and settings.teams_enabled:
            out.append((name, module))
    return out


def feature_report(settings: Settings) -> list[tuple[str, bool, str]]:
    """(feature, on?, why) for the start-up log and `doctor`."""
    slack_why = settings.slack_off_reason or (
        "Socket Mode"
        if settings.slack_app_token
        else "multi-workspace OAuth install"
        if settings.slack_multi_workspace
        else "single workspace"
        if settings.slack_bot_token
        else "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are not set: commands only, no outbound messages"
    )
    teams_why = settings.teams_off_reason or (
        "TEAMS_DEV_MODE=1, inbound requests NOT authenticated"
        if settings.teams_dev_mode and not settings.microsoft_app_id
        else f"{settings.microsoft_app_type}, inbound JWTs verified"
    )
    store_kind = "SQLite" if settings.sqlite_path is not None else "Redis"
    return [
        ("Store", True, f"{store_kind} {settings.describe()['store_url']}"),
        ("Slack", settings.slack_enabled, slack_why),
        ("Teams", settings.teams_enabled, teams_why),
        (
            "Secrets",
            True,
            "BOT_SECRET_KEYS" if settings.secret_keys else "development key in the data folder",
        ),
    ]
