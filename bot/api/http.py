"""The read API's routes, `/api/v1/…`, each an endpoint of the core ingress chain
(`bot.ingress`), which fits these GETs as it fits the webhooks: `before_read` checks the
bearer token and the token's rate (nothing is read for a request refused), `parse` checks the
query, `handle` reads the store, and `rejection_body` shapes every refusal as
`{"error": {"code", "message"}}` with a stable code. The body cap and the one place a refusal
becomes a log line come with the chain.

Every read is scoped to the token's org: an id of another org is "not_found", the same answer
as an id that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from bot import ingress, jsonio
from bot.api import cursors, tokens, views
from bot.api.openapi import document
from bot.errors import StoreError
from bot.ingress import Call, EndpointBase, Rejected, Unavailable
from bot.ratelimit import RateLimiter
from bot.runtime import SERVICES
from bot.store.feeds import MAX_PAGE, BadPosition

PREFIX = "/api/v1/"
DEFAULT_LIMIT = 100
TIMELINE_LIMIT = 500  # a candidate's latest entries shown with the profile
MAX_EMAIL = 254
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{1,63}")
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")

API_LIMITER = web.AppKey("api_limiter", RateLimiter)
LAST_USED = web.AppKey("api_last_used", tokens.LastUsed)
EVENTS_FEED, AUDIT_FEED = "e1", "a1"

Q = TypeVar("Q")


class ApiError(Rejected):
    """A refusal with its stable code (the OpenAPI document lists them)."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, message, headers=headers)
        self.code = code


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="slotbot"'}
    )


class ApiEndpoint(EndpointBase[Q]):
    """Bearer token and rate limit before anything else; JSON refusals."""

    async def before_read(self, call: Call) -> None:
        request = call.request
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise _unauthorized("Send the token as Authorization: Bearer <token>.")
        services = request.app[SERVICES]
        try:
            checked = await tokens.check(services.store, presented.strip())
        except StoreError:
            raise Unavailable() from None
        if checked.outcome == "unknown" or checked.token is None:
            raise _unauthorized("This token is not known.")
        token = checked.token
        if checked.outcome == "revoked":
            raise ApiError(403, "revoked_token", "This token was revoked.")
        wait = request.app[API_LIMITER].take(f"{token.org_id}:{token.name}")
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                "Too many requests with this token; try again after Retry-After seconds.",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        try:
            await request.app[LAST_USED].touch(services.store, token, services.clock())
        except StoreError:
            pass  # the last use is a courtesy; the read itself will tell if the store is down
        call.state["org_id"] = token.org_id

    async def verify(self, call: Call) -> None:
        return None  # the token was checked before reading (a GET has no body to verify)

    def parse(self, call: Call) -> Q:
        raise NotImplementedError

    def rejection_body(self, rejected: Rejected) -> dict[str, Any]:
        if isinstance(rejected, ApiError):
            return views.error_json(rejected.code, rejected.reason)
        code = {413: "too_large", 503: "unavailable"}.get(rejected.status, "bad_request")
        return views.error_json(code, rejected.reason)

    async def handle(self, call: Call, parsed: Q) -> web.StreamResponse:
        try:
            body = await self.read(call, call.state["org_id"], parsed)
        except StoreError:
            raise Unavailable() from None
        except BadPosition:
            raise _bad_cursor() from None
        # a page of 100 events is ~40 KiB of JSON: orjson writes it several times faster
        return web.json_response(body, dumps=jsonio.dumps)

    async def read(self, call: Call, org_id: str, parsed: Q) -> dict[str, Any]:
        raise NotImplementedError


def _bad_cursor() -> ApiError:
    return ApiError(400, "bad_cursor", "after is not a cursor this feed gave out.")


@dataclass(frozen=True)
class PageQuery:
    after: str | None
    limit: int


def _page_query(call: Call, feed: str) -> PageQuery:
    query = call.request.query
    raw_limit = query.get("limit", str(DEFAULT_LIMIT))
    if not re.fullmatch(r"[0-9]{1,4}", raw_limit) or not 1 <= int(raw_limit) <= MAX_PAGE:
        raise ApiError(400, "bad_limit", f"limit must be a whole number from 1 to {MAX_PAGE}.")
    try:
        after = cursors.decode(feed, query.get("after"))
    except cursors.BadCursor:
        raise _bad_cursor() from None
    return PageQuery(after, int(raw_limit))


class EventsEndpoint(ApiEndpoint[PageQuery]):
    name = "GET /api/v1/events"

    def parse(self, call: Call) -> PageQuery:
        return _page_query(call, EVENTS_FEED)

    async def read(self, call: Call, org_id: str, parsed: PageQuery) -> dict[str, Any]:
        store = call.request.app[SERVICES].store
        page = await store.list_org_events(org_id, parsed.after, parsed.limit)
        items = [
            views.event_json(cursors.encode(EVENTS_FEED, row.position), row.candidate_id, row.entry)
            for row in page.rows
        ]
        resume = page.last if page.last is not None else parsed.after
        return views.page_json(
            "events",
            items,
            None if resume is None else cursors.encode(EVENTS_FEED, resume),
            more=len(page.rows) == parsed.limit,
        )


class AuditEndpoint(ApiEndpoint[PageQuery]):
    name = "GET /api/v1/audit"

    def parse(self, call: Call) -> PageQuery:
        return _page_query(call, AUDIT_FEED)

    async def read(self, call: Call, org_id: str, parsed: PageQuery) -> dict[str, Any]:
        store = call.request.app[SERVICES].store
        page = await store.list_audit_after(org_id, parsed.after, parsed.limit)
        items = [
            views.audit_json(cursors.encode(AUDIT_FEED, row.position), row.entry)
            for row in page.rows
        ]
        resume = page.last if page.last is not None else parsed.after
        return views.page_json(
            "entries",
            items,
            None if resume is None else cursors.encode(AUDIT_FEED, resume),
            more=len(page.rows) == parsed.limit,
        )


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such candidate.")


class CandidateByEmailEndpoint(ApiEndpoint[str]):
    name = "GET /api/v1/candidates"

    def parse(self, call: Call) -> str:
        email = call.request.query.get("email")
        if email is None:
            raise ApiError(400, "missing_email", "Give the candidate's email: ?email=<email>.")
        email = email.strip()
        if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
            # the reason never repeats what was sent: it may be personal data
            raise ApiError(400, "bad_email", "email is not an email address.")
        return email.lower()

    async def read(self, call: Call, org_id: str, parsed: str) -> dict[str, Any]:
        store = call.request.app[SERVICES].store
        candidate = await store.find_candidate_by_email(org_id, parsed)
        if candidate is None or candidate.org_id != org_id:
            raise _not_found()
        timeline = await store.list_timeline(org_id, candidate.candidate_id, TIMELINE_LIMIT)
        return views.candidate_json(candidate, timeline)


class CandidateEndpoint(ApiEndpoint[str]):
    name = "GET /api/v1/candidates/{id}"

    def parse(self, call: Call) -> str:
        candidate_id = call.request.match_info.get("candidate_id", "")
        if not _ID.fullmatch(candidate_id):
            raise _not_found()
        return candidate_id

    async def read(self, call: Call, org_id: str, parsed: str) -> dict[str, Any]:
        store = call.request.app[SERVICES].store
        candidate = await store.get_candidate(org_id, parsed)
        if candidate is None or candidate.org_id != org_id:
            raise _not_found()
        timeline = await store.list_timeline(org_id, candidate.candidate_id, TIMELINE_LIMIT)
        return views.candidate_json(candidate, timeline)


def _route(endpoint: ApiEndpoint[Q]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await ingress.run(endpoint, request)

    return handler


ROUTES: dict[str, ApiEndpoint[Any]] = {
    PREFIX + "events": EventsEndpoint(),
    PREFIX + "audit": AuditEndpoint(),
    PREFIX + "candidates": CandidateByEmailEndpoint(),
    PREFIX + "candidates/{candidate_id}": CandidateEndpoint(),
}


async def openapi_view(request: web.Request) -> web.Response:
    settings = request.app[SERVICES].settings
    return web.json_response(document(settings.public_url.rstrip("/") + PREFIX.rstrip("/")))


async def elsewhere(request: web.Request) -> web.Response:
    """Anything else under /api/v1/: JSON too, never an HTML page."""
    known = request.path.rstrip("/") in {path.rstrip("/") for path in ROUTES} or (
        request.path.startswith(PREFIX + "candidates/")
    )
    if known or request.path == PREFIX + "openapi.json":
        return web.json_response(
            views.error_json("method_not_allowed", "Only GET is served here."),
            status=405,
            headers={"Allow": "GET, HEAD"},
        )
    return web.json_response(views.error_json("not_found", "No such route."), status=404)


def setup(app: web.Application) -> None:
    """Mount the read API (a core feature: `bot.app.default_features`)."""
    services = app[SERVICES]
    # through a lambda: tests set services.clock after the app is built
    app[API_LIMITER] = RateLimiter(services.settings.api_rate_limit, clock=lambda: services.clock())
    app[LAST_USED] = tokens.LastUsed()
    for path, endpoint in ROUTES.items():
        app.router.add_get(path, _route(endpoint))
    app.router.add_get(PREFIX + "openapi.json", openapi_view)
    app.router.add_route("*", PREFIX + "{tail:.*}", elsewhere)
