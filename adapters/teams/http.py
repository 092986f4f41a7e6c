"""POST /api/messages: the core's ingress chain around `CloudAdapter.process_activity`.

botbuilder's `CloudAdapter.process` serialises invoke bodies twice (a crash on every
Action.Execute) and lets expired or garbled tokens through as 500s; so the chain does the
steps itself (size cap, auth, parse, dedupe) and hands botbuilder only the turn.

Who an activity is from is read from its body (`channelData.tenant.id`, `from`), which the
token does not sign: the token only says which channel's service sent it and for which service
URL. So an activity is accepted only from the Microsoft Teams channel (`msteams`; the
`emulator` channel too without authentication, TEAMS_DEV_MODE), addressed to this bot, with
the same tenant wherever it names one, and ids of sane lengths; and its token must be one the
Bot Framework signed for that channel (`adapters.teams.auth`).

The turn runs under a deadline well inside the ~15 s Teams waits for an answer: a reply that
cannot be sent by then is handed to the outbox (`adapters.teams.bot`), and the turn answered.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from adapters.teams.auth import TokenCheck, Unauthenticated, VerifierUnavailable, authenticate
from adapters.teams.bot import SlotbotTeamsBot
from adapters.teams.connector import deadline
from bot import ingress, logs
from bot.ingress import Call, Claim, EndpointBase, Rejected
from bot.runtime import Services

log = logging.getLogger(__name__)

DEDUPE_TTL_SECONDS = 24 * 3600.0
ROUTE = "/api/messages"


# parts of an activity botbuilder reads as objects; anything else crashes it mid-turn
OBJECT_FIELDS = ("from", "recipient", "conversation", "channelData", "relatesTo")

TEAMS_CHANNEL = "msteams"
EMULATOR_CHANNEL = "emulator"
# Teams' ids run to a few hundred characters (a 1:1 chat's "a:1…", a member's "29:1…")
MAX_ID_LENGTH = 512
MAX_CONVERSATION_ID_LENGTH = 1024
MAX_SERVICE_URL_LENGTH = 2048
# the time a turn has, from the request's arrival, to send what it says (Teams waits ~15 s)
TURN_DEADLINE_SECONDS = 8.0


class MessagesHandler(EndpointBase[Activity]):
    """`POST /api/messages` on the core's ingress chain. A Bot Framework token is bound to
    the activity it came with (its service URL and channel), so verifying reads the activity
    first: only its shape, which botbuilder needs to be objects where it expects them."""

    name = ROUTE

    def __init__(
        self,
        services: Services,
        adapter: CloudAdapter,
        bot: SlotbotTeamsBot,
        *,
        auth_required: bool,
        token_check: TokenCheck,
        bot_id: str | None = None,
    ) -> None:
        self.services = services
        self.adapter = adapter
        self.bot = bot
        self.auth_required = auth_required
        self.token_check = token_check
        # the recipient every activity must name: Teams calls the bot "28:<app id>"
        self.bot_id = bot_id
        self.channels = (
            frozenset({TEAMS_CHANNEL})
            if auth_required
            else frozenset({TEAMS_CHANNEL, EMULATOR_CHANNEL})
        )

    async def handle_request(self, request: web.Request) -> web.StreamResponse:
        return await ingress.run(self, request)

    async def before_read(self, call: Call) -> None:
        call.state[_STARTED] = time.monotonic()
        if "application/json" not in call.request.headers.get("Content-Type", ""):
            raise Rejected(415, "expected application/json")

    async def verify(self, call: Call) -> None:
        activity = _activity(call.body)
        _check_identity(activity, self.channels, self.bot_id)
        try:
            call.state[_AUTH] = await authenticate(
                self.adapter.bot_framework_authentication,
                self.token_check,
                activity,
                call.request.headers.get("Authorization"),
                required=self.auth_required,
            )
        except Unauthenticated as exc:
            log.warning(logs.REQUEST_REJECTED, "POST", ROUTE, f"unauthenticated ({exc})")
            raise Rejected(401, "unauthorized") from None
        except VerifierUnavailable as exc:
            log.warning(logs.REQUEST_REJECTED, "POST", ROUTE, f"cannot verify token ({exc})")
            raise Rejected(503, "cannot verify the token right now") from None
        call.state[_ACTIVITY] = activity

    def parse(self, call: Call) -> Activity:
        activity: Activity = call.state[_ACTIVITY]
        return activity

    def claims(self, call: Call, activity: Activity) -> list[Claim]:
        if not activity.id or activity.type not in ("message", "invoke"):
            return []
        return [
            Claim(
                f"teams_activity:{activity.conversation.id}:{activity.id}",
                DEDUPE_TTL_SECONDS,
                note=f"{activity.type} delivered again",
                status=200 if activity.type == "invoke" else 201,
            )
        ]

    async def handle(self, call: Call, activity: Activity) -> web.StreamResponse:
        # botbuilder hands a failed turn to on_turn_error and returns as if it had worked:
        # note the failure, so the activity is not remembered as handled and Teams retries it
        failed: list[BaseException] = []

        async def turn(context: TurnContext) -> None:
            try:
                await self.bot.on_turn(context)
            except Exception as exc:
                failed.append(exc)
                raise

        with deadline(call.state[_STARTED] + TURN_DEADLINE_SECONDS):
            invoke_response = await self.adapter.process_activity(call.state[_AUTH], activity, turn)
        if failed:
            return web.json_response({"error": "the activity could not be handled"}, status=500)
        if invoke_response is None:
            return web.Response(status=201)
        payload: Any = invoke_response.body
        if payload is not None and not isinstance(payload, (dict, list, str, int, float, bool)):
            payload = serializer_helper(payload)
        if payload is None:
            return web.Response(status=invoke_response.status)
        return web.json_response(payload, status=invoke_response.status)


_ACTIVITY = "activity"
_AUTH = "auth"
_STARTED = "started"


def _activity(raw: bytes) -> Activity:
    """The body as an activity botbuilder can read, or the reason it is not one (400)."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, "body is not JSON") from None
    if not isinstance(body, dict):
        raise Rejected(400, "body is not a JSON object")
    for field in OBJECT_FIELDS:
        if body.get(field) is not None and not isinstance(body[field], dict):
            raise Rejected(400, f"activity {field} is not an object")
    if body.get("type") == "invoke" and not isinstance(body.get("value", {}), dict):
        # botbuilder reads every invoke's value as an object
        raise Rejected(400, "invoke value is not an object")
    try:
        activity = Activity().deserialize(body)
    except Exception:
        raise Rejected(400, "not a Bot Framework activity") from None
    if not activity.type:
        raise Rejected(400, "activity has no type")
    if not activity.service_url:
        raise Rejected(400, "activity has no serviceUrl")
    if activity.conversation is None or not activity.conversation.id:
        raise Rejected(400, "activity has no conversation")
    if activity.from_property is None or not activity.from_property.id:
        raise Rejected(400, "activity has no sender (from)")
    if activity.recipient is None or not activity.recipient.id:
        raise Rejected(400, "activity has no recipient")
    if len(_tenant_ids(body)) > 1:
        raise Rejected(400, "activity names two different tenants")
    _check_ids(activity, body)
    return activity


def _check_ids(activity: Activity, body: dict[str, Any]) -> None:
    if len(activity.service_url) > MAX_SERVICE_URL_LENGTH:
        raise Rejected(400, "activity serviceUrl is too long")
    if len(activity.conversation.id) > MAX_CONVERSATION_ID_LENGTH:
        raise Rejected(400, "activity conversation id is too long")
    data = body.get("channelData")
    nested = (
        [
            part.get("id")
            for part in (data.get(name) for name in ("tenant", "team", "channel"))
            if isinstance(part, dict)
        ]
        if isinstance(data, dict)
        else []
    )
    ids = [
        activity.id,
        activity.reply_to_id,
        activity.from_property.id,
        activity.from_property.aad_object_id,
        activity.recipient.id,
        *_tenant_ids(body),
        *nested,
    ]
    if any(isinstance(value, str) and len(value) > MAX_ID_LENGTH for value in ids):
        raise Rejected(400, "an id in the activity is too long")
    # ids travel back in HTTP headers and URL paths (x-ms-conversation-id): Teams' own are
    # printable ASCII, and anything else could only fail the reply half-way through the turn
    if any(
        isinstance(value, str) and not (value.isascii() and value.isprintable())
        for value in (activity.conversation.id, *ids)
    ):
        raise Rejected(400, "an id in the activity is not printable ASCII")


def _tenant_ids(body: dict[str, Any]) -> set[str]:
    """Every tenant id the activity names (Teams names it in both places)."""
    found: set[str] = set()
    data = body.get("channelData")
    tenant = data.get("tenant") if isinstance(data, dict) else None
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and tenant["id"]:
        found.add(tenant["id"])
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        for key in ("tenantId", "tenantID"):
            if isinstance(conversation.get(key), str) and conversation[key]:
                found.add(conversation[key])
    return found


def _check_identity(activity: Activity, channels: frozenset[str], bot_id: str | None) -> None:
    """The parts of the activity Slotbot takes identity from, as Teams sends them (400)."""
    if activity.channel_id not in channels:
        raise Rejected(400, "not a Microsoft Teams activity")
    if bot_id and activity.recipient.id != bot_id:
        raise Rejected(400, "activity is not addressed to this bot")
