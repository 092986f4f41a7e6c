"""FakeCronofy: Cronofy's API host and the OAuth pages of its app host, on one server.

pycronofy: ``client.request_handler.base_url = fake.url`` and ``client.app_base_url = fake.url``
(or ``CRONOFY_API_URL`` / ``CRONOFY_APP_URL`` = ``fake.url``). Shapes follow cronofy.md §2, §3.5
and §6:

* token errors (RFC 6749, the only 400s Cronofy answers): an unknown ``client_id`` or a wrong
  ``client_secret`` answers **401** ``{"error": "invalid_client", ...}`` ("credentials not
  recognised"); an unknown, used or revoked code or refresh token answers **400**
  ``{"error": "invalid_grant", ...}``. cronofy.md gives the statuses but not these exact bodies;
  the bodies are RFC 6749 §5.2's.
* API calls with a missing, unknown, expired or revoked access token answer **401** (empty body).
* ``sign()`` / ``push()`` make and deliver Cronofy-signed callbacks to the bot under test.
* a scripted 422 answers ``{"errors": {"<field>": [{"key": "errors.…", "description": "…"}]}}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from tests.fakes.base import FakeServer, Matcher, Recorded

DEFAULT_CLIENT_ID = "cronofy-client-id"
DEFAULT_CLIENT_SECRET = "CRN_fake_client_secret"
DEFAULT_SCOPE = "read_account list_calendars read_events create_event delete_event"


@dataclass
class CronofyAccount:
    """One connected calendar account, as userinfo/account/calendars describe it."""

    sub: str
    email: str
    name: str
    zone: str = "Europe/London"
    provider_name: str = "google"
    profile_id: str = ""
    calendar_id: str = ""

    def __post_init__(self) -> None:
        suffix = self.sub.removeprefix("acc_")
        self.profile_id = self.profile_id or f"pro_{suffix}"
        self.calendar_id = self.calendar_id or f"cal_{suffix}_primary"

    def calendar(self) -> dict[str, Any]:
        return {
            "provider_name": self.provider_name,
            "profile_id": self.profile_id,
            "profile_name": self.email,
            "calendar_id": self.calendar_id,
            "calendar_name": self.name,
            "calendar_readonly": False,
            "calendar_deleted": False,
            "calendar_primary": True,
            "permission_level": "unrestricted",
        }


@dataclass
class _Code:
    code: str
    client_id: str
    account: CronofyAccount
    scope: str
    redirect_uri: str | None
    used: bool = False


@dataclass
class _Grant:
    """One authorization: a refresh token and the access tokens issued from it."""

    client_id: str
    account: CronofyAccount
    scope: str
    refresh_token: str
    revoked: bool = False
    access_tokens: set[str] = field(default_factory=set)


class FakeCronofy(FakeServer):
    kind = "cronofy"

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._apps: dict[str, str] = {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}  # by refresh token
        self._access: dict[str, _Grant] = {}  # by access token
        self._expired: set[str] = set()
        self._rts: dict[str, dict[str, Any]] = {}  # by id
        self._channels: dict[str, dict[str, Any]] = {}  # by channel id
        self.expires_in = 3600
        self.rotate_refresh_tokens = False
        self.client_id = DEFAULT_CLIENT_ID
        self.client_secret = DEFAULT_CLIENT_SECRET
        super().__init__()

    # ----------------------------------------------------------------- configuration

    def add_app(self, client_id: str, client_secret: str) -> None:
        """Another Cronofy application (the default one is ``client_id``/``client_secret``)."""
        with self._lock:
            self._apps[client_id] = client_secret

    def add_code(
        self,
        code: str,
        *,
        sub: str | None = None,
        email: str = "recruiter@example.com",
        name: str = "Rita Recruiter",
        zone: str = "Europe/London",
        client_id: str | None = None,
        scope: str = DEFAULT_SCOPE,
        redirect_uri: str | None = None,
        provider_name: str = "google",
    ) -> CronofyAccount:
        """A single-use authorization code for ``client_id`` (default app) and that account.

        ``redirect_uri``, if given, must match the exchange's.
        """
        account = CronofyAccount(
            sub=sub or f"acc_{secrets.token_hex(12)}",
            email=email,
            name=name,
            zone=zone,
            provider_name=provider_name,
        )
        with self._lock:
            self._codes[code] = _Code(
                code, client_id or self.client_id, account, scope, redirect_uri
            )
        return account

    def issue_tokens(
        self, account: CronofyAccount, *, client_id: str | None = None, scope: str = DEFAULT_SCOPE
    ) -> tuple[str, str]:
        """Tokens as if a code had been exchanged: ``(access_token, refresh_token)``."""
        grant = _Grant(client_id or self.client_id, account, scope, "rt_" + secrets.token_hex(16))
        access = self._new_access(grant)
        with self._lock:
            self._grants[grant.refresh_token] = grant
        return access, grant.refresh_token

    def expire_access_token(self, token: str) -> None:
        """API calls with ``token`` answer 401 from now on (a refresh still works)."""
        with self._lock:
            self._expired.add(token)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Refreshing with it answers 400 invalid_grant; its access tokens answer 401."""
        with self._lock:
            grant = self._grants.get(refresh_token)
            if grant is not None:
                grant.revoked = True

    def fail_next(
        self,
        key: Matcher,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        errors: dict[str, list[dict[str, str]]] | None = None,
    ) -> None:
        """``status=422, errors={"event_id": [{"key": "errors.required", "description": "required"}]}``
        answers Cronofy's validation shape; without ``errors`` a 422 says ``errors.invalid``."""
        if errors is not None:
            body = {"errors": errors}
        super().fail_next(
            key, status=status, times=times, retry_after=retry_after, body=body, headers=headers
        )

    def error_body(self, record: Recorded, status: int) -> Any:
        if status == 422:
            return {"errors": {"base": [{"key": "errors.invalid", "description": "invalid"}]}}
        if status in (400, 401) and record.name == "token":
            return {"error": "invalid_grant" if status == 400 else "invalid_client"}
        return b""

    # ----------------------------------------------------------------- inspection

    def token_requests(self, grant_type: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.calls("token")
            if grant_type is None or r.args.get("grant_type") == grant_type
        ]

    def rts_requests(self) -> list[dict[str, Any]]:
        """Bodies of ``POST /v1/real_time_scheduling`` calls, oldest first."""
        return [
            dict(r.json) for r in self.calls("real_time_scheduling") if isinstance(r.json, dict)
        ]

    def authorize_url(self, **params: str) -> str:
        return f"{self.url}/oauth/authorize?{urlencode(params)}"

    # ----------------------------------------------------------------- routes

    def build_routes(self) -> None:
        self.route("POST", "/oauth/token", "token", self._token)
        self.route("POST", "/oauth/token/revoke", "revoke", self._revoke)
        self.route("GET", "/oauth/authorize", "authorize", self._authorize)
        self.route("GET", "/v1/userinfo", "userinfo", self._userinfo)
        self.route("GET", "/v1/account", "account", self._account)
        self.route("GET", "/v1/calendars", "calendars", self._calendars)
        self.route("POST", "/v1/real_time_scheduling", "real_time_scheduling", self._rts_create)
        self.route("GET", "/v1/real_time_scheduling", "real_time_scheduling_status", self._rts_get)
        self.route(
            "GET", "/v1/real_time_scheduling/{rts_id}", "real_time_scheduling_status", self._rts_get
        )
        self.route(
            "POST",
            "/v1/real_time_scheduling/{rts_id}/disable",
            "real_time_scheduling_disable",
            self._rts_disable,
        )
        self.route("POST", "/v1/channels", "create_channel", self._channel_create)
        self.route("GET", "/v1/channels", "list_channels", self._channel_list)
        self.route("DELETE", "/v1/channels/{channel_id}", "close_channel", self._channel_close)
        self.route("GET", "/rts/{token}", "rts_page", self._page)
        self.route("GET", "/pls/{token}", "public_link_page", self._page)

    def _new_access(self, grant: _Grant) -> str:
        token = "at_" + secrets.token_hex(16)
        with self._lock:
            grant.access_tokens.add(token)
            self._access[token] = grant
        return token

    def _client_ok(self, args: dict[str, Any]) -> bool:
        with self._lock:
            secret = self._apps.get(str(args.get("client_id")))
        return secret is not None and secrets.compare_digest(
            secret, str(args.get("client_secret", ""))
        )

    def _grant_for(self, record: Recorded) -> _Grant | None:
        token = record.bearer
        with self._lock:
            grant = self._access.get(token or "")
            if grant is None or grant.revoked or token in self._expired:
                return None
        return grant

    async def _token(self, request: web.Request, record: Recorded) -> web.Response:
        args = record.args
        grant_type = args.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return _oauth_error(400, "unsupported_grant_type", "grant_type is not supported")
        if not self._client_ok(args):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        if grant_type == "authorization_code":
            with self._lock:
                code = self._codes.get(str(args.get("code")))
                usable = (
                    code is not None
                    and not code.used
                    and code.client_id == args["client_id"]
                    and (code.redirect_uri is None or code.redirect_uri == args.get("redirect_uri"))
                )
                if code is not None and usable:
                    code.used = True
            if code is None or not usable:
                return _oauth_error(400, "invalid_grant", "errors.unknown_or_used")
            grant = _Grant(code.client_id, code.account, code.scope, "rt_" + secrets.token_hex(16))
            with self._lock:
                self._grants[grant.refresh_token] = grant
            access = self._new_access(grant)
            account = grant.account
            return _no_store(
                {
                    "token_type": "bearer",
                    "access_token": access,
                    "expires_in": self.expires_in,
                    "refresh_token": grant.refresh_token,
                    "scope": grant.scope,
                    "account_id": account.sub,
                    "sub": account.sub,
                    "linking_profile": {
                        "provider_name": account.provider_name,
                        "profile_id": account.profile_id,
                        "profile_name": account.email,
                    },
                }
            )
        with self._lock:
            found = self._grants.get(str(args.get("refresh_token")))
            if found is not None and found.client_id == args["client_id"] and not found.revoked:
                if self.rotate_refresh_tokens:
                    del self._grants[found.refresh_token]
                    found.refresh_token = "rt_" + secrets.token_hex(16)
                    self._grants[found.refresh_token] = found
            else:
                found = None
        if found is None:
            return _oauth_error(400, "invalid_grant", "refresh token is invalid or revoked")
        access = self._new_access(found)
        return _no_store(
            {
                "token_type": "bearer",
                "access_token": access,
                "expires_in": self.expires_in,
                "refresh_token": found.refresh_token,
                "scope": found.scope,
            }
        )

    async def _revoke(self, request: web.Request, record: Recorded) -> web.Response:
        args = record.args
        if not self._client_ok(args):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        token = str(args.get("token", ""))
        with self._lock:
            grant = self._grants.get(token) or self._access.get(token)
            if grant is not None:
                grant.revoked = True
        return web.Response(status=200)

    async def _authorize(self, request: web.Request, record: Recorded) -> web.Response:
        return web.Response(
            text="<html><body>Cronofy authorization (fake)</body></html>", content_type="text/html"
        )

    async def _page(self, request: web.Request, record: Recorded) -> web.Response:
        return web.Response(
            text="<html><body>Cronofy scheduling page (fake)</body></html>",
            content_type="text/html",
        )

    async def _userinfo(self, request: web.Request, record: Recorded) -> web.Response:
        grant = self._grant_for(record)
        if grant is None:
            return _unauthorized()
        account = grant.account
        profile = {
            "provider_name": account.provider_name,
            "profile_id": account.profile_id,
            "profile_name": account.email,
            "profile_connected": True,
            "profile_initial_sync_required": False,
            "profile_calendars": [account.calendar()],
        }
        return web.json_response(
            {
                "sub": account.sub,
                "email": account.email,
                "name": account.name,
                "zoneinfo": account.zone,
                "cronofy.type": "account",
                "cronofy.data": {
                    "authorization": {"scope": grant.scope, "status": "active"},
                    "profiles": [profile],
                },
            }
        )

    async def _account(self, request: web.Request, record: Recorded) -> web.Response:
        grant = self._grant_for(record)
        if grant is None:
            return _unauthorized()
        account = grant.account
        return web.json_response(
            {
                "account": {
                    "account_id": account.sub,
                    "email": account.email,
                    "name": account.name,
                    "scope": grant.scope,
                    "default_tzid": account.zone,
                }
            }
        )

    async def _calendars(self, request: web.Request, record: Recorded) -> web.Response:
        grant = self._grant_for(record)
        if grant is None:
            return _unauthorized()
        return web.json_response({"calendars": [grant.account.calendar()]})

    def _client_secret_ok(self, record: Recorded) -> bool:
        with self._lock:
            known = set(self._apps.values())
        return record.bearer in known

    async def _rts_create(self, request: web.Request, record: Recorded) -> web.Response:
        if not self._client_secret_ok(record):
            return _unauthorized()
        body = record.json if isinstance(record.json, dict) else {}
        errors = {
            name: [{"key": "errors.required", "description": "required"}]
            for name in ("oauth", "event", "availability", "target_calendars")
            if not body.get(name)
        }
        if errors:
            return web.json_response({"errors": errors}, status=422)
        rts_id = f"sch_{next(self._ids):024x}"
        token = secrets.token_urlsafe(6)
        link = {
            "real_time_scheduling_id": rts_id,
            "url": f"{self.url}/rts/{token}",
            "event": body.get("event"),
            "status": "enabled",
        }
        with self._lock:
            self._rts[rts_id] = link
        return web.json_response({"real_time_scheduling": link})

    async def _rts_get(self, request: web.Request, record: Recorded) -> web.Response:
        if not self._client_secret_ok(record):
            return _unauthorized()
        wanted_id = request.match_info.get("rts_id")
        wanted_token = request.query.get("token")
        with self._lock:
            links = list(self._rts.values())
        for link in links:
            if link["real_time_scheduling_id"] == wanted_id or (
                wanted_token and link["url"].endswith("/" + wanted_token)
            ):
                return web.json_response({"real_time_scheduling": link})
        return web.Response(status=404)

    async def _rts_disable(self, request: web.Request, record: Recorded) -> web.Response:
        if not self._client_secret_ok(record):
            return _unauthorized()
        with self._lock:
            link = self._rts.get(request.match_info["rts_id"])
            if link is not None:
                link["status"] = "disabled"
        if link is None:
            return web.Response(status=404)
        return web.json_response({"real_time_scheduling": link})

    async def _channel_create(self, request: web.Request, record: Recorded) -> web.Response:
        grant = self._grant_for(record)
        if grant is None:
            return _unauthorized()
        body = record.json if isinstance(record.json, dict) else {}
        if not body.get("callback_url"):
            errors = {"callback_url": [{"key": "errors.required", "description": "required"}]}
            return web.json_response({"errors": errors}, status=422)
        channel = {
            "channel_id": f"chn_{next(self._ids):024x}",
            "callback_url": body["callback_url"],
            "filters": body.get("filters") or {},
        }
        with self._lock:
            self._channels[channel["channel_id"]] = channel
        return web.json_response({"channel": channel})

    async def _channel_list(self, request: web.Request, record: Recorded) -> web.Response:
        if self._grant_for(record) is None:
            return _unauthorized()
        with self._lock:
            channels = list(self._channels.values())
        return web.json_response({"channels": channels})

    async def _channel_close(self, request: web.Request, record: Recorded) -> web.Response:
        if self._grant_for(record) is None:
            return _unauthorized()
        with self._lock:
            closed = self._channels.pop(request.match_info["channel_id"], None)
        return web.Response(status=202 if closed else 404)


def sign(body: bytes, *client_secrets: str) -> str:
    """The ``Cronofy-HMAC-SHA256`` header value for ``body``: one base64 HMAC-SHA256 per
    secret, comma-separated (several while secrets rotate), as cronofy.md §3.3 describes."""
    return ",".join(
        base64.b64encode(hmac.new(s.encode(), body, hashlib.sha256).digest()).decode("ascii")
        for s in client_secrets
    )


async def push(
    url: str, payload: Any, *client_secrets: str, raw: bytes | None = None
) -> tuple[int, str]:
    """Deliver a callback the way Cronofy does (POST JSON, signed): returns (status, body).

    ``raw`` sends exact bytes instead of ``json.dumps(payload)``; no secret sends no signature.
    """
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Cronofy (https://www.cronofy.com/support/)",
    }
    if client_secrets:
        headers["Cronofy-HMAC-SHA256"] = sign(body, *client_secrets)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.text()


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response(
        {"error": error, "error_description": description},
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def _no_store(payload: dict[str, Any]) -> web.Response:
    return web.json_response(payload, headers={"Cache-Control": "no-store"})


def _unauthorized() -> web.Response:
    return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
