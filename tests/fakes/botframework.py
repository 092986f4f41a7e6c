"""FakeConnector: the Bot Framework connector REST API, plus token, OpenID metadata and JWKS.

Outbound: botbuilder's CloudAdapter sends to ``activity.serviceUrl``, so an inbound test activity
with ``"serviceUrl": fake.service_url`` makes every reply, update and roster read land here.

Inbound auth: ``make_token(app_id)`` signs an RS256 JWT with this fake's key, whose public half
is served at ``openid_metadata_url`` (-> ``jwks_uri`` -> ``{"keys": [jwk]}`` with
``endorsements: ["msteams"]``). botbuilder reads that metadata with a blocking ``requests.get``
on the caller's event loop (chat-sdks.md §4.3); that works here because every fake serves from
its own thread and loop. Point botbuilder at it with
``ChannelValidation.open_id_metadata_endpoint = fake.openid_metadata_url`` (restore afterwards)
or with the ``TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL`` configuration key.

What people do in Teams behind the bot's back: ``delete_message(conversation, activity)`` makes
updates of, replies to and thread posts under that message answer 404 ``NotFound``;
``remove_bot(conversation)`` makes every post, reply and update there answer 403
``BotNotInConversationRoster``.

Token endpoint: ``POST /{tenant}/oauth2/v2.0/token`` answers a client-credentials grant in AAD's
shape (``token_url``); MSAL itself insists on an https authority, so code under test reaches it
only through its own token client.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.base import FakeServer, Recorded

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


@dataclass
class TeamsMember:
    id: str
    name: str = ""
    aad_object_id: str = ""
    email: str = ""
    user_principal_name: str = ""
    tenant_id: str = "t1"
    user_role: str = "user"
    given_name: str = ""
    surname: str = ""

    def to_json(self) -> dict[str, Any]:
        suffix = self.id.split(":")[-1]
        email = self.email or f"{suffix.lower()}@example.com"
        return {
            "id": self.id,
            "name": self.name or f"User {suffix}",
            "aadObjectId": self.aad_object_id or f"aad-{suffix}",
            "email": email,
            "userPrincipalName": self.user_principal_name or email,
            "tenantId": self.tenant_id,
            "userRole": self.user_role,
            "givenName": self.given_name or None,
            "surname": self.surname or None,
        }


class FakeConnector(FakeServer):
    kind = "botframework"

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._members: dict[str, TeamsMember] = {}
        self._apps: dict[str, str] = {}
        # what people did in Teams behind the bot's back (see delete_message, remove_bot)
        self._deleted: set[tuple[str, str]] = set()
        self._without_bot: set[str] = set()
        self._key: rsa.RSAPrivateKey | None = None
        self.kid = "fake-signing-key"
        self.endorsements = ["msteams"]
        super().__init__()

    # ----------------------------------------------------------------- configuration

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` to put in inbound activities (trailing slash, as Teams sends it)."""
        return self.url + "/"

    @property
    def openid_metadata_url(self) -> str:
        return self.url + "/openid/.well-known/openidconfiguration"

    @property
    def jwks_url(self) -> str:
        return self.url + "/openid/keys"

    def token_url(self, tenant: str = "botframework.com") -> str:
        return f"{self.url}/{tenant}/oauth2/v2.0/token"

    def add_member(self, member_id: str, **fields: Any) -> TeamsMember:
        """Configure what roster reads return (unknown ids get a default member)."""
        member = TeamsMember(id=member_id, **fields)
        with self._lock:
            self._members[member_id] = member
        return member

    def add_app(self, app_id: str, password: str) -> None:
        """Once any app is added, the token endpoint checks client_id/client_secret."""
        with self._lock:
            self._apps[app_id] = password

    def delete_message(self, conversation_id: str, activity_id: str) -> None:
        """Someone deleted this message in Teams: from now on updating it, replying to it or
        posting in its thread answers 404, as the connector does for a message that is gone."""
        with self._lock:
            self._deleted.add((_base_conversation(conversation_id), activity_id))

    def remove_bot(self, conversation_id: str) -> None:
        """The bot was removed from this conversation (a channel's team, a chat) without the
        bot hearing of it: every post, reply and update there answers 403
        BotNotInConversationRoster."""
        with self._lock:
            self._without_bot.add(_base_conversation(conversation_id))

    def signing_key(self) -> rsa.RSAPrivateKey:
        """The RSA key whose public half is served in the JWKS (made on first use)."""
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def make_token(
        self,
        app_id: str,
        *,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        audience: str | None = None,
        expires_in: int = 3600,
        not_before: int | None = None,
        kid: str | None = None,
        alg: str = "RS256",
        service_url: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        extra_claims: dict[str, Any] | None = None,
    ) -> str:
        """A Bot Framework channel token as Teams would send it (``Authorization: Bearer ...``).

        Defaults make a valid token for ``app_id`` and ``service_url`` (this fake's); vary one
        argument to make an invalid one (``expires_in=-600`` is past botbuilder's 5 min leeway,
        ``key=other_key`` signs with a key the JWKS does not hold).
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": app_id if audience is None else audience,
            "serviceurl": self.service_url if service_url is None else service_url,
            "nbf": now - 10 if not_before is None else not_before,
            "iat": now - 10,
            "exp": now + expires_in,
        }
        claims.update(extra_claims or {})
        signing = key if key is not None else self.signing_key()
        return jwt.encode(claims, signing, algorithm=alg, headers={"kid": kid or self.kid})

    # ----------------------------------------------------------------- inspection

    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Activities sent or replied (POST), oldest first, each with ``_conversation_id``,
        ``_reply_to_id`` (None for a plain send) and ``_id`` (the id the fake answered)."""
        out = []
        for record in self.calls(lambda r: r.name in ("send_to_conversation", "reply_to_activity")):
            if record.status != 200 or not isinstance(record.json, dict):
                continue
            cid = record.match_info["conversation_id"]
            if conversation_id is not None and cid != conversation_id:
                continue
            activity = dict(record.json)
            activity["_conversation_id"] = cid
            activity["_reply_to_id"] = record.match_info.get("activity_id")
            activity["_id"] = (record.response or {}).get("id")
            out.append(activity)
        return out

    def updates(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Activities updated (PUT), each with ``_conversation_id`` and ``_activity_id``."""
        out = []
        for record in self.calls("update_activity"):
            if record.status != 200 or not isinstance(record.json, dict):
                continue
            cid = record.match_info["conversation_id"]
            if conversation_id is None or cid == conversation_id:
                activity = dict(record.json)
                activity["_conversation_id"] = cid
                activity["_activity_id"] = record.match_info["activity_id"]
                out.append(activity)
        return out

    def deletes(self) -> list[tuple[str, str]]:
        return [
            (r.match_info["conversation_id"], r.match_info["activity_id"])
            for r in self.calls("delete_activity")
            if r.status == 200
        ]

    def created_conversations(self) -> list[dict[str, Any]]:
        """Bodies of successful create-conversation calls, each with ``_id`` (the new id)."""
        out = []
        for record in self.calls("create_conversation"):
            if record.status in (200, 201) and isinstance(record.json, dict):
                params = dict(record.json)
                params["_id"] = (record.response or {}).get("id")
                out.append(params)
        return out

    def error_body(self, record: Recorded, status: int) -> Any:
        code = {429: "Throttled", 412: "PreconditionFailed", 404: "NotFound"}.get(status)
        return {"error": {"code": code or "ServiceError", "message": f"Scripted {status}"}}

    # ----------------------------------------------------------------- routes

    def build_routes(self) -> None:
        conv = "/v3/conversations/{conversation_id}"
        act = conv + "/activities/{activity_id}"
        self.route("POST", "/v3/conversations", "create_conversation", self._create_conversation)
        self.route("GET", "/v3/conversations", "get_conversations", self._get_conversations)
        self.route("POST", conv + "/activities", "send_to_conversation", self._send)
        self.route("POST", act, "reply_to_activity", self._send)
        self.route("PUT", act, "update_activity", self._update)
        self.route("DELETE", act, "delete_activity", self._delete)
        self.route("GET", conv + "/members", "get_conversation_members", self._members_list)
        self.route("GET", conv + "/pagedmembers", "get_paged_members", self._paged_members)
        self.route("GET", conv + "/members/{member_id}", "get_conversation_member", self._member)
        self.route("GET", "/v3/teams/{team_id}", "get_team_details", self._team)
        self.route("GET", "/v3/teams/{team_id}/conversations", "get_team_channels", self._channels)
        self.route("POST", "/{tenant}/oauth2/v2.0/token", "token", self._token)
        self.route("GET", "/openid/.well-known/openidconfiguration", "openid_metadata", self._meta)
        self.route("GET", "/openid/keys", "jwks", self._jwks)

    def _next(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    async def _create_conversation(self, request: web.Request, record: Recorded) -> web.Response:
        body = record.json
        if not isinstance(body, dict) or (not body.get("members") and not body.get("isGroup")):
            return _bf_error(400, "BadArgument", "members required")
        answer = {
            "id": self._next("a:created"),
            "activityId": self._next("act") if body.get("activity") else None,
            "serviceUrl": self.service_url,
        }
        return web.json_response(answer)

    async def _get_conversations(self, request: web.Request, record: Recorded) -> web.Response:
        return web.json_response({"conversations": [], "continuationToken": None})

    def _refusal(self, request: web.Request) -> web.Response | None:
        """The connector's answer when the bot is out of the conversation (403), or the
        message the request is about, or its thread's root, was deleted (404)."""
        conversation = request.match_info["conversation_id"]
        base = _base_conversation(conversation)
        _, _, root = conversation.partition(";messageid=")
        with self._lock:
            if base in self._without_bot:
                return _bf_error(
                    403,
                    "BotNotInConversationRoster",
                    "The bot is not part of the conversation roster.",
                )
            gone = {request.match_info.get("activity_id"), root or None} & {
                activity for conv, activity in self._deleted if conv == base
            }
        if gone:
            return _bf_error(404, "NotFound", "The message was not found.")
        return None

    async def _send(self, request: web.Request, record: Recorded) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        if not isinstance(record.json, dict) or not record.json.get("type"):
            return _bf_error(400, "BadArgument", "activity type required")
        return web.json_response({"id": self._next("act")})

    async def _update(self, request: web.Request, record: Recorded) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        if not isinstance(record.json, dict):
            return _bf_error(400, "BadArgument", "activity required")
        return web.json_response({"id": request.match_info["activity_id"]})

    async def _delete(self, request: web.Request, record: Recorded) -> web.Response:
        return web.Response(status=200)

    def _member_json(self, member_id: str) -> dict[str, Any]:
        with self._lock:
            member = self._members.get(member_id) or TeamsMember(id=member_id)
        return member.to_json()

    def _all_members(self) -> list[dict[str, Any]]:
        with self._lock:
            members = list(self._members.values())
        return [m.to_json() for m in members]

    async def _member(self, request: web.Request, record: Recorded) -> web.Response:
        return web.json_response(self._member_json(request.match_info["member_id"]))

    async def _members_list(self, request: web.Request, record: Recorded) -> web.Response:
        return web.json_response(self._all_members())

    async def _paged_members(self, request: web.Request, record: Recorded) -> web.Response:
        return web.json_response({"members": self._all_members(), "continuationToken": None})

    async def _team(self, request: web.Request, record: Recorded) -> web.Response:
        team_id = request.match_info["team_id"]
        return web.json_response(
            {"id": team_id, "name": "Hiring Team", "aadGroupId": f"group-{team_id}"}
        )

    async def _channels(self, request: web.Request, record: Recorded) -> web.Response:
        team_id = request.match_info["team_id"]
        return web.json_response({"conversations": [{"id": team_id, "name": None}]})

    async def _token(self, request: web.Request, record: Recorded) -> web.Response:
        form = record.form or {}
        with self._lock:
            apps = dict(self._apps)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if apps and apps.get(form.get("client_id", "")) != form.get("client_secret"):
            return web.json_response(
                {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client"},
                status=401,
            )
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3600,
                "ext_expires_in": 3600,
                "access_token": "fake-bf-" + secrets.token_hex(12),
            }
        )

    async def _meta(self, request: web.Request, record: Recorded) -> web.Response:
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": self.url + "/openid/authorize",
                "jwks_uri": self.jwks_url,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _jwks(self, request: web.Request, record: Recorded) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.signing_key().public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)})
        return web.json_response({"keys": [jwk]})


def _base_conversation(conversation_id: str) -> str:
    """A channel thread ("<channel>;messageid=<root>") belongs to its channel."""
    return conversation_id.partition(";messageid=")[0]


def _bf_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
