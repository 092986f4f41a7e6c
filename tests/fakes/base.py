"""FakeServer: a real aiohttp HTTP server on 127.0.0.1 that stands in for an upstream service.

Each fake runs on its own event loop in a daemon thread. botbuilder fetches OpenID metadata with
a blocking ``requests.get`` on the caller's loop, and pycronofy is blocking too; a fake served by
the test's own loop would deadlock against such a caller, a fake on its own loop never does.

Every request is recorded (``.requests``) before it is answered, and every route can be told to
fail: ``fail_next`` (scripted error answers), ``fail_for`` (a window of errors), ``slow`` (delay),
``reset_connection`` (close the socket without answering). Rules match a request by its logical
name (``"chat.postMessage"``, ``"send_to_conversation"``, ``"token"``), by its exact path, by a
path prefix ending in ``*``, or by ``"*"`` for everything.

The same routes answer ``GET /_fake/requests`` and ``POST /_fake/control`` so a fake running in a
separate process (``python -m tests.fakes.serve``) can be inspected and scripted over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

Handler = Callable[[web.Request, "Recorded"], Awaitable[web.StreamResponse]]
Matcher = str | Callable[["Recorded"], bool]

# Headers whose values are credentials: masked whenever a record is printed or exported.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-slack-signature"})
_FAKE_PREFIX = "/_fake/"


@dataclass
class Recorded:
    """One request as the fake received it, and the status it was answered with."""

    name: str
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDictProxy[str]
    body: bytes
    json: Any
    form: dict[str, str] | None
    match_info: dict[str, str]
    at: float
    #: The status answered; None while in flight or when the connection was dropped.
    status: int | None = None
    #: The JSON the fake answered with, when it answered JSON.
    response: Any = None
    #: True once the fake has answered or dropped the request (what ``wait_for`` counts).
    done: bool = False

    @property
    def args(self) -> dict[str, Any]:
        """The call's parameters whatever the encoding: query, then form or JSON object fields."""
        merged: dict[str, Any] = dict(self.query)
        if self.form is not None:
            merged.update(self.form)
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("Authorization", "")
        if value[:7].lower() == "bearer ":
            return value[7:].strip()
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def matches(self, key: Matcher) -> bool:
        if callable(key):
            return key(self)
        if key == "*" or key == self.name or key == self.path:
            return True
        return key.endswith("*") and self.path.startswith(key[:-1])

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe view with credentials masked (for ``GET /_fake/requests``)."""
        return {
            "name": self.name,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": {k: _mask(k, v) for k, v in self.headers.items()},
            "body_b64": base64.b64encode(self.body).decode("ascii"),
            "json": self.json,
            "form": self.form,
            "match_info": self.match_info,
            "at": self.at,
            "status": self.status,
            "response": self.response,
        }

    def __repr__(self) -> str:
        return f"Recorded({self.method} {self.path} name={self.name!r} status={self.status})"


def _mask(name: str, value: str) -> str:
    if name.lower() in _SECRET_HEADERS:
        scheme, _, rest = value.partition(" ")
        return f"{scheme} ***" if rest else "***"
    return value


@dataclass
class _Rule:
    """One scripted misbehaviour. ``times=None`` means until ``until`` or until reset."""

    key: Matcher
    kind: str  # "fail" | "delay" | "reset"
    times: int | None = 1
    until: float | None = None
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0

    def live(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.times is None or self.times > 0


class FakeServer:
    """Base class: subclasses add routes with ``self.route(...)`` in ``build_routes``."""

    #: Human name used in messages and by ``python -m tests.fakes.serve``.
    kind = "fake"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._requests: list[Recorded] = []
        self._rules: list[_Rule] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"
        self.app = web.Application(client_max_size=8 * 1024 * 1024)
        self.app.router.add_get(_FAKE_PREFIX + "requests", self._fake_requests)
        self.app.router.add_post(_FAKE_PREFIX + "control", self._fake_control)
        self.build_routes()
        self.app.router.add_route("*", "/{tail:.*}", self._wrap("unknown", self._not_found))

    # ----------------------------------------------------------------- lifecycle

    def build_routes(self) -> None:
        """Subclasses register their routes here."""

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{self.kind} fake is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{self._host}:{self.port}"

    async def start(self, port: int = 0) -> None:
        """Start serving on its own loop in a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError(f"{self.kind} fake already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"fake-{self.kind}", daemon=True
        )
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._bind(port), loop)
        await asyncio.wrap_future(future)

    async def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._unbind(), loop)
        await asyncio.wrap_future(future)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 5.0)
        loop.close()
        self._loop = self._thread = None

    async def serve_here(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve on the current loop (for a separate process: ``tests.fakes.serve``)."""
        self._host = host
        await self._bind(port)

    async def _bind(self, port: int) -> None:
        # A short shutdown timeout: a request held by ``slow`` must not hold up ``stop``.
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1])

    async def _unbind(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Requests still held by ``slow`` would otherwise die with the loop, noisily.
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def __aenter__(self) -> FakeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- routes

    def route(self, method: str, path: str, name: str, handler: Handler) -> None:
        """Add a route whose requests are recorded under ``name`` and subject to fault rules."""
        self.app.router.add_route(method, path, self._wrap(name, handler))

    def _wrap(
        self, name: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            record = await self._record(request, name)
            try:
                response = await self._misbehave(request, record)
                if response is None:
                    response = await handler(request, record)
                record.status = response.status
                if (
                    isinstance(response, web.Response)
                    and response.content_type == "application/json"
                ):
                    body = response.body
                    if isinstance(body, bytes | bytearray):
                        try:
                            record.response = json.loads(body)
                        except ValueError:
                            record.response = None
                return response
            finally:
                record.done = True

        return wrapped

    async def _record(self, request: web.Request, name: str) -> Recorded:
        body = await request.read()
        parsed_json: Any = None
        form: dict[str, str] | None = None
        content_type = request.content_type
        if body and (content_type == "application/json" or body[:1] in (b"{", b"[")):
            try:
                parsed_json = json.loads(body)
            except ValueError:
                parsed_json = None
        if body and content_type == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        record = Recorded(
            name=name,
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            body=body,
            json=parsed_json,
            form=form,
            match_info=dict(request.match_info),
            at=time.time(),
        )
        with self._lock:
            self._requests.append(record)
        return record

    async def _misbehave(self, request: web.Request, record: Recorded) -> web.StreamResponse | None:
        delays: list[float] = []
        chosen: _Rule | None = None
        with self._lock:
            now = time.monotonic()
            self._rules = [rule for rule in self._rules if rule.live(now)]
            for rule in self._rules:
                if not record.matches(rule.key):
                    continue
                if rule.kind == "delay":
                    delays.append(rule.delay)
                elif chosen is None:
                    chosen = rule
                else:
                    continue
                if rule.times is not None:
                    rule.times -= 1
        for delay in delays:
            await asyncio.sleep(delay)
        if chosen is None:
            return None
        if chosen.kind == "reset":
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError  # nothing is written: the client sees a dropped socket
        body = chosen.body if chosen.body is not None else self.error_body(record, chosen.status)
        headers = dict(chosen.headers)
        if isinstance(body, bytes | str):
            return web.Response(status=chosen.status, body=body, headers=headers)
        return web.json_response(body, status=chosen.status, headers=headers)

    def error_body(self, record: Recorded, status: int) -> Any:
        """The body a scripted failure answers with when none was given (per upstream style)."""
        return {"error": f"scripted failure {status}"}

    async def _not_found(self, request: web.Request, record: Recorded) -> web.StreamResponse:
        return web.json_response({"error": "not_found", "path": request.path}, status=404)

    # ----------------------------------------------------------------- failure injection

    def fail_next(
        self,
        key: Matcher,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (and ``body`` if given)."""
        self._add_rule(
            _Rule(
                key=key,
                kind="fail",
                times=times,
                status=status,
                headers=_with_retry_after(headers, retry_after),
                body=body,
            )
        )

    def fail_for(
        self,
        key: Matcher,
        seconds: float,
        *,
        status: int = 429,
        retry_after: float | None = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer every matching request with ``status`` for the next ``seconds``."""
        self._add_rule(
            _Rule(
                key=key,
                kind="fail",
                times=None,
                until=time.monotonic() + seconds,
                status=status,
                headers=_with_retry_after(headers, retry_after),
                body=body,
            )
        )

    def slow(self, key: Matcher, seconds: float, *, times: int | None = None) -> None:
        """Delay matching requests by ``seconds`` (every one until ``reset``, or ``times``)."""
        self._add_rule(_Rule(key=key, kind="delay", times=times, delay=seconds))

    def reset_connection(self, key: Matcher, times: int = 1) -> None:
        """Drop the connection of the next ``times`` matching requests without answering."""
        self._add_rule(_Rule(key=key, kind="reset", times=times))

    def reset(self) -> None:
        """Forget recorded requests and scripted faults (registered users, tokens etc. stay)."""
        with self._lock:
            self._requests.clear()
            self._rules.clear()

    def _add_rule(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    # ----------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def calls(self, key: Matcher = "*") -> list[Recorded]:
        return [record for record in self.requests if record.matches(key)]

    def last(self, key: Matcher = "*") -> Recorded:
        found = self.calls(key)
        if not found:
            raise AssertionError(f"{self.kind} fake: no request matching {key!r}; {self.summary()}")
        return found[-1]

    async def wait_for(
        self, key: Matcher = "*", count: int = 1, timeout: float = 5.0
    ) -> list[Recorded]:
        """Poll until at least ``count`` matching requests have been answered (or dropped).

        Scenario tests use it to wait for side effects that happen after the bot's ack.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = [record for record in self.calls(key) if record.done]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{self.kind} fake: {len(found)} of {count} requests matching {key!r} "
                    f"after {timeout}s; {self.summary()}"
                )
            await asyncio.sleep(0.01)

    def summary(self) -> str:
        names = [f"{r.method} {r.name}->{r.status}" for r in self.requests]
        return f"received {len(names)}: {names}"

    # ----------------------------------------------------------------- remote control

    async def _fake_requests(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([record.to_json() for record in self.requests])

    async def _fake_control(self, request: web.Request) -> web.StreamResponse:
        try:
            command = await request.json()
            self.apply_control(command)
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    def apply_control(self, command: Mapping[str, Any]) -> None:
        """Apply a JSON command: ``{"op": "fail_next"|"fail_for"|"slow"|"reset_connection"|"reset", ...}``."""
        op = command["op"]
        options = {k: v for k, v in command.items() if k not in ("op", "key")}
        if op == "reset":
            self.reset()
        elif op == "fail_next":
            self.fail_next(command["key"], **options)
        elif op == "fail_for":
            self.fail_for(command["key"], **options)
        elif op == "slow":
            self.slow(command["key"], **options)
        elif op == "reset_connection":
            self.reset_connection(command["key"], **options)
        else:
            raise ValueError(f"unknown op {op!r}")


def _with_retry_after(
    headers: Mapping[str, str] | None, retry_after: float | None
) -> dict[str, str]:
    merged = dict(headers or {})
    if retry_after is not None:
        merged["Retry-After"] = (
            str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        )
    return merged


def json_or_form(record: Recorded) -> dict[str, Any]:
    """The body fields of a request regardless of encoding (JSON object or form)."""
    if isinstance(record.json, dict):
        return dict(record.json)
    return dict(record.form or {})
