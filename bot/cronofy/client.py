"""Cronofy behind Slotbot's own interface.

pycronofy is synchronous and sends requests without a timeout, so every call here runs in a
thread (`asyncio.to_thread`) through a request handler that uses a `requests.Session` with a
timeout, and the await itself is bounded too. Where pycronofy drops what Slotbot needs (the
token response's `sub`), plain aiohttp does the request.

Errors come out as `bot.errors` types whose messages never carry a secret or a token:
pycronofy's own exception text embeds the request body (with the client secret), so it is
never passed on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pycronofy
import requests
from pycronofy import settings as pycronofy_settings
from pycronofy.exceptions import PyCronofyException, PyCronofyRequestError
from pycronofy.request_handler import RequestHandler

from bot import logs
from bot.config import Settings
from bot.errors import CronofyRejected, CronofyUnreachable
from bot.store.records import DATA_CENTERS
from cards import setup as setup_cards

log = logging.getLogger(__name__)

# enough to read the account, its calendars and free/busy, and to create events
CONNECT_SCOPES: tuple[str, ...] = (
    "read_account",
    "list_calendars",
    "read_free_busy",
    "read_events",
    "create_event",
    "delete_event",
)
REDACTED = "[redacted]"
# the page Slotbot serves to a candidate who has just booked through a Real-Time Scheduling
# link (bot.cronofy.http): neutral, so a candidate never lands on a recruiter's page

T = TypeVar("T")


class CronofyRequestFailed(CronofyRejected):
    """Cronofy answered with a 4xx. `error` is Cronofy's error key (e.g. "invalid_grant")."""

    def __init__(self, message: str, *, status: int, error: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class CronofyUnauthorized(CronofyRequestFailed):
    """401: the access token (or the client) is not recognised; refresh and retry once."""


class CronofyBusy(CronofyUnreachable):
    """429 or 5xx: Cronofy is there but cannot answer now."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CronofyKeys:
    """An org's application keys. `repr` never shows the secret."""

    client_id: str
    client_secret: str = field(repr=False)
    data_center: str = "us"


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: float  # seconds from when Cronofy answered
    sub: str | None = None
    scope: str = ""


@dataclass(frozen=True)
class UserInfo:
    sub: str
    email: str | None
    name: str | None
    zone: str | None
    calendar_id: str | None = None  # a writable (primary first) calendar, for scheduling links


KeyCheckResult = Literal["recognised", "not_recognised", "unreachable"]


@dataclass(frozen=True)
class KeyCheck:
    result: KeyCheckResult
    reason: str = ""


def normalise_data_center(value: str | None) -> str | None:
    """`us`, `UK ` -> `uk`; anything else -> None."""
    if value is None:
        return None
    cleaned = value.strip().lower()
    return cleaned if cleaned in DATA_CENTERS else None


def api_base_url(settings: Settings, data_center: str) -> str:
    if settings.cronofy_api_url:
        return settings.cronofy_api_url.rstrip("/")
    if data_center == "us":
        return str(pycronofy_settings.API_BASE_URL)
    return str(pycronofy_settings.API_REGION_FORMAT % data_center)


def app_base_url(settings: Settings, data_center: str) -> str:
    if settings.cronofy_app_url:
        return settings.cronofy_app_url.rstrip("/")
    if data_center == "us":
        return str(pycronofy_settings.APP_BASE_URL)
    return str(pycronofy_settings.APP_REGION_FORMAT % data_center)


def public_app_host(data_center: str) -> str:
    """The host of the org's real Cronofy app (public links live there), never overridden."""
    return "app.cronofy.com" if data_center == "us" else f"app-{data_center}.cronofy.com"


def scrub(text: str, secret_values: Iterable[str | None]) -> str:
    """Replace every secret value that occurs in `text`."""
    for value in secret_values:
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


def timeout_from(settings: Settings) -> float:
    return settings.cronofy_timeout


class _TimedRequestHandler(RequestHandler):  # type: ignore[misc]
    """pycronofy's request handler, sending through a Session with a timeout."""

    def __init__(self, auth: Any, base_url: str, timeout: float) -> None:
        super().__init__(auth, None)
        self.base_url = base_url
        self._timeout = timeout
        self._session = requests.Session()

    def _request(
        self,
        request_method: str,
        endpoint: str = "",
        url: str = "",
        data: Any = None,
        params: Any = None,
        use_api_key: bool = False,
        omit_api_version: bool = False,
    ) -> requests.Response:
        if endpoint and omit_api_version and not url:
            url = f"{self.base_url}/{endpoint}"
        if endpoint and not url:
            url = f"{self.base_url}/{pycronofy_settings.API_VERSION}/{endpoint}"
        authorization = self.auth.get_api_key() if use_api_key else self.auth.get_authorization()
        response = self._session.request(
            request_method.upper(),
            url,
            headers={"Authorization": authorization, "User-Agent": self.user_agent},
            json=data or {},
            params=params or {},
            timeout=self._timeout,
        )
        if response.status_code not in (200, 202, 204):
            try:
                response.raise_for_status()
            except requests.exceptions.HTTPError as exc:
                raise PyCronofyRequestError(request=exc.request, response=exc.response) from None
        return response

    def close(self) -> None:
        self._session.close()


def _error_key(body: Any) -> str:
    """Cronofy's error key from a token error ({"error": ...}) or a 422 ({"errors": {...}})."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, str):
        return error[:64]
    errors = body.get("errors")
    if isinstance(errors, dict):
        for name, problems in errors.items():
            if isinstance(problems, list) and problems and isinstance(problems[0], dict):
                key = problems[0].get("key")
                if isinstance(key, str):
                    return f"{str(name)[:32]}: {key[:64]}"
            return str(name)[:32]
    return ""


def _failure(what: str, status: int, body: Any) -> Exception:
    error = _error_key(body)
    detail = f" ({error})" if error else ""
    if status == 429:
        return CronofyBusy(
            f"Cronofy is rate-limiting requests ({what}); try again shortly.", status=status
        )
    if status >= 500:
        return CronofyBusy(f"Cronofy had a server error ({status}) on {what}.", status=status)
    if status == 401:
        return CronofyUnauthorized(
            f"Cronofy did not accept the credentials for {what}{detail}.",
            status=status,
            error=error,
        )
    return CronofyRequestFailed(
        f"Cronofy refused {what} ({status}){detail}.", status=status, error=error
    )


class CronofyClient:
    """Every Cronofy call Slotbot makes. One per process; safe to share."""

    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        self.settings = settings
        self.timeout = timeout if timeout is not None else timeout_from(settings)

    # plumbing ---------------------------------------------------------------

    def _sdk(
        self,
        keys: CronofyKeys,
        *,
        access_token: str | None = None,
        refresh_token: str | None = None,
    ) -> pycronofy.Client:
        client = pycronofy.Client(
            client_id=keys.client_id,
            client_secret=keys.client_secret,
            access_token=access_token,
            refresh_token=refresh_token,
            data_center=None,
        )
        client.request_handler = _TimedRequestHandler(
            client.auth, api_base_url(self.settings, keys.data_center), self.timeout
        )
        client.app_base_url = app_base_url(self.settings, keys.data_center)
        return client

    async def _run(
        self,
        what: str,
        call: Callable[[], T],
        secret_values: Iterable[str | None],
        sdk: pycronofy.Client | None = None,
    ) -> T:
        """Run a pycronofy call in a thread with a timeout; translate its failures."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), timeout=self.timeout + 1.0)
        except PyCronofyRequestError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            try:
                body = exc.response.json() if exc.response is not None else None
            except ValueError:
                body = None
            failure = _failure(what, status, body)
        except (TimeoutError, requests.Timeout):
            failure = CronofyUnreachable(f"Cronofy did not answer {what} in {self.timeout:g}s.")
        except requests.RequestException as exc:
            failure = CronofyUnreachable(
                f"Cronofy could not be reached for {what} ({type(exc).__name__})."
            )
        except (PyCronofyException, ValueError, KeyError, TypeError) as exc:
            failure = CronofyUnreachable(
                f"Cronofy gave an answer Slotbot cannot read for {what} ({type(exc).__name__})."
            )
        finally:
            if sdk is not None:
                sdk.request_handler.close()
        message = scrub(str(failure), secret_values)
        log.warning(logs.CRONOFY_CALL_FAILED, what, message)
        raise type(failure)(message, **_failure_kwargs(failure)) from None

    async def _post_token(
        self, keys: CronofyKeys, form: dict[str, str], what: str
    ) -> tuple[int, dict[str, Any]]:
        """POST /oauth/token with plain aiohttp, keeping the whole answer (sub, expires_in)."""
        url = f"{api_base_url(self.settings, keys.data_center)}/oauth/token"
        body = {"client_id": keys.client_id, "client_secret": keys.client_secret, **form}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        secret_values = (keys.client_secret, *form.values())
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(
                    url,
                    json=body,
                    headers={"User-Agent": "Slotbot", "Accept": "application/json"},
                ) as response,
            ):
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = None
                return response.status, data if isinstance(data, dict) else {}
        except TimeoutError:
            message = f"Cronofy did not answer {what} in {self.timeout:g}s."
        except aiohttp.ClientError as exc:
            message = f"Cronofy could not be reached for {what} ({type(exc).__name__})."
        message = scrub(message, secret_values)
        log.warning(logs.CRONOFY_CALL_FAILED, what, message)
        raise CronofyUnreachable(message)

    # keys ---------------------------------------------------------------------

    async def check_keys(self, keys: CronofyKeys, redirect_uri: str) -> KeyCheck:
        """Exchange a made-up code: a bad client gets `invalid_client`, a good client with a
        bad code gets `invalid_grant`. Nothing is created at Cronofy either way."""
        dummy = "slotbot-key-check-" + secrets.token_urlsafe(12)
        try:
            status, body = await self._post_token(
                keys,
                {"grant_type": "authorization_code", "code": dummy, "redirect_uri": redirect_uri},
                "the key check",
            )
        except CronofyUnreachable as exc:
            return KeyCheck("unreachable", exc.public_message)
        error = _error_key(body)
        if status == 429 or status >= 500:
            return KeyCheck("unreachable", setup_cards.cronofy_busy(status))
        if error == "invalid_client" or status in (401, 403):
            return KeyCheck("not_recognised", setup_cards.keys_not_recognised(keys.data_center))
        if status == 200 or error in ("invalid_grant", "invalid_request", "unknown_or_used"):
            return KeyCheck("recognised")
        return KeyCheck(
            "not_recognised",
            scrub(setup_cards.cronofy_answered(status, error), [keys.client_secret]),
        )

    # OAuth ---------------------------------------------------------------------

    def authorize_url(self, keys: CronofyKeys, redirect_uri: str, state: str) -> str:
        base = app_base_url(self.settings, keys.data_center)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": keys.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(CONNECT_SCOPES),
                "state": state,
            }
        )
        return f"{base}/oauth/authorize?{query}"

    async def exchange_code(self, keys: CronofyKeys, code: str, redirect_uri: str) -> TokenGrant:
        status, body = await self._post_token(
            keys,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            "the code exchange",
        )
        return self._grant(status, body, "the code exchange", keys, code)

    async def refresh(self, keys: CronofyKeys, refresh_token: str) -> TokenGrant:
        status, body = await self._post_token(
            keys,
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            "the token refresh",
        )
        grant = self._grant(status, body, "the token refresh", keys, refresh_token)
        if not grant.refresh_token:
            # Cronofy may not send a new one: keep the one that still works
            grant = TokenGrant(
                grant.access_token, refresh_token, grant.expires_in, grant.sub, grant.scope
            )
        return grant

    def _grant(
        self, status: int, body: dict[str, Any], what: str, keys: CronofyKeys, sent: str
    ) -> TokenGrant:
        if status != 200:
            failure = _failure(what, status, body)
            message = scrub(str(failure), [keys.client_secret, sent])
            log.warning(logs.CRONOFY_CALL_FAILED, what, message)
            raise type(failure)(message, **_failure_kwargs(failure))
        access = body.get("access_token")
        expires_in = body.get("expires_in", 3600)
        if not isinstance(access, str) or not access or not isinstance(expires_in, int | float):
            log.warning(logs.CRONOFY_CALL_FAILED, what, "answer without an access token")
            raise CronofyUnreachable(f"Cronofy gave an answer Slotbot cannot read for {what}.")
        refresh = body.get("refresh_token")
        sub = body.get("sub") or body.get("account_id")
        return TokenGrant(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) else "",
            expires_in=float(expires_in),
            sub=sub if isinstance(sub, str) else None,
            scope=str(body.get("scope") or ""),
        )

    async def userinfo(self, keys: CronofyKeys, access_token: str) -> UserInfo:
        sdk = self._sdk(keys, access_token=access_token)
        data = await self._run(
            "the userinfo request", sdk.userinfo, [keys.client_secret, access_token], sdk
        )
        if not isinstance(data, dict) or not isinstance(data.get("sub"), str):
            raise CronofyUnreachable("Cronofy gave an answer Slotbot cannot read for userinfo.")
        return UserInfo(
            sub=data["sub"],
            email=_str_or_none(data.get("email")),
            name=_str_or_none(data.get("name")),
            zone=_str_or_none(data.get("zoneinfo")),
            calendar_id=_writable_calendar(data),
        )

    async def revoke(self, keys: CronofyKeys, token: str) -> None:
        sdk = self._sdk(keys, access_token=token)
        await self._run(
            "the revoke request", sdk.revoke_authorization, [keys.client_secret, token], sdk
        )

    async def real_time_scheduling(
        self,
        keys: CronofyKeys,
        *,
        sub: str,
        calendar_id: str | None,
        event_id: str,
        summary: str,
        zone: str,
        minutes: int,
        periods: list[dict[str, str]],
        callback_url: str,
        redirect_uri: str,
    ) -> str:
        """A one-off booking link over the recruiter's availability; returns its URL.

        Cronofy calls `callback_url` (the org's push URL) when a time is chosen and when none
        suits, with `?callback=completed` / `?callback=no_times_suitable` so the push endpoint
        can tell the two apart (the body does not say). `redirect_uri` is the page the
        candidate is sent to afterwards (urls.BOOKED_PATH), never Slotbot's OAuth callback.
        """
        sdk = self._sdk(keys)
        target = {"sub": sub}
        if calendar_id:
            target["calendar_id"] = calendar_id

        def call() -> Any:
            return sdk.real_time_scheduling(
                availability={
                    "participants": [{"members": [{"sub": sub}], "required": "all"}],
                    "required_duration": {"minutes": minutes},
                    "available_periods": periods,
                },
                oauth={"redirect_uri": redirect_uri},
                redirect_urls={"completed_url": redirect_uri},
                event={"event_id": event_id, "summary": summary, "tzid": zone},
                target_calendars=[target],
                callback_urls={
                    "completed_url": _with_query(callback_url, "callback", "completed"),
                    "no_times_suitable_url": _with_query(
                        callback_url, "callback", "no_times_suitable"
                    ),
                },
            )

        data = await self._run("the scheduling link request", call, [keys.client_secret], sdk)
        rts = data.get("real_time_scheduling") if isinstance(data, dict) else None
        url = rts.get("url") if isinstance(rts, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise CronofyUnreachable(
                "Cronofy gave an answer Slotbot cannot read for the scheduling link request."
            )
        return url


def _with_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _failure_kwargs(failure: Exception) -> dict[str, Any]:
    if isinstance(failure, CronofyRequestFailed):
        return {"status": failure.status, "error": failure.error}
    if isinstance(failure, CronofyBusy):
        return {"status": failure.status}
    return {}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _writable_calendar(userinfo: dict[str, Any]) -> str | None:
    data = userinfo.get("cronofy.data")
    profiles = data.get("profiles") if isinstance(data, dict) else None
    candidates: list[tuple[bool, str]] = []
    for profile in profiles if isinstance(profiles, list) else []:
        if not isinstance(profile, dict):
            continue
        for calendar in profile.get("profile_calendars") or []:
            if not isinstance(calendar, dict) or calendar.get("calendar_readonly"):
                continue
            if calendar.get("calendar_deleted"):
                continue
            calendar_id = calendar.get("calendar_id")
            if isinstance(calendar_id, str):
                candidates.append((not calendar.get("calendar_primary"), calendar_id))
    return sorted(candidates)[0][1] if candidates else None
