"""A local stand-in for Cronofy: the calls Slotbot's Cronofy client makes, answered on 127.0.0.1.

One aiohttp application plays both of Cronofy's hosts (point `CRONOFY_API_URL` and
`CRONOFY_APP_URL` at it), with one internal application whose keys are made fresh for each
session:

- `POST /oauth/token`: an unknown client or a wrong secret answers 401 `invalid_client`; a good
  client with an unknown, used or mismatched code or refresh token 400 `invalid_grant` (how
  `/cronofy setup` checks keys); a good code or refresh token gives tokens and the account's sub;
- `GET /oauth/authorize`: the sign-in page a recruiter's connect link opens; its form
  (`POST /oauth/authorize`, approve or deny, signed in as an email) sends the browser back to
  the `redirect_uri` with a single-use code, or with `error=access_denied`;
- `GET /v1/userinfo`: the signed-in account, with one writable primary calendar;
- `POST /oauth/token/revoke`: the grant stops working;
- `POST /v1/real_time_scheduling` (the client secret as bearer): a booking link served at
  `GET /rts/{token}`.

`sign()` makes the `Cronofy-HMAC-SHA256` value of a callback, as Cronofy signs them. Nothing
here is shared with the test suite's fake: this one ships with Slotbot and does no more than
the console needs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
from aiohttp import web

from cards import console as say

EXPIRES_IN = 3600
SCOPE = "read_account list_calendars read_free_busy read_events create_event delete_event"
ZONE = "Europe/London"
HEADER = "Cronofy-HMAC-SHA256"
# where a booking's view / reschedule / decline links and its video call point
BOOKING_PATH = "/scheduling/"
MEETING_PATH = "/meet/"
PUSH_TIMEOUT = 10.0


def sign(secret: str, body: bytes) -> str:
    """The `Cronofy-HMAC-SHA256` header value for `body`: base64 of its HMAC-SHA256 under the
    application's client secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Account:
    """A calendar account someone signs in to Cronofy with."""

    email: str
    name: str
    zone: str = ZONE

    @property
    def sub(self) -> str:
        return "acc_" + hashlib.sha256(self.email.encode("utf-8")).hexdigest()[:24]

    @property
    def calendar_id(self) -> str:
        return "cal_" + self.sub.removeprefix("acc_") + "_primary"


@dataclass
class _Grant:
    client_id: str
    account: Account
    refresh_token: str
    access_tokens: set[str] = field(default_factory=set)
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    account: Account
    redirect_uri: str
    used: bool = False


class CronofyStandIn:
    """The stand-in's state and routes. `start(sock)` serves it on a socket bound by the
    caller; `url` is where it answers."""

    def __init__(self) -> None:
        self.client_id = "console_" + secrets.token_hex(8)
        # the shape of a Cronofy client secret, so log checks treat it as one
        self.client_secret = "CRN_console_" + secrets.token_hex(12)
        self.url = ""
        self._apps = {self.client_id: self.client_secret}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}  # by refresh token
        self._access: dict[str, _Grant] = {}  # by access token
        self.links: dict[str, dict[str, Any]] = {}  # Real-Time Scheduling links, by token
        self._runner: web.AppRunner | None = None

    # lifecycle ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self._token)
        app.router.add_post("/oauth/token/revoke", self._revoke)
        app.router.add_get("/oauth/authorize", self._authorize_page)
        app.router.add_post("/oauth/authorize", self._authorize)
        app.router.add_get("/v1/userinfo", self._userinfo)
        app.router.add_post("/v1/real_time_scheduling", self._real_time_scheduling)
        app.router.add_get("/rts/{token}", self._booking_page)
        app.router.add_get(BOOKING_PATH + "{booking_id}", self._page(say.STANDIN_BOOKING))
        app.router.add_get(MEETING_PATH + "{booking_id}", self._page(say.STANDIN_MEETING))
        return app

    async def start(self, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def secret_for(self, client_id: str) -> str | None:
        """The client secret of one of the stand-in's applications (what signs its callbacks)."""
        return self._apps.get(client_id)

    # OAuth ------------------------------------------------------------------------------

    def _client_ok(self, args: dict[str, Any]) -> bool:
        secret = self._apps.get(str(args.get("client_id", "")))
        given = str(args.get("client_secret", ""))
        return secret is not None and secrets.compare_digest(secret, given)

    async def _token(self, request: web.Request) -> web.Response:
        args = await _arguments(request)
        grant_type = args.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return _oauth_error(400, "unsupported_grant_type")
        if not self._client_ok(args):
            return _oauth_error(401, "invalid_client")
        if grant_type == "authorization_code":
            code = self._codes.get(str(args.get("code", "")))
            if (
                code is None
                or code.used
                or code.client_id != args["client_id"]
                or code.redirect_uri != args.get("redirect_uri")
            ):
                return _oauth_error(400, "invalid_grant")
            code.used = True
            grant = _Grant(code.client_id, code.account, "rt_" + secrets.token_hex(16))
            self._grants[grant.refresh_token] = grant
        else:
            found = self._grants.get(str(args.get("refresh_token", "")))
            if found is None or found.revoked or found.client_id != args["client_id"]:
                return _oauth_error(400, "invalid_grant")
            grant = found
        access = "at_" + secrets.token_hex(16)
        grant.access_tokens.add(access)
        self._access[access] = grant
        return web.json_response(
            {
                "token_type": "bearer",
                "access_token": access,
                "expires_in": EXPIRES_IN,
                "refresh_token": grant.refresh_token,
                "scope": SCOPE,
                "account_id": grant.account.sub,
                "sub": grant.account.sub,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        args = await _arguments(request)
        if not self._client_ok(args):
            return _oauth_error(401, "invalid_client")
        token = str(args.get("token", ""))
        grant = self._grants.get(token) or self._access.get(token)
        if grant is not None:
            grant.revoked = True
        return web.Response(status=200)

    def _authorize_problem(self, args: dict[str, str]) -> str | None:
        if args.get("client_id", "") not in self._apps:
            return say.STANDIN_UNKNOWN_CLIENT
        redirect = urlsplit(args.get("redirect_uri", ""))
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return say.STANDIN_NO_REDIRECT
        return None

    async def _authorize_page(self, request: web.Request) -> web.Response:
        """What the connect link opens: who is signing in, and Approve / Deny."""
        args = dict(request.query)
        problem = self._authorize_problem(args)
        if problem is not None:
            return _page(400, say.STANDIN_TITLE, problem)
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(args.get(name, ""))}">'
            for name in ("client_id", "redirect_uri", "state", "scope")
        )
        form = (
            f'<form method="post" action="/oauth/authorize">{hidden}'
            f"<p><label>{html.escape(say.STANDIN_EMAIL)} "
            '<input name="email" value="recruiter@example.com"></label></p>'
            f"<p><label>{html.escape(say.STANDIN_NAME)} "
            '<input name="name" value=""></label></p>'
            '<p><button name="decision" value="approve">'
            f"{html.escape(say.STANDIN_APPROVE)}</button> "
            '<button name="decision" value="deny">'
            f"{html.escape(say.STANDIN_DENY)}</button></p></form>"
        )
        return _page(200, say.STANDIN_TITLE, say.STANDIN_AUTHORIZE, form)

    async def _authorize(self, request: web.Request) -> web.Response:
        """The sign-in form: back to the application with a code, or with access_denied."""
        args = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        problem = self._authorize_problem(args)
        if problem is not None:
            return _page(400, say.STANDIN_TITLE, problem)
        back: dict[str, str] = {"state": args.get("state", "")}
        if args.get("decision") != "approve":
            back["error"] = "access_denied"
        else:
            email = args.get("email", "").strip().lower() or "recruiter@example.com"
            account = Account(email, args.get("name", "").strip() or email.split("@")[0])
            code = secrets.token_urlsafe(16)
            self._codes[code] = _Code(args["client_id"], account, args["redirect_uri"])
            back["code"] = code
        raise web.HTTPFound(_with_query(args["redirect_uri"], back))

    # the API ----------------------------------------------------------------------------

    def _grant_of(self, request: web.Request) -> _Grant | None:
        token = _bearer(request)
        grant = self._access.get(token or "")
        return None if grant is None or grant.revoked else grant

    async def _userinfo(self, request: web.Request) -> web.Response:
        grant = self._grant_of(request)
        if grant is None:
            return _unauthorized()
        account = grant.account
        calendar = {
            "provider_name": "google",
            "profile_id": "pro_" + account.sub.removeprefix("acc_"),
            "profile_name": account.email,
            "calendar_id": account.calendar_id,
            "calendar_name": account.name,
            "calendar_readonly": False,
            "calendar_deleted": False,
            "calendar_primary": True,
        }
        return web.json_response(
            {
                "sub": account.sub,
                "email": account.email,
                "name": account.name,
                "zoneinfo": account.zone,
                "cronofy.type": "account",
                "cronofy.data": {
                    "authorization": {"scope": SCOPE, "status": "active"},
                    "profiles": [
                        {
                            "provider_name": "google",
                            "profile_id": calendar["profile_id"],
                            "profile_name": account.email,
                            "profile_connected": True,
                            "profile_calendars": [calendar],
                        }
                    ],
                },
            }
        )

    async def _real_time_scheduling(self, request: web.Request) -> web.Response:
        if _bearer(request) not in self._apps.values():
            return _unauthorized()
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        missing = [n for n in ("oauth", "event", "availability") if not body.get(n)]
        if missing:
            errors = {n: [{"key": "errors.required", "description": "required"}] for n in missing}
            return web.json_response({"errors": errors}, status=422)
        token = secrets.token_urlsafe(8)
        link = {
            "real_time_scheduling_id": "sch_" + secrets.token_hex(12),
            "url": f"{self.url}/rts/{token}",
            "event": body.get("event"),
            "status": "enabled",
        }
        self.links[token] = {**link, "request": body}
        return web.json_response({"real_time_scheduling": link})

    @staticmethod
    def _page(message: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def page(request: web.Request) -> web.Response:
            return _page(200, say.STANDIN_TITLE, message)

        return page

    async def _booking_page(self, request: web.Request) -> web.Response:
        link = self.links.get(request.match_info["token"])
        if link is None:
            return _page(404, say.STANDIN_TITLE, say.STANDIN_NO_LINK)
        return _page(200, say.STANDIN_TITLE, say.STANDIN_BOOKING_PAGE)


async def _arguments(request: web.Request) -> dict[str, Any]:
    """A token request's parameters, sent as JSON (Slotbot) or as a form (RFC 6749)."""
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else None


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _oauth_error(status: int, error: str) -> web.Response:
    return web.json_response(
        {"error": error, "error_description": error.replace("_", " ")},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def _unauthorized() -> web.Response:
    return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _page(status: int, title: str, message: str, extra: str = "") -> web.Response:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{extra}</body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


async def push(url: str, secret: str, payload: Any) -> tuple[int, Any]:
    """Deliver one callback the way Cronofy does: JSON, signed with the application's client
    secret. Returns the status and the answer (its JSON when it is JSON)."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Cronofy stand-in (Slotbot console)",
        HEADER: sign(secret, body),
    }
    timeout = aiohttp.ClientTimeout(total=PUSH_TIMEOUT)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=body, headers=headers) as answer,
    ):
        text = await answer.text()
        try:
            return answer.status, json.loads(text)
        except ValueError:
            return answer.status, text
