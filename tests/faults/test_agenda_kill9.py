"""`kill -9` of `python -m bot serve` while its worker holds a member's agenda: after a
restart the agenda DM is posted once, and the next morning's timer is set.

The first process finds the agenda due while the fake Slack answers 429 to every post, so its
worker is trying (holding the claimed timer) when it dies; the second starts with Slack
healthy and gets the timer back after OUTBOX_VISIBILITY_TIMEOUT (short here).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from bot.chat import DeliveryTarget
from bot.outbox.kinds import agenda
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import Booking
from bot.timers import agenda_key
from tests.adapters.slack.support import SIGNING_SECRET, all_text
from tests.bot.alerts.pipeline import CANDIDATE_ID, ORG_ID, RECRUITER, seed
from tests.fakes.slack import FakeSlack
from tests.faults.test_kill9 import posted, store_url  # noqa: F401 - a fixture
from tests.support.secret_watch import register_secret
from tests.support.served_bot import ServedBot, until

BOT_TOKEN = "xoxb-T0ALERTS-agenda-kill9-token"
WAIT = 60.0  # upper bound for the restarted process, never a timing assertion
KEY = agenda_key(ORG_ID, RECRUITER)


async def test_kill_9_while_sending_an_agenda_then_restart_sends_it_once_and_sets_the_next(
    tmp_path: Path,
    fake_slack: FakeSlack,
    store_url: tuple[str, Store],  # noqa: F811 - the fixture imported above
) -> None:
    url, store = store_url
    key = generate_key()
    register_secret("BOT_SECRET_KEYS", key)
    register_secret("Slack bot token", BOT_TOKEN)
    await seed(store, SecretBox([key]))
    member = await store.get_member(ORG_ID, RECRUITER)
    assert member is not None
    member.agenda_at, member.chat_zone = "08:30", "UTC"
    await store.put_member(member)
    # the served process keeps real time: the agenda is due now, for the day of now
    now = time.time()
    day = datetime.fromtimestamp(now, UTC)
    await store.put_booking(
        Booking(
            ORG_ID,
            "b-kill9",
            candidate_id=CANDIDATE_ID,
            recruiter_id=RECRUITER,
            start=day.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    )
    target = DeliveryTarget("slack", ORG_ID, "dm", user_id=RECRUITER)
    payload = agenda.Agenda(target, day.date(), "UTC")
    await store.enqueue([agenda.KIND.timer(ORG_ID, payload, key=KEY, due=now, now=now)])

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
    fake_slack.fail_for("chat.postMessage", 3600, status=429, retry_after=1)
    try:
        bot.start()
        await fake_slack.wait_for("chat.postMessage", 1, timeout=30)
        bot.kill9()  # mid-try: the timer is claimed by a worker that no longer exists
        assert [r for r in fake_slack.requests if posted(r)] == []

        fake_slack.reset()
        bot.start()

        async def next_morning_set() -> bool:
            timer = await store.get_timer(KEY)
            return timer is not None and timer.not_before > now + 60

        await until(next_morning_set, WAIT, "the next morning's agenda timer")
        assert bot.stop() == 0
    finally:
        bot.ensure_stopped()

    posts = [r for r in fake_slack.requests if posted(r)]
    assert len(posts) == 1 and "Dr Emmet Brown" in all_text(posts[0].args)
    timer = await store.get_timer(KEY)
    assert timer is not None
    assert datetime.fromtimestamp(timer.not_before, UTC).strftime("%H:%M") == "08:30"
    assert await store.list_dead_letters() == []
    assert "Traceback" not in bot.output(1) + bot.output(2)
