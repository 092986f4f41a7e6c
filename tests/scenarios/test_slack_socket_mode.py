"""Socket Mode: with SLACK_APP_TOKEN the app connects out over a WebSocket (no public URL),
acks each envelope and runs the command as it would over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from bot.store.base import Store
from tests.adapters.slack.support import all_text, make_app, slack_settings
from tests.fakes.slack import FakeSlack


async def test_socket_mode_acks_envelopes_and_runs_commands(
    aiohttp_client: Any, aiohttp_server: Any, store: Store, fake_slack: FakeSlack
) -> None:
    from_app: list[dict[str, Any]] = []
    sent_envelope: list[bool] = []
    test_over = asyncio.Event()  # ends the server side of the socket when the test is done
    envelope = {
        "envelope_id": "env-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "team_id": "T1",
            "channel_id": "C1",
            "channel_name": "hiring",
            "user_id": "U1",
            "user_name": "u1",
            "command": "/schedule",
            "text": "help",
            "api_app_id": "A1",
            "response_url": fake_slack.response_url("socket"),
            "trigger_id": "trigger.socket",
        },
    }

    async def slack_socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
        )
        if not sent_envelope:
            sent_envelope.append(True)
            await ws.send_json(envelope)
        finished = asyncio.ensure_future(test_over.wait())
        while not ws.closed:
            received = asyncio.ensure_future(ws.receive())
            await asyncio.wait({received, finished}, return_when=asyncio.FIRST_COMPLETED)
            if not received.done():
                received.cancel()
                break
            message = received.result()
            if message.type != WSMsgType.TEXT:
                break
            from_app.append(json.loads(message.data))
        finished.cancel()
        await ws.close()
        return ws

    socket_app = web.Application()
    socket_app.router.add_get("/link", slack_socket)
    socket_server = await aiohttp_server(socket_app)
    fake_slack.respond(
        "apps.connections.open",
        {"ok": True, "url": f"ws://127.0.0.1:{socket_server.port}/link"},
    )
    settings = slack_settings(fake_slack, SLACK_SIGNING_SECRET="", SLACK_APP_TOKEN="xapp-1-A1-test")
    client = await aiohttp_client(make_app(settings, store))

    opened = await fake_slack.wait_for("apps.connections.open")
    assert opened[0].bearer == "xapp-1-A1-test"
    for _ in range(500):  # the ack travels back over the socket, the answer in it
        if any(m.get("envelope_id") == "env-1" for m in from_app):
            break
        await asyncio.sleep(0.01)
    [acked] = [m for m in from_app if m.get("envelope_id") == "env-1"]
    assert "/schedule" in all_text(acked.get("payload"))
    assert fake_slack.responses("socket") == []
    # no signing secret: the HTTP endpoint is not mounted at all
    response = await client.post("/slack/events", data=b"{}")
    assert response.status in (404, 405)
    await client.close()  # the app disconnects first, then the fake socket closes
    test_over.set()
