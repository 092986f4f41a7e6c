"""POST /api/messages: every malformed request gets a clear 4xx; duplicates run once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.store.base import Store
from tests.adapters.teams.support import (
    BOT,
    dev_settings,
    execute,
    make_app,
    message,
    personal,
)
from tests.fakes.botframework import FakeConnector

ADA_DM = "a:personal-29:ada"
BOT_ID = BOT["id"]


async def test_wrong_content_type_is_415(aiohttp_client: Any, store: Store) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    response = await client.post(
        "/api/messages", data=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415


async def test_malformed_bodies_are_400(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    json_headers = {"Content-Type": "application/json"}
    no_type = dict(message(personal(fake_connector), "help"))
    del no_type["type"]
    no_service_url = dict(message(personal(fake_connector), "help"))
    del no_service_url["serviceUrl"]
    for body in (
        b"{not json",
        b"[1, 2]",
        b"\xff\xfe",
        json.dumps(no_type).encode(),
        json.dumps(no_service_url).encode(),
    ):
        response = await client.post("/api/messages", data=body, headers=json_headers)
        assert response.status == 400, body
        assert "error" in await response.json()
    assert not fake_connector.requests


async def test_oversized_body_is_413(aiohttp_client: Any, store: Store) -> None:
    settings = dev_settings()
    client = await aiohttp_client(make_app(settings, store))
    body = b'{"type": "message", "text": "' + b"x" * settings.max_body_bytes + b'"}'
    response = await client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 413


async def test_a_redelivered_activity_is_processed_once(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = message(personal(fake_connector), "help")
    assert (await client.post("/api/messages", json=activity)).status == 201
    assert (await client.post("/api/messages", json=activity)).status == 201
    assert len(fake_connector.activities(ADA_DM)) == 1


async def test_action_submit_style_invoke_is_refused_cleanly(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = execute(personal(fake_connector), "x", {})
    activity["value"]["action"]["type"] = "Action.Submit"
    response = await client.post("/api/messages", json=activity)
    assert response.status == 400
    assert (await response.json())["statusCode"] == 400


async def test_unknown_text_is_said_not_understood_with_the_short_help(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    assert (
        await client.post("/api/messages", json=message(personal(fake_connector), "hello?"))
    ).status == 201
    [reply] = fake_connector.activities(ADA_DM)
    assert reply["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = json.dumps(reply["attachments"][0]["content"], ensure_ascii=False)
    assert "I didn't understand “hello?”" in content and "schedule link" in content


async def test_dev_mode_ignores_a_token_it_cannot_check(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    response = await client.post(
        "/api/messages",
        json=message(personal(fake_connector), "help"),
        headers={"Authorization": "Bearer emulator.token.here"},
    )
    assert response.status == 201


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"conversation": None}, "activity has no conversation"),
        ({"from": None}, "activity has no sender (from)"),
        ({"recipient": None}, "activity has no recipient"),
        ({"channelData": ["not", "an", "object"]}, "activity channelData is not an object"),
        ({"from": "29:ada"}, "activity from is not an object"),
        (
            {"type": "invoke", "name": "adaptiveCard/action", "value": [1]},
            "invoke value is not an object",
        ),
    ],
)
async def test_an_activity_botbuilder_cannot_read_is_400_before_any_work(
    aiohttp_client: Any,
    store: Store,
    fake_connector: FakeConnector,
    change: dict[str, Any],
    reason: str,
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = {**message(personal(fake_connector), "help"), **change}
    activity = {k: v for k, v in activity.items() if v is not None}
    response = await client.post("/api/messages", json=activity)
    assert response.status == 400
    assert (await response.json())["error"] == reason
    assert not fake_connector.requests


async def test_an_activity_that_failed_on_our_side_runs_when_redelivered(
    aiohttp_client: Any,
    store: Store,
    fake_connector: FakeConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import adapters.teams.bot as teams_bot

    handle_turn = teams_bot.handle_turn
    failures = [RuntimeError("a bug on Slotbot's side")]

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await handle_turn(*args, **kwargs)

    monkeypatch.setattr(teams_bot, "handle_turn", fails_once)
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = message(personal(fake_connector), "help")
    first = await client.post("/api/messages", json=activity)
    assert first.status == 500, "nothing was done"
    again = await client.post("/api/messages", json=activity)
    assert again.status == 201
    cards = [a for a in fake_connector.activities(ADA_DM) if a.get("attachments")]
    assert len(cards) == 1, "the redelivery was handled, not dropped as a duplicate"


async def test_a_reply_the_connector_refuses_is_sent_later_by_the_outbox(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store, run_worker=True))
    fake_connector.fail_next(
        lambda r: r.name in ("send_to_conversation", "reply_to_activity"), status=500
    )
    activity = message(personal(fake_connector), "help")
    first = await client.post("/api/messages", json=activity)
    assert first.status == 201, "the turn is answered; its reply waits in the outbox"
    await fake_connector.wait_for(
        lambda r: r.name == "send_to_conversation" and r.status == 200, timeout=10
    )
    again = await client.post("/api/messages", json=activity)
    assert again.status == 201
    cards = [a for a in fake_connector.activities(ADA_DM) if a.get("attachments")]
    assert len(cards) == 1, "sent once, by the outbox; the redelivery was a duplicate"


async def test_a_button_that_answers_with_an_error_does_not_say_done(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = execute(personal(fake_connector), "no.such.button", {"action_id": "no.such.button"})
    response = await client.post("/api/messages", json=activity)
    assert response.status == 200
    toast = (await response.json())["value"]
    assert toast != "Done." and "no longer available" in toast


MALFORMED_MENTIONS: dict[str, list[Any]] = {
    "mentioned is text": [{"type": "mention", "mentioned": "28:bot", "text": "<at>Slotbot</at>"}],
    "no mentioned": [{"type": "mention", "text": "<at>Slotbot</at>"}],
    "mentioned without id": [{"type": "mention", "mentioned": {}, "text": "<at>Slotbot</at>"}],
    "no text": [{"type": "mention", "mentioned": {"id": "28:x"}}],
    "text is a number": [{"type": "mention", "mentioned": {"id": "28:x"}, "text": 5}],
    "tag a regex cannot read": [
        {"type": "mention", "mentioned": {"id": BOT_ID}, "text": "<at>Test (*.[]$%#^&?)</at>"}
    ],
}


@pytest.mark.parametrize("case", list(MALFORMED_MENTIONS))
async def test_a_message_with_a_malformed_mention_is_answered(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, case: str
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = message(personal(fake_connector), "<at>Test (*.[]$%#^&?)</at> help")
    activity["entities"] = MALFORMED_MENTIONS[case]
    response = await client.post("/api/messages", json=activity)
    assert response.status == 201, case
    [reply] = fake_connector.activities(ADA_DM)
    assert reply["attachments"], "the member got an answer"


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("conversation id", ("conversation", "id")),
        ("sender id", ("from", "id")),
        ("sender object id", ("from", "aadObjectId")),
        ("activity id", ("id",)),
        ("tenant id", ("channelData", "tenant", "id")),
    ],
)
async def test_an_id_of_absurd_length_is_400(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, field: str, path: tuple[str]
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = json.loads(json.dumps(message(personal(fake_connector), "help")))
    where = activity
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = "a:" + "x" * 20_000
    if path[0] == "channelData":
        del activity["conversation"]["tenantId"]
    response = await client.post("/api/messages", json=activity)
    assert response.status == 400, field
    assert "too long" in (await response.json())["error"]
    assert not fake_connector.requests


@pytest.mark.parametrize(
    ("field", "path", "value"),
    [
        ("conversation id, a plane-16 character", ("conversation", "id"), "a:\U00086833x"),
        ("conversation id, a letter with an accent", ("conversation", "id"), "a:personal-ü"),
        ("conversation id, a line break", ("conversation", "id"), "a:one\ntwo"),
        ("sender id", ("from", "id"), "29:ada\u2028"),
    ],
)
async def test_an_id_that_is_not_printable_ascii_is_400(
    aiohttp_client: Any,
    store: Store,
    fake_connector: FakeConnector,
    field: str,
    path: tuple[str, str],
    value: str,
) -> None:
    """Such an id would go back in the reply's x-ms-conversation-id header and fail there."""
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = json.loads(json.dumps(message(personal(fake_connector), "help")))
    activity[path[0]][path[1]] = value
    response = await client.post("/api/messages", json=activity)
    assert response.status == 400, field
    assert "printable ASCII" in (await response.json())["error"]
    assert not fake_connector.requests


UNHANDLED_INVOKES = {
    "task/fetch": {"task": {"type": "message"}},
    "task/submit": {"task": {"type": "message"}},
    "composeExtension/query": {"composeExtension": {"type": "message"}},
    "composeExtension/fetchTask": {"composeExtension": {"type": "message"}},
    "config/fetch": {"responseType": "config"},
    "tab/fetch": None,
    "fileConsent/invoke": None,
    "signin/verifyState": None,
    "signin/tokenExchange": None,
    "actionableMessage/executeAction": None,
    "no.such.invoke": None,
}


@pytest.mark.parametrize("name", list(UNHANDLED_INVOKES))
async def test_an_invoke_slotbot_does_not_handle_is_answered_not_failed(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, name: str
) -> None:
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = dict(personal(fake_connector), type="invoke", name=name, id=f"i-{name}", value={})
    response = await client.post("/api/messages", json=activity)
    assert response.status == 200, name
    expected = UNHANDLED_INVOKES[name]
    if expected is None:
        assert await response.read() == b""
    else:
        body = await response.json()
        for key, part in expected.items():
            assert (
                body[key] == part
                if not isinstance(part, dict)
                else part.items() <= body[key].items()
            )
        assert "doesn't offer that" in json.dumps(body)
    assert not fake_connector.calls(lambda r: r.path.startswith("/v3/"))
