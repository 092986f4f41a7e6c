"""The one guarded chain every inbound request of a platform or of Cronofy goes through.

    size cap → read → verify (hook) → parse (hook) → claim (dedupe) → handle (hook)
            → release the claims when handling fails → answer

An endpoint is a set of hooks (`Endpoint`); the chain runs them in this order and nothing
else, so every endpoint gets the same guarantees: a body over the cap is refused before it is
read (413), nothing is parsed before it is verified, a request already handled is answered as
a duplicate without being handled again, and work that failed (an exception, or a 5xx answer)
gives its claims back so the sender's retry is handled rather than taken for a replay.

Hooks raise `Rejected` (a 4xx with its reason) or `Unavailable` (a 503: the store is down,
the sender should retry); `answer()` is the one place that turns them into a response and a
log line. An endpoint shapes its error body (`rejection_body`) where a platform expects its
own, and may count rejections (`on_rejected`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

from bot import logs
from bot.errors import SlotbotError, StoreError
from bot.runtime import SERVICES

log = logging.getLogger(__name__)

P = TypeVar("P")


class Rejected(SlotbotError):
    """The request is refused: `status` (4xx) with `reason`, a short text safe to show."""

    def __init__(
        self, status: int, reason: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})


class Unavailable(Rejected):
    """Something Slotbot needs (the store, a key server) is not answering: 503, try again.
    The reason given to the sender never carries the underlying error's own message."""

    def __init__(self, reason: str = "temporarily unavailable") -> None:
        super().__init__(503, reason)


@dataclass
class Claim:
    """A dedupe key this request takes for `ttl` seconds; when it is already taken, the
    request is answered with `duplicate()` and not handled again."""

    key: str
    ttl: float
    note: str = ""  # said in the log line when the request turns out to be a duplicate
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def duplicate(self) -> web.Response:
        return web.Response(status=self.status, headers=self.headers)


@dataclass
class Call:
    """One request on its way through the chain; hooks may leave what they learnt in
    `state` for the hooks after them (an org found while verifying, say)."""

    request: web.Request
    body: bytes = b""
    state: dict[str, Any] = field(default_factory=dict)


class Endpoint(Protocol, Generic[P]):
    """The hooks of one route. Every hook may raise Rejected / Unavailable."""

    name: str  # the route, for log lines

    async def before_read(self, call: Call) -> None:
        """Checks that need no body (cheapest first: an unknown push URL is refused unread)."""

    async def verify(self, call: Call) -> None:
        """Authenticate the request on its raw bytes."""

    def parse(self, call: Call) -> P:
        """The verified request as what the handler works on."""

    def claims(self, call: Call, parsed: P) -> list[Claim]:
        """Dedupe keys to take before handling, in order (none: the handler dedupes)."""

    async def handle(self, call: Call, parsed: P) -> web.StreamResponse:
        """Do the work; a 5xx answer (or an exception) gives the claims back."""

    def rejection_body(self, rejected: Rejected) -> dict[str, Any]:
        """The JSON body of a refusal."""

    def on_rejected(self, call: Call, rejected: Rejected) -> None:
        """Told of every refusal (metrics); the log line is written by the chain."""


class EndpointBase(Generic[P]):
    """Defaults for the optional hooks."""

    name = "?"

    async def before_read(self, call: Call) -> None:
        return None

    def claims(self, call: Call, parsed: P) -> list[Claim]:
        return []

    def rejection_body(self, rejected: Rejected) -> dict[str, Any]:
        return {"error": rejected.reason}

    def on_rejected(self, call: Call, rejected: Rejected) -> None:
        return None


async def run(endpoint: Endpoint[P], request: web.Request) -> web.StreamResponse:
    """The chain. Only a bug in a hook escapes it (the app's middleware answers that 500)."""
    call = Call(request)
    try:
        await _read(endpoint, call)
        await endpoint.verify(call)
        parsed = endpoint.parse(call)
        taken = await _claim(endpoint, call, parsed)
        return await _handle(endpoint, call, parsed, taken)
    except _Duplicate as duplicate:
        return duplicate.response
    except Rejected as rejected:
        return answer(endpoint, call, rejected)


async def _read(endpoint: Endpoint[P], call: Call) -> None:
    request = call.request
    limit = request.app[SERVICES].settings.max_body_bytes
    too_large = Rejected(413, f"body larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    await endpoint.before_read(call)
    try:
        call.body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None
    if len(call.body) > limit:
        raise too_large


class _Duplicate(Exception):
    """Raised by a claim already taken: the request is answered, not handled."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


async def _claim(endpoint: Endpoint[P], call: Call, parsed: P) -> list[Claim]:
    store = call.request.app[SERVICES].store
    taken: list[Claim] = []
    try:
        for claim in endpoint.claims(call, parsed):
            if not await store.claim_once(claim.key, claim.ttl):
                log.info(logs.REQUEST_DUPLICATE, endpoint.name, claim.note or "already handled")
                raise _Duplicate(claim.duplicate())
            taken.append(claim)
    except StoreError as exc:
        log.warning(logs.STORE_DOWN, exc)
        raise Unavailable() from None
    return taken


async def _handle(
    endpoint: Endpoint[P], call: Call, parsed: P, taken: list[Claim]
) -> web.StreamResponse:
    try:
        response = await endpoint.handle(call, parsed)
    except BaseException:  # a refusal, a bug or a cancellation: the work did not happen
        await _release(call, taken)
        raise
    if response.status >= 500:
        # the work did not happen: the sender's retry must not be taken for a replay
        await _release(call, taken)
    return response


async def _release(call: Call, taken: list[Claim]) -> None:
    store = call.request.app[SERVICES].store
    for claim in taken:
        try:
            await store.release_claim(claim.key)
        except StoreError as exc:
            log.warning(logs.STORE_DOWN, exc)


def answer(endpoint: Endpoint[P], call: Call, rejected: Rejected) -> web.Response:
    """The one place a refusal becomes a response and a log line."""
    endpoint.on_rejected(call, rejected)
    log.info(logs.REQUEST_REJECTED, call.request.method, endpoint.name, rejected.reason)
    return web.json_response(
        endpoint.rejection_body(rejected), status=rejected.status, headers=rejected.headers
    )
