"""The deployment's topology as processes: two `python -m bot serve` and two `python -m bot
worker` on one redis-server (compose.yaml, deploy/kubernetes/). Callbacks are spread over both
servers while Slack answers slowly, one worker is killed with SIGKILL in the middle of the
run, and every alert is still posted exactly once."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from bot.secrets import SecretBox, generate_key
from bot.store.redis import RedisStore
from tests.adapters.slack.support import SIGNING_SECRET, all_text
from tests.bot.alerts.pipeline import CHANNEL, CLIENT_SECRET, PUSH_URL, seed
from tests.fakes.slack import FakeSlack
from tests.faults.test_kill9 import BOT_TOKEN, callback, candidate, named, posted
from tests.support.redis_server import RedisServer
from tests.support.secret_watch import register_secret
from tests.support.served_bot import ServedBot, post_callbacks, until

pytestmark = [pytest.mark.redis, pytest.mark.slow]

CALLBACKS = 240
REDIS_DB = 10
SLACK_DELAY = 0.05  # each post takes a while: workers are mid-send most of the time
KILL_AFTER = CALLBACKS // 4  # posts seen before one worker is killed
DELIVERY_WAIT = 90.0


@pytest.fixture
async def shared_redis(redis_server: RedisServer) -> AsyncIterator[tuple[str, RedisStore]]:
    if not redis_server.managed:
        pytest.skip("needs a redis-server these tests own (REDIS_URL is set)")
    url = redis_server.url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    flush = redis.Redis.from_url(url)
    flush.flushdb()
    store = RedisStore(url)
    await store.open()
    try:
        yield url, store
    finally:
        await store.close()
        flush.flushdb()
        flush.close()


async def test_two_servers_and_two_workers_deliver_each_alert_once_when_a_worker_dies(
    tmp_path: Path, fake_slack: FakeSlack, shared_redis: tuple[str, RedisStore]
) -> None:
    url, store = shared_redis
    key = generate_key()
    register_secret("BOT_SECRET_KEYS", key)
    register_secret("Slack bot token", BOT_TOKEN)
    await seed(store, SecretBox([key]))
    env = {
        "BOT_STORE_URL": url,
        "BOT_SECRET_KEYS": key,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake_slack.api_url,
        "OUTBOX_VISIBILITY_TIMEOUT": "2",
    }
    servers = [ServedBot(tmp_path, env, name=f"serve{i}") for i in (1, 2)]
    workers = [ServedBot(tmp_path, env, command="worker", name=f"worker{i}") for i in (1, 2)]
    fake_slack.slow("chat.postMessage", SLACK_DELAY)
    try:
        for process in (*servers, *workers):
            process.start()
        bodies = [callback(i) for i in range(CALLBACKS)]
        halves = [bodies[0::2], bodies[1::2]]
        sending = asyncio.gather(
            *(
                post_callbacks(server.url + PUSH_URL, CLIENT_SECRET, half)
                for server, half in zip(servers, halves, strict=True)
            )
        )

        async def some_posted() -> bool:
            return sum(posted(r) for r in fake_slack.requests) >= KILL_AFTER

        await until(some_posted, DELIVERY_WAIT, f"{KILL_AFTER} posts before the kill")
        workers[0].kill9()
        statuses = [status for half in await sending for status in half]
        assert collections.Counter(statuses) == {200: CALLBACKS}

        async def all_posted() -> bool:
            return sum(posted(r) for r in fake_slack.requests) >= CALLBACKS

        async def drained() -> bool:
            return await store.outbox_depth() == 0

        await until(all_posted, DELIVERY_WAIT, f"{CALLBACKS} posts at the fake Slack")
        await until(drained, DELIVERY_WAIT, "the outbox to drain")
        await asyncio.sleep(3)  # past the visibility timeout: a late duplicate would show
    finally:
        for process in (*servers, *workers):
            process.ensure_stopped()

    posts = [r for r in fake_slack.requests if posted(r)]
    per_candidate = collections.Counter(named(all_text(r.args)) for r in posts)
    assert per_candidate == {candidate(i): 1 for i in range(CALLBACKS)}
    assert {r.args.get("channel") for r in posts} == {CHANNEL}
    assert await store.list_dead_letters() == []
    for process in (*servers, *workers):
        assert "Traceback" not in process.output()
