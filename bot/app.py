"""The aiohttp application factory.

One process serves every route. The core adds health, readiness and metrics; each feature
and each enabled chat platform (bot.platforms) adds its own routes and lifecycle through a
`setup(app)` hook. The app is built from objects handed to it, so the core names no
platform and never imports a chat SDK.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import logs
from bot.alerts import http as alerts_http
from bot.api import http as api_http
from bot.candidates import export as candidates_export
from bot.config import Settings
from bot.cronofy import http as cronofy_http
from bot.errors import StoreError
from bot.metrics import Metrics
from bot.outbox import lifecycle as outbox_lifecycle
from bot.pages import html_page
from bot.platforms import Platform, enabled, installed_platforms
from bot.ratelimit import RateLimiter
from bot.runtime import METRICS, PAGE_LIMITER, READINESS, RUN_WORKER, SERVICES, Services
from bot.secrets import SecretBox, secret_box_for
from bot.store import open_store
from bot.store.base import Store
from cards import pages

log = logging.getLogger(__name__)


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
    """200 when the store answers; else 503 with a fixed reason (the store's own error names
    hosts and ports: it goes to the log, once per outage)."""
    services = request.app[SERVICES]
    state = request.app[READINESS]
    try:
        await services.store.ping()
    except StoreError as exc:
        if state.get("up", True):
            log.error(logs.STORE_DOWN, exc)
        state["up"] = False
        return web.json_response({"status": "unavailable", "store": "unreachable"}, status=503)
    if not state.get("up", True):
        log.info(logs.STORE_UP)
    state["up"] = True
    return web.json_response({"status": "ready"})


def _bearer_ok(request: web.Request, token: str) -> bool:
    """The request carries `Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


async def metrics_view(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    services = request.app[SERVICES]
    token = services.settings.metrics_token
    if token is not None and not _bearer_ok(request, token):
        log.info(logs.METRICS_REFUSED, request.remote or "-")
        return web.json_response(
            {"error": "unauthorized"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    try:
        metrics.outbox_depth.set(await services.store.outbox_depth())
        metrics.due_lag.set(await services.store.due_lag(services.clock()))
    except StoreError:
        pass
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


Feature = Callable[[web.Application], None]  # adds its routes and lifecycle to the app


def default_features() -> list[Feature]:
    """The core's own features: the Cronofy OAuth redirect and pages, alerts, the read API,
    candidate exports' download links, and the outbox worker (after alerts: it stops first,
    finishing the job in hand)."""
    return [
        cronofy_http.setup,
        alerts_http.setup,
        api_http.setup,
        candidates_export.setup,
        outbox_lifecycle.setup,
    ]


def create_app(
    settings: Settings,
    *,
    platforms: Sequence[Platform] | None = None,
    features: Sequence[Feature] | None = None,
    store: Store | None = None,
    secrets: SecretBox | None = None,
    run_worker: bool = True,
) -> web.Application:
    """Build the application from objects: the chat `platforms` to serve (default: every
    installed platform its settings turn on) and the core `features` (default: all).
    `store` and `secrets` may be given (tests); otherwise they are made from settings and
    opened/closed with the app."""
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
    app[PAGE_LIMITER] = RateLimiter(settings.page_rate_limit)

    async def store_lifecycle(app: web.Application) -> AsyncIterator[None]:
        await services.store.open()
        yield
        await services.store.close()

    # the store opens first and closes last: every later context may use it
    app.cleanup_ctx.append(store_lifecycle)
    chosen = enabled(installed_platforms(settings)) if platforms is None else platforms
    home = pages.server_home([platform.title for platform in chosen])

    async def server_home(request: web.Request) -> web.Response:
        return html_page(200, home)

    app.router.add_get("/", server_home)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    for feature in default_features() if features is None else features:
        feature(app)
    for platform in chosen:
        platform.setup(app)
    return app


def store_description(settings: Settings) -> str:
    """Which store, and for SQLite the file it really is: `sqlite:///x.db` is relative to the
    working folder (`sqlite:////abs/x.db` is absolute), which is easy to misread."""
    path = settings.sqlite_path
    if path is None:
        return f"Redis {settings.describe()['store_url']}"
    where = f"SQLite {path.resolve()}"
    if not path.is_absolute():
        where += (
            f" ({settings.store_url} is relative to the working folder; sqlite:////… is absolute)"
        )
    return where


def feature_report(
    settings: Settings, platforms: Sequence[Platform]
) -> list[tuple[str, bool, str]]:
    """(feature, on?, why) for the start-up log and `doctor`."""
    return [
        ("Store", True, store_description(settings)),
        *((platform.title, platform.enabled, platform.status) for platform in platforms),
        (
            "Secrets",
            True,
            "BOT_SECRET_KEYS" if settings.secret_keys else "development key in the data folder",
        ),
    ]
