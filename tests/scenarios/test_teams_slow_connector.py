"""A Bot Connector that is slow or down never holds a Teams turn past its deadline.

Teams waits ~15 s for a bot to answer an activity. Each turn's outbound calls run on Teams'
own threads, with no hidden retries, within the turn's deadline; what cannot be sent by then
waits in the outbox (a notice job) and goes out once the connector answers again. Work on the
event loop's default executor (DNS lookups, Cronofy calls) is never queued behind them.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

import adapters.teams.http as teams_http
from bot.store.base import Store
from tests.adapters.teams.support import dev_settings, make_app, message, personal
from tests.fakes.botframework import FakeConnector

DEADLINE = 2.0
# the deadline, the give-up margin of a call, and the slack of a loaded 2-core machine
ANSWERED_WITHIN = DEADLINE + 1.5


def sends(record: Any) -> bool:
    return record.name in ("send_to_conversation", "reply_to_activity")


@pytest.fixture(autouse=True)
def short_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(teams_http, "TURN_DEADLINE_SECONDS", DEADLINE)


async def timed(coro: Any) -> tuple[Any, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await coro
    return result, loop.time() - started


async def post_status(client: Any, activity: dict[str, Any]) -> int:
    response = await client.post("/api/messages", json=activity)
    return int(response.status)


async def test_a_slow_connector_gets_the_reply_later_and_the_turn_its_answer_in_time(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    fake_connector.slow(sends, 30)
    client = await aiohttp_client(make_app(dev_settings(), store, run_worker=True))
    activity = message(personal(fake_connector), "help")
    status, took = await timed(asyncio.wait_for(post_status(client, activity), 10))
    assert status == 201
    assert took < ANSWERED_WITHIN, took
    fake_connector.reset()  # the connector answers again
    [sent] = await fake_connector.wait_for(lambda r: sends(r) and r.status == 200, timeout=15)
    assert sent.json["attachments"], "the help card, sent by the outbox"
    assert await post_status(client, activity) == 201, "a redelivery changes nothing"
    await asyncio.sleep(1.0)
    assert len([r for r in fake_connector.calls(sends) if r.status == 200]) == 1


async def test_a_connector_that_refuses_connections_is_not_retried_past_the_deadline(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    client = await aiohttp_client(make_app(dev_settings(), store))
    activity = dict(message(personal(fake_connector), "help"), serviceUrl=dead_url)
    status, took = await timed(asyncio.wait_for(post_status(client, activity), 20))
    assert status == 201
    assert took < ANSWERED_WITHIN, took
    assert await store.outbox_depth() == 1, "the reply waits in the outbox"


async def test_a_burst_of_turns_against_a_slow_connector_all_answer_in_time(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    fake_connector.slow(sends, 30)
    client = await aiohttp_client(make_app(dev_settings(), store))
    loop = asyncio.get_running_loop()

    async def lookup_meanwhile() -> tuple[Any, float]:
        await asyncio.sleep(0.5)  # the turns are waiting on the connector by now
        return await timed(loop.run_in_executor(None, socket.getaddrinfo, "localhost", 80))

    turns = [
        timed(asyncio.wait_for(post_status(client, message(personal(fake_connector), "help")), 20))
        for _ in range(30)
    ]
    *answered, lookup = await asyncio.gather(*turns, lookup_meanwhile())
    assert [status for status, _ in answered] == [201] * 30
    assert max(took for _, took in answered) < ANSWERED_WITHIN + 1.0
    assert lookup[1] < 1.0, "a DNS lookup on the default executor was not held up"
    assert await store.outbox_depth() == 30, "every reply waits in the outbox"
