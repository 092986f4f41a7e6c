"""`kill -9` of `python -m bot serve` with a thousand accepted callbacks not yet delivered:
after a restart every alert is posted to Slack, and none twice.

The first process accepts every callback while the fake Slack answers 429 to every post, so
nothing is delivered and its worker is always in the middle of a claimed batch when it dies.
The second process starts with Slack healthy; the jobs the dead worker held come back after
OUTBOX_VISIBILITY_TIMEOUT (set short here, 60 s by default).
"""

from __future__ import annotations

import collections
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore
from tests.adapters.slack.support import SIGNING_SECRET, all_text
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CHANNEL, CLIENT_SECRET, PUSH_URL, encode, seed
from tests.fakes.base import Recorded
from tests.fakes.slack import FakeSlack
from tests.support.redis_server import RedisServer
from tests.support.secret_watch import register_secret
from tests.support.served_bot import ServedBot, post_callbacks, until

CALLBACKS = 1000
BOT_TOKEN = "xoxb-T0ALERTS-kill9-bot-token"
REDIS_DB = 9  # a database of its own: `python -m bot serve` uses the default key prefix
DELIVERY_WAIT = 90.0  # upper bound for the restarted process to post everything


def candidate(index: int) -> str:
    return f"Candidate K{index:04d}"


def callback(index: int) -> bytes:
    return encode(
        payloads.time_chosen(
            request_id=f"srq_kill9_{index:04d}",
            correlation_id=None,  # no tracked link: a channel alert only
            email=f"k{index:04d}@example.com",
            name=candidate(index),
            start=f"2027-03-{1 + index % 28:02d}T{9 + index % 8:02d}:00:00Z",
            end=f"2027-03-{1 + index % 28:02d}T{9 + index % 8:02d}:30:00Z",
        )
    )


def named(text: str) -> str:
    found = re.search(r"Candidate K\d{4}", text)
    return found.group(0) if found else "(no candidate named)"


def posted(record: Recorded) -> bool:
    """A chat.postMessage Slack accepted (so a message exists in the channel)."""
    return (
        record.name == "chat.postMessage"
        and record.status == 200
        and isinstance(record.response, dict)
        and record.response.get("ok") is True
    )


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def store_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, Store]]:
    """A store URL for `python -m bot serve` and the same store opened in the test."""
    if request.param == "sqlite":
        path = tmp_path / "data" / "slotbot.db"
        store: Store = SQLiteStore(str(path))
        url = f"sqlite:///{path}"
        flush = None
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        if not server.managed:
            pytest.skip("needs a redis-server these tests own (REDIS_URL is set)")
        url = server.url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
        flush = redis.Redis.from_url(url)
        flush.flushdb()
        store = RedisStore(url)
    await store.open()
    try:
        yield url, store
    finally:
        await store.close()
        if flush is not None:
            flush.flushdb()
            flush.close()


async def test_kill_9_with_a_thousand_undelivered_callbacks_then_restart_delivers_each_once(
    tmp_path: Path, fake_slack: FakeSlack, store_url: tuple[str, Store]
) -> None:
    url, store = store_url
    key = generate_key()
    register_secret("BOT_SECRET_KEYS", key)
    register_secret("Slack bot token", BOT_TOKEN)
    await seed(store, SecretBox([key]))
    bot = ServedBot(
        tmp_path,
        {
            "BOT_STORE_URL": url,
            "BOT_SECRET_KEYS": key,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": fake_slack.api_url,
            "OUTBOX_VISIBILITY_TIMEOUT": "3",
        },
    )
    # Slack refuses every post: the first process accepts callbacks and delivers nothing
    fake_slack.fail_for("chat.postMessage", 3600, status=429, retry_after=1)
    try:
        bot.start()
        statuses = await post_callbacks(
            bot.url + PUSH_URL, CLIENT_SECRET, [callback(i) for i in range(CALLBACKS)]
        )
        assert collections.Counter(statuses) == {200: CALLBACKS}
        # its worker is trying (and holding claimed jobs) when it dies
        await fake_slack.wait_for("chat.postMessage", 1, timeout=30)
        bot.kill9()
        assert [r for r in fake_slack.requests if posted(r)] == []
        assert await store.outbox_depth() == CALLBACKS

        fake_slack.reset()  # Slack is healthy again
        bot.start()

        async def all_posted() -> bool:
            return sum(posted(r) for r in fake_slack.requests) >= CALLBACKS

        await until(all_posted, DELIVERY_WAIT, f"{CALLBACKS} posts at the fake Slack")

        async def drained() -> bool:
            return await store.outbox_depth() == 0

        await until(drained, DELIVERY_WAIT, "the outbox to drain")
        assert bot.stop() == 0
    finally:
        bot.ensure_stopped()

    posts = [r for r in fake_slack.requests if posted(r)]
    per_candidate = collections.Counter(named(all_text(r.args)) for r in posts)
    assert per_candidate == {candidate(i): 1 for i in range(CALLBACKS)}
    assert {r.args.get("channel") for r in posts} == {CHANNEL}
    assert await store.list_dead_letters() == []
    assert "Traceback" not in bot.output(1) + bot.output(2)
