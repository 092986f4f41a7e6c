"""POST /api/messages: the core's ingress chain around `CloudAdapter.process_activity`.

botbuilder's `CloudAdapter.process` serialises invoke bodies twice (a crash on every
Action.Execute) and lets expired or garbled tokens through as 500s; so the chain does the
steps itself (size cap, auth, parse, dedupe) and hands botbuilder only the turn.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from adapters.teams.auth import Unauthenticated, VerifierUnavailable, authenticate
from adapters.teams.bot import SlotbotTeamsBot
from bot import ingress, logs
from bot.ingress import Call, Claim, EndpointBase, Rejected
from bot.runtime import Services

log = logging.getLogger(__name__)

DEDUPE_TTL_SECONDS = 24 * 3600.0
ROUTE = "/api/messages"


# parts of an activity botbuilder reads as objects; anything else crashes it mid-turn
OBJECT_FIELDS = ("from", "recipient", "conversation", "channelData", "relatesTo")


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
    ) -> None:
        self.services = services
        self.adapter = adapter
        self.bot = bot
        self.auth_required = auth_required

    async def handle_request(self, request: web.Request) -> web.StreamResponse:
        return await ingress.run(self, request)

    async def before_read(self, call: Call) -> None:
        if "application/json" not in call.request.headers.get("Content-Type", ""):
            raise Rejected(415, "expected application/json")

    async def verify(self, call: Call) -> None:
        activity = _activity(call.body)
        try:
            call.state[_AUTH] = await authenticate(
                self.adapter.bot_framework_authentication,
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
    return activity
