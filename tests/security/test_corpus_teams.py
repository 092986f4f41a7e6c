"""Every Teams body of the SDK corpus (tests/fixtures/corpus), replayed against the app with a
valid token: never a 5xx, every invoke answered (2xx) whether Slotbot handles it or not, and
in fact no body refused at all.

The bodies come from botbuilder-python's own tests, so their envelopes are partial and point
nowhere: each is rewritten to one tenant and to the fake connector's service URL, with the
missing sender, recipient and conversation filled in, and what the body says otherwise kept.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot import logs
from bot.store.base import Store
from tests.adapters.teams import support as teams
from tests.fakes.botframework import FakeConnector

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus" / "peer-payloads.json"

_ids = itertools.count(1)


def teams_bodies() -> list[tuple[str, dict[str, Any]]]:
    entries = json.loads(CORPUS.read_text(encoding="utf-8"))
    return [
        (f"{n}:{entry['kind']}", entry["body"])
        for n, entry in enumerate(entries)
        if entry["platform"] == "teams"
    ]


def rewritten(body: dict[str, Any], fake: FakeConnector) -> dict[str, Any]:
    """The body as Teams would send it to this Slotbot: one tenant, the fake's service URL,
    the bot as recipient; every field the SDK test set is kept."""
    activity = copy.deepcopy(body)
    activity["channelId"] = "msteams"
    activity["serviceUrl"] = fake.service_url
    activity.setdefault("id", f"corpus-{next(_ids)}")
    sender = activity.get("from")
    if not isinstance(sender, dict) or not sender.get("id"):
        activity["from"] = dict(teams.ADA, **(sender if isinstance(sender, dict) else {}))
        activity["from"]["id"] = teams.ADA["id"]
    recipient = activity.get("recipient")
    old_bot = recipient.get("id") if isinstance(recipient, dict) else None
    activity["recipient"] = dict(teams.BOT)
    for entity in activity.get("entities") or []:
        mentioned = entity.get("mentioned") if isinstance(entity, dict) else None
        if isinstance(mentioned, dict) and old_bot and mentioned.get("id") == old_bot:
            mentioned["id"] = teams.BOT["id"]
    conversation = activity.get("conversation")
    if not isinstance(conversation, dict) or not conversation.get("id"):
        conversation = dict(
            conversation if isinstance(conversation, dict) else {},
            id=f"a:corpus-{activity['from']['id']}",
        )
    for key in {"tenantId", *(k for k in ("tenantID",) if k in conversation)}:
        conversation[key] = teams.TENANT  # Teams spells it either way; one tenant throughout
    activity["conversation"] = conversation
    data = activity.get("channelData")
    data = dict(data) if isinstance(data, dict) else {}
    data["tenant"] = {"id": teams.TENANT}
    activity["channelData"] = data
    return activity


BODIES = teams_bodies()
INVOKES = [(name, body) for name, body in BODIES if body.get("type") == "invoke"]


def test_the_corpus_is_the_shared_one_with_its_teams_invokes() -> None:
    assert len(BODIES) == 120
    names = {body.get("name") for _, body in INVOKES}
    for family in ("composeExtension/", "task/", "tab/", "config/", "fileConsent/", "signin/"):
        assert any(str(name).startswith(family) for name in names), family
    assert len(INVOKES) == 28


async def test_every_teams_body_of_the_corpus_is_answered_without_a_5xx(
    aiohttp_client: Any,
    store: Store,
    fake_connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    fake_connector.add_app(teams.APP_ID, teams.APP_PASSWORD)
    app = teams.make_app(
        teams.auth_settings(), store, endpoints=teams.fake_endpoints(fake_connector)
    )
    client = await aiohttp_client(app)
    headers = {"Authorization": f"Bearer {fake_connector.make_token(teams.APP_ID)}"}
    answers: dict[str, int] = {}
    for name, body in BODIES:
        activity = rewritten(body, fake_connector)
        response = await client.post("/api/messages", json=activity, headers=headers)
        answers[name] = response.status
        assert response.status < 500, (name, response.status, await response.text())
        if activity["type"] == "invoke":
            assert 200 <= response.status < 300, (name, response.status, await response.text())
    # rewritten to this Slotbot, every body is one Teams could send it: none is refused
    assert {name: status for name, status in answers.items() if status >= 300} == {}
    prefix = logs.UNHANDLED.split("%", 1)[0]
    assert not [r for r in caplog.records if r.getMessage().startswith(prefix)]
