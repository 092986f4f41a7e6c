"""`/cronofy webhook` over Slack's HTTP: the signing secret is shown once, only to the admin
who added it (an ephemeral answer), and a URL Slotbot may not post to is refused in words."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.runtime import SERVICES
from bot.store.base import Store
from tests.adapters.slack.support import ORG, all_text, make_app, slack_settings, slash
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.support.secret_watch import register_secret
from tests.support.webhook_receiver import FakeDNS

URL = "https://hooks.example.com/slotbot"


@pytest.fixture
async def client(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> Any:
    fake_slack.add_user("UBOSS", is_admin=True)
    fake_slack.add_user("UMEMBER", is_admin=False)
    app = make_app(slack_settings(fake_slack, cronofy_url=fake_cronofy.url), store)
    app[SERVICES].resolve_host = FakeDNS(
        {"hooks.example.com": ["93.184.216.34"], "intranet.example.com": ["192.168.7.7"]}
    )
    return await aiohttp_client(app)


async def _answer(client: Any, fake_slack: FakeSlack, text: str, user: str = "UBOSS") -> Any:
    command = await slash(client, fake_slack, text, command="/cronofy", user=user)
    [answer] = await command.answers()
    return answer


async def test_add_shows_the_secret_once_privately_then_lists_without_it(
    client: Any, fake_slack: FakeSlack, store: Store
) -> None:
    added = await _answer(client, fake_slack, f"webhook add {URL}")
    assert added["response_type"] == "ephemeral"
    text = all_text(added)
    assert "Webhook added" in text and URL in text
    [secret] = re.findall(r"whsec_[A-Za-z0-9_-]+", text)
    register_secret("webhook signing secret", secret)

    listed = await _answer(client, fake_slack, "webhook list")
    assert listed["response_type"] == "ephemeral"
    assert URL in all_text(listed) and secret not in all_text(listed)
    org = await store.get_org(ORG)
    assert org is not None and [h.url for h in org.webhooks] == [URL]


async def test_refusals_and_members(client: Any, fake_slack: FakeSlack, store: Store) -> None:
    plain = all_text(await _answer(client, fake_slack, "webhook add http://hooks.example.com/x"))
    assert "Webhook not added" in plain and "https://" in plain
    inside = all_text(
        await _answer(client, fake_slack, "webhook add https://intranet.example.com/x")
    )
    assert "private network" in inside and "192.168.7.7" in inside
    member = all_text(await _answer(client, fake_slack, f"webhook add {URL}", user="UMEMBER"))
    assert "Only Slotbot admins" in member
    org = await store.get_org(ORG)
    assert org is None or org.webhooks == []
