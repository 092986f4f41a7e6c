"""The Slack Web API answers 429 or 500 to every post for a while: every alert accepted
meanwhile is posted once the outage ends, exactly once, and in the order the callbacks
arrived, per conversation (the worker sends nothing to a conversation while an older job for
it is waiting to be tried again: bot/outbox/worker.py, "Order per conversation").

The outage lasts until Slack has refused a set number of posts (about two seconds here)
rather than the 30 s of a real incident: what is tested is that nothing is dropped or doubled
across failed attempts and backoff, which a short outage exercises as well as a long one (jobs
still fail and back off, several times over), at a tenth of the cost; and an outage ended by a
count, not a clock, cannot make the test depend on how fast the machine is.
"""

from __future__ import annotations

import collections
import dataclasses
import re
from typing import Any

import pytest

from bot.outbox.lifecycle import OUTBOX
from bot.runtime import SERVICES
from bot.store.base import Store
from bot.store.records import AlertRoute
from tests.adapters.slack.support import all_text, make_app, slack_settings
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CHANNEL, ORG_ID, PUSH_URL, encode, seed, sign
from tests.fakes.base import Recorded
from tests.fakes.slack import FakeSlack
from tests.support.served_bot import until

# posts Slack refuses before the outage ends: with 429 the SDK itself waits Retry-After (1 s)
# and tries twice more per send; with 500 the oldest job of each channel fails and backs off
# (the newer ones wait behind it), eight times over
REFUSALS = {429: 4, 500: 16}
CALLBACKS = 12
OTHER_CHANNEL = "C0SECOND"
WAIT = 60.0  # upper bound for the outage and the delivery after it, never a timing assertion


def candidate(index: int) -> str:
    return f"Candidate Q{index:02d}"


def named(record: Recorded) -> str:
    found = re.search(r"Candidate Q\d{2}", all_text(record.args))
    return found.group(0) if found else "(no candidate named)"


def posted(record: Recorded) -> bool:
    return (
        record.name == "chat.postMessage"
        and record.status == 200
        and isinstance(record.response, dict)
        and record.response.get("ok") is True
    )


async def outage_then_recovery(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, status: int
) -> dict[str, list[str]]:
    """Callbacks accepted during an outage of chat.postMessage; returns, per channel, the
    candidates in the order Slack accepted their alerts."""
    app = make_app(slack_settings(fake_slack), store, run_worker=True)
    app[OUTBOX].worker_options = {
        "poll_interval": 0.02,
        "base_delay": 0.2,
        "max_delay": 0.5,
        "max_attempts": 50,
    }
    org = await seed(store, app[SERVICES].secrets)
    routes = [*org.routes, AlertRoute(conversation_id=OTHER_CHANNEL, name="second")]
    await store.put_org(dataclasses.replace(org, routes=routes))
    client = await aiohttp_client(app)

    fake_slack.fail_for("chat.postMessage", WAIT, status=status, retry_after=1)
    for index in range(CALLBACKS):
        body = encode(
            payloads.time_chosen(
                request_id=f"srq_outage_{index:02d}",
                correlation_id=None,
                email=f"q{index:02d}@example.com",
                name=candidate(index),
            )
        )
        response = await client.post(PUSH_URL, data=body, headers=sign(body))
        assert response.status == 200, await response.text()

    def refused(record: Recorded) -> bool:
        return record.name == "chat.postMessage" and record.status == status

    await fake_slack.wait_for(refused, REFUSALS[status], timeout=WAIT)
    during = fake_slack.requests
    fake_slack.reset()  # the outage ends

    async def all_posted() -> bool:
        return sum(posted(r) for r in during + fake_slack.requests) >= 2 * CALLBACKS

    await until(all_posted, WAIT, f"{2 * CALLBACKS} posts after the outage")
    order: dict[str, list[str]] = collections.defaultdict(list)
    for record in during + fake_slack.requests:
        if posted(record):
            order[str(record.args.get("channel"))].append(named(record))
    assert await store.list_dead_letters(ORG_ID) == []
    return order


@pytest.mark.parametrize("status", [429, 500])
async def test_alerts_are_posted_once_and_in_order_per_conversation_after_an_outage(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, status: int
) -> None:
    # both stores: the order rests on the store's claim_once lease and the lane documents
    order = await outage_then_recovery(aiohttp_client, store, fake_slack, status)
    arrival = [candidate(i) for i in range(CALLBACKS)]
    # each candidate's alert exactly once per channel, in the order the callbacks came
    assert order[CHANNEL] == arrival
    assert order[OTHER_CHANNEL] == arrival
