"""Erasing a candidate on Teams, on both stores: the admin's command answers a card with an
Erase button in their 1:1 chat and erases nothing; Erase erases, and the channel alert posted
about the candidate is updated in place to "(removed)" through the Bot Framework connector."""

from __future__ import annotations

from typing import Any

from bot.store.base import Store
from cards import actions
from cards.privacy import REMOVED
from tests.adapters.teams.support import (
    CHANNEL_ID,
    adaptive_cards,
    card_text,
    message,
    personal,
    submit,
)
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy
from tests.scenarios.test_teams_alerts import (
    ORG,
    WAIT,
    client,
    outbox_drained,
    prepared,
    push,
    to_channel,
)
from tests.scenarios.test_teams_commands import ADA_DM, post

__all__ = ["client"]  # the fixture


def erase_data(card: dict[str, Any]) -> dict[str, Any]:
    found = card.get("actions", []) + [x for b in card["body"] for x in b.get("actions", [])]
    for action in found:
        data = action.get("data")
        if isinstance(data, dict) and data.get("action_id") == actions.ERASE_CONFIRM:
            return dict(data)
    raise AssertionError(card)


async def test_erase_on_teams_asks_then_updates_the_channel_alert(
    client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, fake_connector, fake_cronofy)
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)
    await fake_connector.wait_for(lambda r: to_channel(r) and r.status == 200, timeout=WAIT)
    await outbox_drained(store)

    before = len(fake_connector.activities(ADA_DM))
    await post(client, message(personal(fake_connector), "cronofy candidate erase eb@example.com"))
    [asked] = [c for a in fake_connector.activities(ADA_DM)[before:] for c in adaptive_cards(a)]
    assert "eb@example.com" in card_text(asked)
    assert await store.find_candidate_by_email(ORG, "eb@example.com") is not None

    updates_before = len(fake_connector.updates())
    await post(client, submit(personal(fake_connector), erase_data(asked)))
    await outbox_drained(store)
    assert await store.find_candidate_by_email(ORG, "eb@example.com") is None
    since = fake_connector.updates()[updates_before:]
    # the channel alert and the recruiter's 1:1 alert, each updated in place
    assert {u["_conversation_id"] for u in since} >= {CHANNEL_ID, ADA_DM}
    updated = [card_text(c) for u in since for c in adaptive_cards(u)]
    assert updated and all(REMOVED in text for text in updated), updated
    assert not any("Emmet" in text for text in updated)
