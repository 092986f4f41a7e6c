"""Reminders survive `kill -9`: of `python -m bot serve` between the booking and the
reminder's time, and (on Redis) of redis-server too; the restarted process sends each
interviewer's reminder once, at its time.

Real processes keep real time, so the interview is booked to start a little over the
default 15 minutes ahead: its reminders are due a few seconds later, after the kills.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import Member
from bot.timers import feedback_key, reminder_key
from tests.adapters.slack.support import SIGNING_SECRET, all_text
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CLIENT_SECRET, ORG_ID, PUSH_URL, RECRUITER, encode, seed
from tests.fakes.slack import FakeSlack
from tests.faults.test_kill9 import posted, store_url
from tests.support.redis_server import RedisServer
from tests.support.secret_watch import register_secret
from tests.support.served_bot import ServedBot, post_callbacks, until

__all__ = ["store_url"]  # the fixture, shared with the kill -9 alerts test

BOT_TOKEN = "xoxb-T0ALERTS-reminders-bot-token"
PANEL = "UPANEL01"
PANEL_IDS = (RECRUITER, PANEL)
BOOKING = "srq_80f7fece4f37897d62d86d80"
LEAD = 8.0  # seconds between the booking and its reminders' time: the kills happen in it
WAIT = 60.0  # upper bound for the restarted process, never a timing assertion


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reminders(fake_slack: FakeSlack, user: str) -> int:
    dm = "D" + user[1:]
    return sum(
        1
        for r in fake_slack.requests
        if posted(r) and r.args.get("channel") == dm and "Interview in" in all_text(r.args)
    )


async def test_reminders_survive_kill_9_of_serve_and_of_redis(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake_slack: FakeSlack,
    store_url: tuple[str, Store],
) -> None:
    url, store = store_url
    key = generate_key()
    register_secret("BOT_SECRET_KEYS", key)
    register_secret("Slack bot token", BOT_TOKEN)
    await seed(store, SecretBox([key]))
    await store.put_member(Member(ORG_ID, RECRUITER, display_name="Rita", connected=True))
    await store.put_member(Member(ORG_ID, PANEL, email="panel@example.com", connected=True))
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
    start = float(int(time.time() + 15 * 60 + LEAD))
    callback = payloads.time_chosen(start=iso(start), end=iso(start + 1800))
    callback["scheduling_request"]["recipients"].append(
        {"email": "panel@example.com", "display_name": "Panel"}
    )
    try:
        bot.start()
        [status] = await post_callbacks(bot.url + PUSH_URL, CLIENT_SECRET, [encode(callback)])
        assert status == 200
        for user in (RECRUITER, PANEL):
            timer = await store.get_timer(reminder_key(ORG_ID, BOOKING, user))
            assert timer is not None and timer.not_before == start - 15 * 60
        bot.kill9()
        if "redis" in url:
            server: RedisServer = request.getfixturevalue("redis_server")
            server.kill()  # what survives is what the append-only file holds
            server.start()
        assert reminders(fake_slack, RECRUITER) == reminders(fake_slack, PANEL) == 0
        bot.start()

        async def both_reminded() -> bool:
            return reminders(fake_slack, RECRUITER) >= 1 and reminders(fake_slack, PANEL) >= 1

        await until(both_reminded, WAIT, "a reminder to the recruiter and to the panel member")
        assert time.time() >= start - 15 * 60, "not before its time"

        async def drained() -> bool:
            # all that is left are the notes asked for after the interview, due much later
            later = [await store.get_timer(feedback_key(ORG_ID, BOOKING, u)) for u in PANEL_IDS]
            return await store.outbox_depth() == sum(job is not None for job in later) == 2

        await until(drained, WAIT, "the outbox to drain of all but the later timers")
        await asyncio.sleep(0.5)  # anything sent twice would have been sent by now
        assert bot.stop() == 0
    finally:
        bot.ensure_stopped()
    assert reminders(fake_slack, RECRUITER) == reminders(fake_slack, PANEL) == 1
    assert await store.list_dead_letters() == []
    assert "Traceback" not in bot.output(1) + bot.output(2)
