"""Outbound Bot Connector calls: threads of their own, no hidden retries, and a deadline.

botbuilder sends through msrest, which runs `requests` on the event loop's default executor
(shared with DNS lookups and Cronofy calls), lets urllib3 retry a failed connection three times
(0.8 + 1.6 + 3.2 s of backoff) with a 100 s timeout, and signs each request (which may fetch an
app token, blocking) on the event loop itself. With the connector slow or down, one Teams turn
waited ~10 s per message, and a burst of turns queued behind each other in the default pool.

Every ConnectorClient Slotbot's CloudAdapter makes gets another pipeline (`TeamsAuthentication`
hands botbuilder connector factories that install it):

- requests and signing run on `OutboundCalls.executor`, a few threads of Teams' own;
- msrest retries nothing: `adapters.teams.retry` decides, honouring Retry-After;
- each request's timeout is what is left of the current deadline (`deadline(...)`, set around
  an inbound turn), or `OUTBOUND_TIMEOUT_SECONDS` outside one (the outbox worker);
- an error answer whose body is not JSON reaches `retry` with the connector's status, rather
  than as an unreadable response.

A call that runs out of time raises `ConnectorTimeout`; one that cannot reach the connector
raises `ConnectorUnreachable`. Neither says whether the connector acted on the request.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import requests
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncPipeline
from msrest.pipeline.async_requests import AsyncPipelineRequestsHTTPSender
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http.async_requests import (
    AsyncRequestsClientResponse,
    AsyncRequestsHTTPSender,
)

T = TypeVar("T")

OUTBOUND_THREADS = 8
OUTBOUND_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.05
# a thread that overran its requests timeout (a DNS lookup, say) is given up on this much later
BACKSTOP_SECONDS = 0.5
# less time than this left: the call is not started
MIN_CALL_SECONDS = 0.05

_DEADLINE: ContextVar[float | None] = ContextVar("teams_outbound_deadline", default=None)


class ConnectorTimeout(Exception):
    """A connector call did not complete in the time it had."""


class ConnectorUnreachable(Exception):
    """A connector call failed before any answer (refused, reset, name not found)."""


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Connector calls made within this block end by `at` (a `time.monotonic()` time)."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (None: no deadline)."""
    at = _DEADLINE.get()
    return None if at is None else at - time.monotonic()


class OutboundCalls:
    """The threads and time limits of every outbound Bot Connector call of one app."""

    def __init__(
        self,
        *,
        threads: int = OUTBOUND_THREADS,
        timeout: float = OUTBOUND_TIMEOUT_SECONDS,
    ) -> None:
        self.timeout = timeout
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="teams-out")

    def time_left(self) -> float:
        """Seconds the next call may take: the rest of the deadline, at most `timeout`."""
        left = time_left()
        return self.timeout if left is None else min(self.timeout, left)

    async def run(self, fn: Callable[[], T], budget: float | None = None) -> T:
        """`fn()` on the outbound threads, given up after `budget` (or the time left)."""
        budget = self.time_left() if budget is None else budget
        if budget < MIN_CALL_SECONDS:
            raise ConnectorTimeout("no time left for the call")
        future = asyncio.get_running_loop().run_in_executor(self.executor, fn)
        try:
            return await asyncio.wait_for(future, budget + BACKSTOP_SECONDS)
        except TimeoutError:
            raise ConnectorTimeout("the call did not complete in time") from None

    def pipeline(self, config: Any) -> Any:
        """The msrest pipeline for one ConnectorClient's configuration (see module doc)."""
        config.retry_policy.retries = 0
        policies: list[Any] = [config.user_agent_policy]
        if config.credentials is not None:
            policies.append(_Signing(config.credentials, self))
        policies += [_TolerantDeserializer(), config.http_logger_policy]
        return AsyncPipeline(policies, AsyncPipelineRequestsHTTPSender(_Sender(config, self)))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class _Signing(AsyncHTTPPolicy[Any, Any]):
    """Adds the bot's token to a request; fetching one blocks, so on the outbound threads."""

    def __init__(self, credentials: Any, calls: OutboundCalls) -> None:
        super().__init__()
        self.credentials = credentials
        self.calls = calls

    async def send(self, request: Any, **kwargs: Any) -> Any:
        session = request.context.session
        await self.calls.run(functools.partial(self.credentials.signed_session, session))
        assert self.next is not None  # the pipeline links every policy to the next
        return await self.next.send(request, **kwargs)


class _TolerantDeserializer(RawDeserializer):
    """An error answer that is not JSON (a proxy's text page) is left unread, so the
    operation raises the connector's status instead of a deserialization error."""

    def on_response(self, request: Any, response: Any, **kwargs: Any) -> None:
        try:
            super().on_response(request, response, **kwargs)
        except DeserializationError:
            if response.http_response.status_code < 400:
                raise
            response.context[self.CONTEXT_NAME] = None


class _Sender(AsyncRequestsHTTPSender):
    def __init__(self, config: Any, calls: OutboundCalls) -> None:
        super().__init__(config)
        self.calls = calls

    async def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        options: dict[str, Any] = self._configure_send(request, **kwargs)
        session = options.pop("session", self.session)
        budget = self.calls.time_left()
        options["timeout"] = (min(CONNECT_TIMEOUT_SECONDS, budget), budget)
        call = functools.partial(session.request, request.method, request.url, **options)
        try:
            answer = await self.calls.run(call, budget)
        except requests.Timeout:
            raise ConnectorTimeout("the connector did not answer in time") from None
        except requests.RequestException as exc:
            raise ConnectorUnreachable(type(exc).__name__) from None
        return AsyncRequestsClientResponse(request, answer)  # type: ignore[no-untyped-call]


class _ConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """botbuilder's connector factory, with Slotbot's pipeline in every client it makes."""

    def __init__(self, inner: Any, calls: OutboundCalls) -> None:
        self.inner = inner
        self.calls = calls

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        client = await self.inner.create(service_url, audience)
        client.config.pipeline = self.calls.pipeline(client.config)
        return client


class TeamsAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication, handing out connector factories that use `calls`."""

    def __init__(self, inner: Any, calls: OutboundCalls) -> None:
        self.inner = inner
        self.calls = calls

    async def authenticate_request(
        self, activity: Activity, auth_header: str | None
    ) -> AuthenticateRequestResult:
        result = await self.inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ConnectorFactory(result.connector_factory, self.calls)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ConnectorFactory(self.inner.create_connector_factory(claims_identity), self.calls)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        return await self.inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self) -> Any:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self.inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self.inner.authenticate_channel_request(auth_header)
