"""Every Slack body of the SDK corpus (tests/fixtures/corpus), replayed against the app the
way Slack sends it — rewritten to one workspace and signed with the signing secret — and
never a 5xx: in fact every one answered 200. What Slotbot listens to is handled; what no
listener takes (events, shortcuts and commands its manifest does not ask for) is
acknowledged, a command Slotbot does not have saying so; Enterprise Grid bodies whose team
is null are handled for the workspace they name; org-level uninstalls and revocations (an
enterprise id, no workspace) are acted on or logged, never dropped silently.

The bodies come from bolt-python's own tests, so their ids, URLs and timestamps point at those
tests: team ids become T1 (enterprise ids E1), each event gets an event id of its own (so
Slotbot's dedupe does not take two SDK tests' "Ev111" for one event), response URLs point at
the fake Slack, and what the body says otherwise is kept.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot import logs
from bot.store.base import Store
from bot.store.records import Org
from tests.adapters.slack.support import FORM, make_app, signed_headers, slack_settings
from tests.fakes.slack import FakeSlack

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus" / "peer-payloads.json"
JSON = "application/json"
TEAM = "T1"
ENTERPRISE = "E1"
# keys whose text value is a workspace id, wherever they sit in a body
_TEAM_KEYS = frozenset(
    {"team_id", "context_team_id", "user_team", "source_team", "app_installed_team_id"}
)
_ENTERPRISE_KEYS = frozenset({"enterprise_id", "context_enterprise_id"})
SLOTBOTS = ("/schedule", "/cronofy")


def slack_entries() -> list[tuple[str, dict[str, Any]]]:
    entries = json.loads(CORPUS.read_text(encoding="utf-8"))
    return [
        (f"{n}:{entry['kind']}", entry)
        for n, entry in enumerate(entries)
        if entry["platform"] == "slack"
    ]


def _one_workspace(value: Any, fake: FakeSlack) -> Any:
    """Team ids to T1, enterprise ids to E1, response URLs to the fake; nothing else."""
    if isinstance(value, list):
        return [_one_workspace(item, fake) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _TEAM_KEYS and isinstance(item, str) and item:
            out[key] = TEAM
        elif key in _ENTERPRISE_KEYS and isinstance(item, str) and item:
            out[key] = ENTERPRISE
        elif key == "team" and isinstance(item, str) and item.startswith("T"):
            out[key] = TEAM
        elif key == "response_url" and isinstance(item, str):
            out[key] = fake.response_url()
        else:
            out[key] = _one_workspace(item, fake)
    if isinstance(out.get("team"), dict) and out["team"].get("id"):
        out["team"]["id"] = TEAM
    if isinstance(out.get("enterprise"), dict) and out["enterprise"].get("id"):
        out["enterprise"]["id"] = ENTERPRISE
    return out


def signed_request(
    number: int, entry: dict[str, Any], fake: FakeSlack
) -> tuple[str, str, dict[str, Any]]:
    """(body, content type, the body's data as rewritten) of one corpus entry."""
    raw = entry["body"]
    if entry["encoding"] == "form":
        fields = dict(parse_qsl(raw, keep_blank_values=True)) if isinstance(raw, str) else raw
        data = _one_workspace(copy.deepcopy(fields), fake)
        return urlencode({k: str(v) for k, v in data.items()}), FORM, data
    data = _one_workspace(copy.deepcopy(raw), fake)
    if data.get("type") == "event_callback":
        data["event_id"] = f"EvCorpus{number}"
    if entry["encoding"] == "payload":
        return urlencode({"payload": json.dumps(data)}), FORM, data
    return json.dumps(data), JSON, data


ENTRIES = slack_entries()


def test_the_corpus_is_the_shared_one_with_its_slack_shapes() -> None:
    assert len(ENTRIES) == 110
    kinds = {entry["kind"] for _, entry in ENTRIES}
    for kind in ("url_verification", "ssl_check", "slash_command", "block_actions"):
        assert kind in kinds
    grid_nulls = [e for _, e in ENTRIES if isinstance(e["body"], dict) and "team" in e["body"]]
    assert any(e["body"]["team"] is None for e in grid_nulls), "Grid payloads with team: null"
    org_level = [
        e
        for _, e in ENTRIES
        if e["kind"] in ("event:app_uninstalled", "event:tokens_revoked")
        and "team_id" not in e["body"]
    ]
    assert len(org_level) == 2


async def test_every_slack_body_of_the_corpus_is_answered_without_a_5xx(
    aiohttp_client: Any,
    store: Store,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    answers: dict[str, int] = {}
    now = int(time.time())
    for number, (name, entry) in enumerate(ENTRIES):
        body, content_type, data = signed_request(number, entry, fake_slack)
        # a second apart: two SDK tests' identical bodies are two deliveries, not a replay
        headers = signed_headers(body, content_type, ts=now - number)
        response = await client.post("/slack/events", data=body.encode(), headers=headers)
        answers[name] = response.status
        assert response.status < 500, (name, response.status, await response.text())
        command = data.get("command")
        if isinstance(command, str) and command not in SLOTBOTS and "ssl_check" not in data:
            answer = await response.json()
            assert f"Slotbot has no {command} command" in answer["text"], name
    prefix = logs.UNHANDLED.split("%", 1)[0]
    assert not [r for r in caplog.records if r.getMessage().startswith(prefix)]
    # the org-level uninstall and revocation were not dropped silently: Slotbot knows no
    # workspace of enterprise E1 (a single workspace outside Enterprise Grid), and says so
    said = [
        r.getMessage() for r in caplog.records if "for the whole of enterprise E1" in r.getMessage()
    ]
    assert len(said) == 2, said
    # rewritten to one workspace, every body is one Slack could send: none is refused
    assert {name: status for name, status in answers.items() if status != 200} == {}


async def test_org_level_uninstall_ends_the_workspace_of_that_enterprise(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    """The single workspace is in enterprise E1 (auth.test says so): the corpus's org-level
    app_uninstalled for E1 marks it uninstalled, as its own uninstall event would."""
    from tests.adapters.slack.support import BOT_TOKEN

    fake_slack.add_token(BOT_TOKEN, team_id=TEAM, enterprise_id=ENTERPRISE)
    await store.put_org(Org(org_id="slack:T1", platform="slack"))
    client = await aiohttp_client(make_app(slack_settings(fake_slack), store))
    [(number, entry)] = [
        (n, e)
        for n, (_, e) in enumerate(ENTRIES)
        if e["kind"] == "event:app_uninstalled" and "team_id" not in e["body"]
    ]
    body, content_type, _ = signed_request(number, entry, fake_slack)
    response = await client.post(
        "/slack/events", data=body.encode(), headers=signed_headers(body, content_type)
    )
    assert response.status == 200
    for _ in range(100):
        org = await store.get_org("slack:T1")
        if org is not None and not org.active:
            break
        import asyncio

        await asyncio.sleep(0.02)
    assert org is not None and not org.active
