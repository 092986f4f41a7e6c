"""`POST /slack/events` on the core's ingress chain: the signature is checked on the raw
bytes before anything parses them (bolt answers 500 to a bad timestamp and parses JSON before
verifying), the payload parsed, and each request (and each event, which Slack retries) taken
once before bolt sees it:

    size cap -> signature (401) -> parse (400) -> replay / retried-event dedupe -> bolt
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.slack.reach import STORE_DOWN
from adapters.slack.verify import (
    MAX_CLOCK_SKEW,
    MalformedRequest,
    SlackPayload,
    Verdict,
    parse_payload,
    verify_signature,
)
from bot.ingress import Call, Claim, EndpointBase, Rejected, Unavailable

EVENTS_PATH = "/slack/events"
# a signed request stays valid for 5 minutes either side of its timestamp
REPLAY_TTL = 2 * MAX_CLOCK_SKEW
# Slack retries an event for about 5 minutes; remember handled events a while longer
EVENT_TTL = 60 * 60
# events whose handling may run twice with no difference (forgetting a member's cached
# admin rights): taken without dedupe claims, so the stream of a large workspace's profile
# changes writes nothing to the store
IDEMPOTENT_EVENTS = frozenset({"user_change"})


class SlackEventsEndpoint(EndpointBase[SlackPayload]):
    """`POST /slack/events` on the core's ingress chain: the signature is checked on the raw
    bytes, the payload parsed, and each request (and each event, which Slack retries) taken
    once before bolt sees it."""

    name = EVENTS_PATH

    def __init__(
        self, bolt: AsyncApp, signing_secret: str | None, clock: Callable[[], float]
    ) -> None:
        self.bolt = bolt
        self.signing_secret = signing_secret
        self.clock = clock

    def rejection_body(self, rejected: Rejected) -> dict[str, Any]:
        return {"error": "invalid request", "reason": rejected.reason}

    async def before_read(self, call: Call) -> None:
        if self.signing_secret is None:
            raise Rejected(404, "Slack HTTP requests are off (Socket Mode only)")

    async def verify(self, call: Call) -> None:
        assert self.signing_secret is not None  # before_read refused it otherwise
        verdict = verify_signature(
            self.signing_secret,
            call.request.headers,
            call.body,
            now=self.clock,
        )
        if not verdict.ok:
            raise Rejected(401, verdict.reason)
        call.state[_VERDICT] = verdict

    def parse(self, call: Call) -> SlackPayload:
        try:
            return parse_payload(call.request.headers.get("Content-Type", ""), call.body)
        except MalformedRequest as exc:
            raise Rejected(exc.status, str(exc)) from None

    def claims(self, call: Call, payload: SlackPayload) -> list[Claim]:
        if payload.kind == "event" and payload.event_type in IDEMPOTENT_EVENTS:
            return []
        verdict: Verdict = call.state[_VERDICT]
        no_retry = {"X-Slack-No-Retry": "1"}
        taken = [
            Claim(
                f"slack_request:{verdict.timestamp}:{verdict.signature}",
                REPLAY_TTL,
                note=f"replayed {payload.kind}",
                headers=no_retry,
            )
        ]
        if payload.kind == "event" and payload.event_id:
            retry = call.request.headers.get("X-Slack-Retry-Num", "-")
            taken.append(
                Claim(
                    f"slack_event:{payload.event_id}",
                    EVENT_TTL,
                    note=f"event {payload.event_id} retry {retry}",
                    headers=no_retry,
                )
            )
        return taken

    async def handle(self, call: Call, payload: SlackPayload) -> web.StreamResponse:
        bolt_request = AsyncBoltRequest(
            body=call.body.decode("utf-8"),
            query=call.request.query_string,
            headers={k: v for k, v in call.request.headers.items()},
            # bolt logs through the context while building it (a view with several
            # response_urls) before its dispatch sets the logger: a KeyError, then a 500
            context={"logger": _BOLT_LOG},
        )
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        if bolt_response.status >= 500 and bolt_request.context.get(STORE_DOWN):
            raise Unavailable()  # the store failed while authorising: Slack retries a 503
        return await to_aiohttp_response(bolt_response)


_VERDICT = "verdict"
_BOLT_LOG = logging.getLogger("slack_bolt.AsyncApp")
