"""FakeSlack: the Slack Web API under ``/api/<method>`` plus a ``response_url`` sink.

Point the code under test at it with ``AsyncWebClient(base_url=fake.api_url)``
(``fake.api_url == fake.url + "/api/"``, which is also ``SLACK_API_URL``). Bodies may be form
encoded or JSON; the token comes from ``Authorization: Bearer`` (or a ``token`` field).
Answers follow Slack: HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``,
and HTTP 429 with ``Retry-After`` when rate limited.

Posted messages are kept per channel, as Slack keeps them: ``conversations.history`` answers
a channel's messages newest first (thread replies stay in their thread, read with
``conversations.replies``), between ``oldest`` and ``latest``, at most ``limit``; a message's
``metadata`` (posted with ``chat.postMessage``) is in the answer only with
``include_all_metadata``; ``chat.update`` changes the kept message and keeps its metadata;
``chat.delete`` removes it.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, Matcher, Recorded

SlackResponder = Callable[[Recorded], Mapping[str, Any]]


@dataclass
class SlackUser:
    id: str
    team_id: str = "T1"
    name: str = ""
    real_name: str = ""
    email: str = ""
    tz: str = "Europe/London"
    tz_label: str = "Greenwich Mean Time"
    tz_offset: int = 0
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        name = self.name or self.id.lower()
        real_name = self.real_name or f"User {self.id}"
        email = self.email or f"{self.id.lower()}@example.com"
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name,
            "deleted": self.deleted,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "email": email,
                "team": self.team_id,
            },
        }


@dataclass
class SlackToken:
    """What ``auth.test`` says about a bot token."""

    token: str
    team_id: str = "T1"
    team: str = "Test Team"
    user_id: str = "UBOT"
    bot_id: str = "BBOT"
    enterprise_id: str | None = None
    revoked_error: str | None = None


@dataclass
class SlackInstall:
    """What ``oauth.v2.access`` answers for a code."""

    code: str
    team_id: str = "T9"
    team_name: str = "Nine"
    bot_token: str = ""
    bot_user_id: str = "UBOT9"
    bot_id: str = "BBOT9"
    app_id: str = "A1"
    authed_user_id: str = "U9"
    scope: str = (
        "commands,chat:write,chat:write.public,im:write,users:read,"
        "channels:history,groups:history,im:history,mpim:history"
    )
    enterprise_id: str | None = None
    used: bool = field(default=False, repr=False)


class FakeSlack(FakeServer):
    kind = "slack"

    def __init__(self) -> None:
        self._ts = itertools.count(1)
        # message timestamps are this fake's start time and up, as Slack's are "now"
        self._epoch = int(time.time())
        self._ids = itertools.count(1)
        self._tokens: dict[str, SlackToken] = {}
        self._strict_tokens = False
        self._users: dict[str, SlackUser] = {}
        self._apps: dict[str, str] = {}
        self._installs: dict[str, SlackInstall] = {}
        self._responders: dict[str, SlackResponder] = {}
        self._views: dict[str, dict[str, Any]] = {}
        # channel -> the messages posted there, oldest first (thread replies included)
        self._history: dict[str, list[dict[str, Any]]] = {}
        super().__init__()

    # ----------------------------------------------------------------- configuration

    @property
    def api_url(self) -> str:
        """Base URL for ``AsyncWebClient(base_url=...)`` / ``SLACK_API_URL`` (trailing slash)."""
        return self.url + "/api/"

    def add_token(
        self,
        token: str,
        *,
        team_id: str = "T1",
        team: str = "Test Team",
        user_id: str = "UBOT",
        bot_id: str = "BBOT",
        enterprise_id: str | None = None,
    ) -> None:
        """Register a token; from then on only registered tokens are accepted (``invalid_auth``)."""
        with self._lock:
            self._tokens[token] = SlackToken(token, team_id, team, user_id, bot_id, enterprise_id)
            self._strict_tokens = True

    def revoke_token(self, token: str, error: str = "token_revoked") -> None:
        """Calls with ``token`` answer ``{"ok": false, "error": error}`` from now on."""
        with self._lock:
            known = self._tokens.get(token) or SlackToken(token)
            known.revoked_error = error
            self._tokens[token] = known

    def add_user(self, user_id: str, **fields: Any) -> SlackUser:
        """Configure what ``users.info`` says (any unknown id gets a default non-admin user)."""
        user = SlackUser(id=user_id, **fields)
        with self._lock:
            self._users[user_id] = user
        return user

    def add_oauth_app(self, client_id: str, client_secret: str) -> None:
        """Once any app is added, ``oauth.v2.access`` checks the client credentials."""
        with self._lock:
            self._apps[client_id] = client_secret

    def add_install(self, code: str, **fields: Any) -> SlackInstall:
        """Register an OAuth code; once any is registered, unknown codes are ``invalid_code``."""
        install = SlackInstall(code=code, **fields)
        if not install.bot_token:
            install.bot_token = f"xoxb-{install.team_id}-{secrets.token_hex(6)}"
        with self._lock:
            self._installs[code] = install
        return install

    def respond(self, method: str, answer: Mapping[str, Any] | SlackResponder) -> None:
        """Script the answer of any method (also ones the fake does not model)."""
        if callable(answer):
            responder = answer
        else:
            fixed = dict(answer)

            def responder(_record: Recorded) -> Mapping[str, Any]:
                return fixed

        with self._lock:
            self._responders[method] = responder

    def fail_next(
        self,
        key: Matcher,
        *,
        status: int | None = None,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        slack_error: str | None = None,
    ) -> None:
        """``slack_error="not_in_channel"`` answers HTTP 200 ``{"ok": false, "error": ...}``.

        Without it: ``status`` (default 500), e.g. ``status=429, retry_after=1`` for a rate limit.
        """
        if slack_error is not None:
            body = {"ok": False, "error": slack_error}
            status = 200 if status is None else status
        super().fail_next(
            key,
            status=500 if status is None else status,
            times=times,
            retry_after=retry_after,
            body=body,
            headers=headers,
        )

    def error_body(self, record: Recorded, status: int) -> Any:
        return {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}

    # ----------------------------------------------------------------- inspection

    def response_url(self, hook_id: str | None = None) -> str:
        """A fresh ``response_url`` on this fake; posts to it are recorded as ``response_url``."""
        return f"{self.url}/response_url/{hook_id or secrets.token_hex(8)}"

    def responses(self, hook_id: str | None = None) -> list[dict[str, Any]]:
        """Bodies posted to response URLs (optionally only to one)."""
        return [
            r.args
            for r in self.calls("response_url")
            if hook_id is None or r.match_info.get("hook_id") == hook_id
        ]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Arguments of successful ``chat.postMessage`` calls, plus ``ts`` and the answered channel."""
        out = []
        for record in self.calls("chat.postMessage"):
            answer = record.response if isinstance(record.response, dict) else {}
            if not answer.get("ok"):
                continue
            args = _parsed(record.args)
            args["ts"] = answer["ts"]
            args["answered_channel"] = answer["channel"]
            if channel is None or channel in (args.get("channel"), answer["channel"]):
                out.append(args)
        return out

    def updates(self, channel: str | None = None) -> list[dict[str, Any]]:
        return self._ok_args("chat.update", channel)

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        return self._ok_args("chat.postEphemeral", channel)

    def views(self, method: str | None = None) -> list[dict[str, Any]]:
        """Arguments of successful views.open/update/publish/push calls (``view`` parsed)."""
        out = []
        for record in self.requests:
            if not record.name.startswith("views.") or (method and record.name != method):
                continue
            if isinstance(record.response, dict) and record.response.get("ok"):
                args = _parsed(record.args)
                args["method"] = record.name
                out.append(args)
        return out

    def _ok_args(self, method: str, channel: str | None) -> list[dict[str, Any]]:
        return [
            _parsed(r.args)
            for r in self.calls(method)
            if isinstance(r.response, dict)
            and r.response.get("ok")
            and (channel is None or r.args.get("channel") == channel)
        ]

    # ----------------------------------------------------------------- routes

    def build_routes(self) -> None:
        self.app.router.add_route("*", "/api/{method}", self._dispatch_api)
        self.route("POST", "/response_url/{hook_id}", "response_url", self._response_url)

    async def _dispatch_api(self, request: web.Request) -> web.StreamResponse:
        # Record under the Slack method name so rules and helpers can say "chat.postMessage".
        handler = self._wrap(request.match_info["method"], self._api)
        return await handler(request)

    async def _response_url(self, request: web.Request, record: Recorded) -> web.StreamResponse:
        return web.Response(text="ok")

    async def _api(self, request: web.Request, record: Recorded) -> web.StreamResponse:
        method = record.name
        args = record.args
        with self._lock:
            responder = self._responders.get(method)
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_v2_access(record))
        if method == "api.test" and responder is None:  # Slack's needs no token either
            return web.json_response({"ok": True, "args": {}})
        token = record.bearer or args.get("token")
        auth_error = self._check_token(token)
        if auth_error is not None:
            return web.json_response({"ok": False, "error": auth_error})
        assert token is not None
        if responder is not None:
            return web.json_response(dict(responder(record)))
        implementation = _METHODS.get(method)
        if implementation is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(implementation(self, token, args))

    def _check_token(self, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        with self._lock:
            known = self._tokens.get(token)
            strict = self._strict_tokens
        if known is not None and known.revoked_error:
            return known.revoked_error
        # xapp- app-level tokens open Socket Mode connections (apps.connections.open)
        if known is None and (strict or not token.startswith(("xoxb-", "xoxp-", "xapp-"))):
            return "invalid_auth"
        return None

    def _token_info(self, token: str) -> SlackToken:
        with self._lock:
            return self._tokens.get(token) or SlackToken(token)

    def _next_ts(self) -> str:
        micros = next(self._ts) * 100
        return f"{self._epoch + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _dm_channel(self, user_id: str) -> str:
        return "D" + user_id[1:]

    # --- methods

    def _auth_test(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        info = self._token_info(token)
        return {
            "ok": True,
            "url": f"https://{info.team_id.lower()}.slack.com/",
            "team": info.team,
            "user": "slotbot",
            "team_id": info.team_id,
            "user_id": info.user_id,
            "bot_id": info.bot_id,
            "enterprise_id": info.enterprise_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        if channel[:1] in ("U", "W"):
            channel = self._dm_channel(channel)
        ts = self._next_ts()
        info = self._token_info(token)
        message: dict[str, Any] = {
            "type": "message",
            "user": info.user_id,
            "bot_id": info.bot_id,
            "text": args.get("text", ""),
            "ts": ts,
        }
        if args.get("blocks") is not None:
            message["blocks"] = _maybe_json(args["blocks"])
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        metadata = _maybe_json(args.get("metadata"))
        if isinstance(metadata, dict) and metadata:
            if not isinstance(metadata.get("event_type"), str) or not isinstance(
                metadata.get("event_payload"), dict
            ):
                return {"ok": False, "error": "invalid_metadata_format"}
            message["metadata"] = metadata
        with self._lock:
            self._history.setdefault(channel, []).append(dict(message))
        answer = {k: v for k, v in message.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": ts, "message": answer}

    def _kept(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            for message in self._history.get(channel, []):
                if message["ts"] == ts:
                    return message
        return None

    def _history_of(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        with self._lock:
            kept = list(self._history.get(channel, []))
        top = [m for m in kept if m.get("thread_ts") in (None, m["ts"])]
        return self._page(top[::-1], args)

    def _replies(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        channel, parent = str(args.get("channel") or ""), str(args.get("ts") or "")
        if self._kept(channel, parent) is None:
            return {"ok": False, "error": "thread_not_found"}
        with self._lock:
            kept = list(self._history.get(channel, []))
        thread = [m for m in kept if m["ts"] == parent or m.get("thread_ts") == parent]
        return self._page(thread, args)

    @staticmethod
    def _page(messages: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        chosen = [m for m in messages if oldest < float(m["ts"]) < latest]
        page = [
            {k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in chosen[:limit]
        ]
        return {"ok": True, "messages": page, "has_more": len(chosen) > limit}

    def _update(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        message = {"text": args.get("text", ""), "blocks": _maybe_json(args.get("blocks"))}
        kept = self._kept(str(args["channel"]), str(args["ts"]))
        if kept is not None:
            with self._lock:
                kept.update(message)
        return {
            "ok": True,
            "channel": args["channel"],
            "ts": args["ts"],
            "text": args.get("text", ""),
            "message": message,
        }

    def _post_ephemeral(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _delete(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        with self._lock:
            kept = self._history.get(channel, [])
            self._history[channel] = [m for m in kept if m["ts"] != ts]
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _permalink(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {
            "ok": True,
            "channel": args.get("channel"),
            "permalink": f"https://example.slack.com/archives/{args.get('channel')}/p{ts}",
        }

    def _view(self, args: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = _maybe_json(args.get("view"))
        if not isinstance(view, dict) or not view.get("type"):
            return {"ok": False, "error": "invalid_arguments"}
        stored = dict(view)
        stored.setdefault("callback_id", "")
        stored.setdefault("private_metadata", "")
        stored.update(
            id=view_id or self._next_id("V"),
            team_id="T1",
            state={"values": {}},
            hash=secrets.token_hex(6),
        )
        with self._lock:
            self._views[stored["id"]] = stored
        return {"ok": True, "view": stored}

    def _views_open(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(args)

    def _views_update(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if view_id is None and args.get("external_id") is None:
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(args, view_id=str(view_id) if view_id else None)

    def _views_publish(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(args)

    def _conversations_open(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) == 1:
            channel_id = self._dm_channel(users[0])
        else:
            channel_id = "G" + "".join(sorted(u[1:] for u in users))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _conversations_info(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": channel.startswith("C"),
                "is_im": channel.startswith("D"),
                "is_private": channel.startswith("G"),
                "is_member": True,
            },
        }

    def _users_info(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        with self._lock:
            user = self._users.get(user_id) or SlackUser(id=user_id)
        return {"ok": True, "user": user.to_json()}

    def _users_lookup_by_email(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        with self._lock:
            users = list(self._users.values())
        for user in users:
            if user.to_json()["profile"]["email"].lower() == email:
                return {"ok": True, "user": user.to_json()}
        return {"ok": False, "error": "users_not_found"}

    def _auth_revoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        self.revoke_token(token)
        return {"ok": True, "revoked": True}

    def _oauth_v2_access(self, record: Recorded) -> dict[str, Any]:
        args = record.args
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        basic = record.headers.get("Authorization", "")
        if basic[:6].lower() == "basic ":
            decoded = base64.b64decode(basic[6:]).decode("utf-8", "replace")
            client_id, _, client_secret = decoded.partition(":")
        with self._lock:
            apps = dict(self._apps)
            install = self._installs.get(str(args.get("code")))
            codes_registered = bool(self._installs)
        if apps:
            if client_id not in apps:
                return {"ok": False, "error": "invalid_client_id"}
            if apps[client_id] != client_secret:
                return {"ok": False, "error": "bad_client_secret"}
        if not args.get("code"):
            return {"ok": False, "error": "invalid_code"}
        if install is None:
            if codes_registered:
                return {"ok": False, "error": "invalid_code"}
            install = self.add_install(str(args["code"]))
        if install.used:
            return {"ok": False, "error": "invalid_code"}
        install.used = True
        with self._lock:
            self._tokens.setdefault(
                install.bot_token,
                SlackToken(
                    install.bot_token,
                    team_id=install.team_id,
                    team=install.team_name,
                    user_id=install.bot_user_id,
                    bot_id=install.bot_id,
                    enterprise_id=install.enterprise_id,
                ),
            )
        enterprise = {"id": install.enterprise_id} if install.enterprise_id else None
        return {
            "ok": True,
            "app_id": install.app_id,
            "authed_user": {"id": install.authed_user_id},
            "scope": install.scope,
            "token_type": "bot",
            "access_token": install.bot_token,
            "bot_user_id": install.bot_user_id,
            "team": {"id": install.team_id, "name": install.team_name},
            "enterprise": enterprise,
            "is_enterprise_install": False,
        }


def _maybe_json(value: Any) -> Any:
    """Form-encoded calls carry ``blocks``/``view`` as JSON strings; JSON calls as objects."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parsed(args: dict[str, Any]) -> dict[str, Any]:
    """Call arguments with JSON-string fields (form-encoded calls) decoded."""
    out = dict(args)
    for name in ("blocks", "attachments", "view", "metadata"):
        if name in out:
            out[name] = _maybe_json(out[name])
    return out


_METHODS: dict[str, Callable[[FakeSlack, str, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "auth.revoke": FakeSlack._auth_revoke,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.delete": FakeSlack._delete,
    "chat.getPermalink": FakeSlack._permalink,
    "views.open": FakeSlack._views_open,
    "views.update": FakeSlack._views_update,
    "views.publish": FakeSlack._views_publish,
    "views.push": FakeSlack._views_open,
    "conversations.open": FakeSlack._conversations_open,
    "conversations.info": FakeSlack._conversations_info,
    "conversations.history": FakeSlack._history_of,
    "conversations.replies": FakeSlack._replies,
    "users.info": FakeSlack._users_info,
    "users.lookupByEmail": FakeSlack._users_lookup_by_email,
}
