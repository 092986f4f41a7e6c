"""Who is a Slotbot admin on Slack: workspace admins as Slack says (remembered briefly, and
forgotten the moment Slack tells of a change), and the first member to set Slotbot up."""

from __future__ import annotations

from typing import Any

import pytest

from bot.outbox.worker import OutboxWorker
from bot.runtime import SERVICES
from bot.store.base import Store
from tests.adapters.slack.support import (
    FORM,
    ORG,
    all_text,
    event_body,
    interactive_body,
    make_app,
    post_signed,
    slack_settings,
    slash,
)
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_slack_commands import setup_submission


@pytest.fixture
async def client(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> Any:
    fake_slack.add_user("UBOSS", is_admin=True)
    settings = slack_settings(fake_slack, cronofy_url=fake_cronofy.url)
    return await aiohttp_client(make_app(settings, store))


async def _alerts_answer(client: Any, fake_slack: FakeSlack, hook: str) -> str:
    """What `/cronofy alerts` (admins only) answers UBOSS."""
    command = await slash(client, fake_slack, "alerts", command="/cronofy", user="UBOSS", hook=hook)
    [answer] = await command.answers()
    return all_text(answer)


async def test_a_demoted_workspace_admin_loses_slotbot_admin_rights_at_once(
    client: Any, fake_slack: FakeSlack
) -> None:
    assert "Only Slotbot admins" not in await _alerts_answer(client, fake_slack, "before")
    # Slack demotes UBOSS; within the five minutes Slotbot remembers rights, Slack says so
    fake_slack.add_user("UBOSS", is_admin=False)
    demoted = {
        "type": "user_change",
        "user": {"id": "UBOSS", "team_id": "T1", "is_admin": False, "is_owner": False},
        "event_ts": "1700000000.000100",
    }
    response = await post_signed(
        client, event_body(demoted, event_id="EvDemoted"), "application/json"
    )
    assert response.status == 200
    assert "Only Slotbot admins" in await _alerts_answer(client, fake_slack, "after")


async def test_user_change_events_write_nothing_to_the_store(
    client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    """Every profile change in a workspace is a user_change event: they take no dedupe
    claims (forgetting cached rights twice changes nothing)."""
    before = await store.count_records()
    for n in range(20):
        changed = {"type": "user_change", "user": {"id": f"U{n}", "team_id": "T1"}}
        response = await post_signed(
            client, event_body(changed, event_id=f"EvChange{n}"), "application/json"
        )
        assert response.status == 200
    assert await store.count_records() == before


@pytest.mark.parametrize("asked_in", ["C1", "DADMIN"])
async def test_the_first_admins_setup_is_said_where_it_was_asked(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy, asked_in: str
) -> None:
    """Whoever completes setup first becomes the only admin: the channel it was typed in
    hears it (a DM with Slotbot has no one else to tell), and the audit log says so."""
    submission = setup_submission(
        fake_cronofy.client_id, fake_cronofy.client_secret, user="UFIRST", channel=asked_in
    )
    answer = await post_signed(client, interactive_body(submission), FORM)
    assert answer.status == 200
    org = await store.get_org(ORG)
    assert org is not None and org.admins == ["UFIRST"]
    assert "admins.first" in [a.action for a in await store.list_audit(ORG)]
    worker = OutboxWorker(client.server.app[SERVICES], consumer="test")
    await worker.run_once()
    said = [m for m in fake_slack.messages() if "is its admin" in all_text(m)]
    if asked_in == "C1":
        [note] = said
        assert note["answered_channel"] == "C1"
        assert "ufirst set up Slotbot and is its admin" in all_text(note)
    else:
        assert said == []
