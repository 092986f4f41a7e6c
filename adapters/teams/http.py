"""POST /api/messages: our own handler around `CloudAdapter.process_activity`.

botbuilder's `CloudAdapter.process` serialises invoke bodies twice (a crash on every
Action.Execute) and lets expired or garbled tokens through as 500s; this handler does the
steps itself: size cap, auth, parse, dedupe, process.
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
from bot import logs
from bot.errors import StoreError
from bot.runtime import Services

log = logging.getLogger(__name__)

DEDUPE_TTL_SECONDS = 24 * 3600.0
ROUTE = "/api/messages"


# parts of an activity botbuilder reads as objects; anything else crashes it mid-turn
OBJECT_FIELDS = ("from", "recipient", "conversation", "channelData", "relatesTo")


def problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


class MessagesHandler:
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

    async def handle(self, request: web.Request) -> web.Response:
        limit = self.services.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return problem(413, "body too large")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return problem(415, "expected application/json")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return problem(413, "body too large")
        if len(raw) > limit:
            return problem(413, "body too large")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            return problem(400, "body is not JSON")
        if not isinstance(body, dict):
            return problem(400, "body is not a JSON object")
        for field in OBJECT_FIELDS:
            if body.get(field) is not None and not isinstance(body[field], dict):
                return problem(400, f"activity {field} is not an object")
        if body.get("type") == "invoke" and not isinstance(body.get("value", {}), dict):
            # botbuilder reads every invoke's value as an object
            return problem(400, "invoke value is not an object")
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return problem(400, "not a Bot Framework activity")
        if not activity.type:
            return problem(400, "activity has no type")
        if not activity.service_url:
            return problem(400, "activity has no serviceUrl")
        if activity.conversation is None or not activity.conversation.id:
            return problem(400, "activity has no conversation")
        if activity.from_property is None or not activity.from_property.id:
            return problem(400, "activity has no sender (from)")
        if activity.recipient is None or not activity.recipient.id:
            return problem(400, "activity has no recipient")

        try:
            auth_result = await authenticate(
                self.adapter.bot_framework_authentication,
                activity,
                request.headers.get("Authorization"),
                required=self.auth_required,
            )
        except Unauthenticated as exc:
            log.warning(logs.REQUEST_REJECTED, request.method, ROUTE, f"unauthenticated ({exc})")
            return problem(401, "unauthorized")
        except VerifierUnavailable as exc:
            log.warning(
                logs.REQUEST_REJECTED, request.method, ROUTE, f"cannot verify token ({exc})"
            )
            return problem(503, "cannot verify the token right now")

        dedupe_key = ""
        if activity.id and activity.type in ("message", "invoke"):
            dedupe_key = f"teams_activity:{activity.conversation.id}:{activity.id}"
            try:
                first = await self.services.store.claim_once(dedupe_key, DEDUPE_TTL_SECONDS)
            except StoreError as exc:
                log.warning(logs.STORE_DOWN, exc)
                return problem(503, "temporarily unavailable")
            if not first:
                return web.Response(status=200 if activity.type == "invoke" else 201)

        # botbuilder hands a failed turn to on_turn_error and returns as if it had worked:
        # note the failure, so the activity is not remembered as handled and Teams retries it
        failed: list[BaseException] = []

        async def turn(context: TurnContext) -> None:
            try:
                await self.bot.on_turn(context)
            except Exception as exc:
                failed.append(exc)
                raise

        invoke_response = await self.adapter.process_activity(auth_result, activity, turn)
        if failed:
            if dedupe_key:
                try:
                    await self.services.store.release_claim(dedupe_key)
                except StoreError as exc:
                    log.warning(logs.STORE_DOWN, exc)
            return problem(500, "the activity could not be handled")
        if invoke_response is None:
            return web.Response(status=201)
        payload: Any = invoke_response.body
        if payload is not None and not isinstance(payload, (dict, list, str, int, float, bool)):
            payload = serializer_helper(payload)
        if payload is None:
            return web.Response(status=invoke_response.status)
        return web.json_response(payload, status=invoke_response.status)
