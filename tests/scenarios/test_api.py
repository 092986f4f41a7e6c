"""The read API end to end, on both stores: an admin makes a token with a Slack command (and
on Teams), the API serves the org's candidates, events and audit log with it, pages resume
exactly, another org's ids are refused as unknown, and 401 / 403 / 429 come as JSON. Every
answer is checked against the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from bot.api import tokens
from bot.api.openapi import document
from bot.store.base import Store
from bot.store.records import Candidate, EventWrite, Org, TimelineEntry
from tests.adapters.slack.support import ORG, all_text, make_app, slack_settings
from tests.adapters.teams import support as teams
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.scenarios.api_support import all_events, api_get
from tests.scenarios.test_slack_alerts import _reply, prepared, push
from tests.scenarios.test_slack_install import eventually

TOKEN = re.compile(r"slotbot_[0-9a-f]{64}")
OTHER_ORG = "slack:T0OTHER"
WAIT = 15.0


@pytest.fixture
async def client(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> Any:
    fake_slack.add_user("UADMIN", is_admin=True)
    settings = slack_settings(fake_slack, cronofy_url=fake_cronofy.url, BOT_API_RATE_LIMIT="0")
    return await aiohttp_client(make_app(settings, store, run_worker=True))


async def slack_token(client: Any, fake_slack: FakeSlack, name: str) -> str:
    answer = await _reply(
        client, fake_slack, f"api token create {name}", command="/cronofy", user="UADMIN"
    )
    found = set(TOKEN.findall(all_text(answer)))
    assert len(found) == 1, all_text(answer)
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    return found.pop()


async def _other_org(store: Store) -> tuple[str, str]:
    """Another org with a candidate, an event and a token of its own."""
    await store.put_org(Org(org_id=OTHER_ORG, platform="slack"))
    await store.commit_event(
        EventWrite(
            dedupe_key="other-1",
            dedupe_ttl=60,
            org_id=OTHER_ORG,
            candidate=Candidate(OTHER_ORG, "cand_other", "otto@example.com", "Otto Other"),
            timeline=TimelineEntry(kind="booked", at=50.0),
        )
    )
    token = await tokens.create(store, OTHER_ORG, "theirs", actor="U9", now=1.0)
    return "cand_other", token


def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    validate(document("https://slotbot.test/api/v1"))


async def test_a_token_made_in_slack_reads_the_orgs_candidates_events_and_audit(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    await push(client, path, time_chosen(correlation_id=correlation_id), fake_cronofy.client_secret)
    candidate = await store.find_candidate_by_email(ORG, "eb@example.com")
    assert candidate is not None

    async def booked() -> bool:
        return any(
            e.kind == "booked" for e in await store.list_timeline(ORG, candidate.candidate_id)
        )

    await eventually(booked, WAIT)
    # more events, of more candidates, interleaved, to page through
    for i in range(23):
        cid = f"cand_{i % 3}"
        await store.commit_event(
            EventWrite(
                dedupe_key=f"e{i}",
                dedupe_ttl=60,
                org_id=ORG,
                candidate=Candidate(ORG, cid, f"{cid}@example.com", f"C {i % 3}"),
                timeline=TimelineEntry(
                    kind="rescheduled", at=2_000_000_000.0 + i, booking_id=f"b{i}"
                ),
            )
        )
    other_id, other_token = await _other_org(store)

    token = await slack_token(client, fake_slack, "ats-sync")

    served = await client.get("/api/v1/openapi.json")
    assert served.status == 200
    validate(await served.json())

    # the candidate, by email (any case) and by id, with the timeline
    by_email = await api_get(
        client, "/api/v1/candidates?email=EB@example.com", token, schema="Candidate"
    )
    assert by_email["candidate_id"] == candidate.candidate_id
    assert by_email["name"] == "Dr Emmet Brown"
    assert [e["kind"] for e in by_email["timeline"]][-1] == "booked"
    by_id = await api_get(
        client, f"/api/v1/candidates/{candidate.candidate_id}", token, schema="Candidate"
    )
    assert by_id == by_email

    # every event, in order, at several page sizes: the same whole each time
    whole = await all_events(client, token, 500)
    assert len(whole) == 25
    assert [(e["candidate_id"], e["kind"]) for e in whole[:2]] == [
        (candidate.candidate_id, "link_sent"),
        (candidate.candidate_id, "booked"),
    ]
    assert [e["booking_id"] for e in whole[2:]] == [f"b{i}" for i in range(23)]
    for limit in (1, 5, 24, 25):
        assert await all_events(client, token, limit) == whole
    # an item's cursor resumes right after it
    rest = await api_get(
        client, f"/api/v1/events?after={whole[9]['cursor']}&limit=500", token, schema="EventPage"
    )
    assert rest["events"] == whole[10:]
    # caught up: nothing more, and the cursor to keep polling with stays put
    end = await api_get(
        client, f"/api/v1/events?after={whole[-1]['cursor']}", token, schema="EventPage"
    )
    assert end["events"] == [] and end["has_more"] is False
    assert end["next_cursor"] == whole[-1]["cursor"]
    # a new event shows up from there
    await store.append_timeline(
        ORG, "cand_0", TimelineEntry(kind="note", at=2_100_000_000.0, note="ok")
    )
    newer = await api_get(
        client, f"/api/v1/events?after={end['next_cursor']}", token, schema="EventPage"
    )
    assert [e["kind"] for e in newer["events"]] == ["note"]
    # the default page is 100
    first = await api_get(client, "/api/v1/events", token, schema="EventPage")
    assert len(first["events"]) == 26

    # the audit log, oldest first, with the token's own creation in it (never the token)
    entries: list[dict[str, Any]] = []
    page_path = "/api/v1/audit?limit=2"
    while True:
        page = await api_get(client, page_path, token, schema="AuditPage")
        entries += page["entries"]
        if not page["has_more"]:
            break
        page_path = f"/api/v1/audit?limit=2&after={page['next_cursor']}"
    assert entries[-1]["action"] == "api_token.create" and entries[-1]["detail"] == {
        "name": "ats-sync"
    }
    assert (
        entries
        == (await api_get(client, "/api/v1/audit?limit=500", token, schema="AuditPage"))["entries"]
    )
    assert token not in str(entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)

    # another org's ids are unknown here, and its token sees only its own org
    for path_ in (f"/api/v1/candidates/{other_id}", "/api/v1/candidates?email=otto@example.com"):
        refused = await api_get(client, path_, token, status=404)
        assert refused["error"]["code"] == "not_found"
    theirs = await all_events(client, other_token, 100)
    assert [(e["candidate_id"], e["kind"]) for e in theirs] == [(other_id, "booked")]
    await api_get(client, f"/api/v1/candidates/{candidate.candidate_id}", other_token, status=404)
    their_audit = await api_get(client, "/api/v1/audit", other_token, schema="AuditPage")
    assert [e["action"] for e in their_audit["entries"]] == ["api_token.create"]

    # the token's last use is listed in Slack
    listed = all_text(
        await _reply(client, fake_slack, "api token list", command="/cronofy", user="UADMIN")
    )
    assert "ats-sync" in listed and "never" not in listed


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/events?after=not-a-cursor", 400, "bad_cursor"),
        ("/api/v1/events?after=", 400, "bad_cursor"),
        ("/api/v1/events?after=" + "A" * 300, 400, "bad_cursor"),
        ("/api/v1/events?after=YTE6MQ", 400, "bad_cursor"),  # an audit cursor ("a1:1")
        ("/api/v1/events?after=ZTE6eHl6", 400, "bad_cursor"),  # "e1:xyz": no position
        ("/api/v1/events?limit=0", 400, "bad_limit"),
        ("/api/v1/events?limit=501", 400, "bad_limit"),
        ("/api/v1/events?limit=-1", 400, "bad_limit"),
        ("/api/v1/events?limit=ten", 400, "bad_limit"),
        ("/api/v1/audit?limit=99999", 400, "bad_limit"),
        ("/api/v1/audit?after=%00", 400, "bad_cursor"),
        ("/api/v1/candidates", 400, "missing_email"),
        ("/api/v1/candidates?email=nobody", 400, "bad_email"),
        ("/api/v1/candidates?email=" + "a" * 300 + "@x.com", 400, "bad_email"),
        ("/api/v1/candidates?email=nobody@example.com", 404, "not_found"),
        ("/api/v1/candidates/cand_unknown", 404, "not_found"),
        ("/api/v1/candidates/" + "x" * 200, 404, "not_found"),
        ("/api/v1/candidates/%E2%80%AE", 404, "not_found"),
        ("/api/v1/nothing-here", 404, "not_found"),
    ],
)
async def test_bad_input_gets_a_json_error_with_a_stable_code(
    client: Any, store: Store, fake_slack: FakeSlack, path: str, status: int, code: str
) -> None:
    token = await tokens.create(store, ORG, "t", actor="UADMIN", now=1.0)
    body = await api_get(client, path, token, status=status)
    assert body["error"]["code"] == code


async def test_other_methods_are_refused_as_json(client: Any, store: Store) -> None:
    token = await tokens.create(store, ORG, "t", actor="UADMIN", now=1.0)
    response = await client.post("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_no_token_an_unknown_one_and_a_revoked_one(
    client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
        response = await client.get("/api/v1/events", headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"]["code"] == "unauthorized"
    unknown = "slotbot_" + "0" * 64
    assert (await api_get(client, "/api/v1/events", unknown, status=401))["error"][
        "code"
    ] == "unauthorized"
    await api_get(client, "/api/v1/events", "not-even-a-token", status=401)

    token = await slack_token(client, fake_slack, "ats")
    await api_get(client, "/api/v1/events", token, schema="EventPage")
    answer = await _reply(
        client, fake_slack, "api token revoke ats", command="/cronofy", user="UADMIN"
    )
    assert "revoked" in all_text(answer)
    refused = await api_get(client, "/api/v1/events", token, status=403)
    assert refused["error"]["code"] == "revoked_token"
    assert (await api_get(client, "/api/v1/audit", token, status=403))["error"][
        "code"
    ] == "revoked_token"
    # a non-admin cannot make one
    denied = all_text(
        await _reply(client, fake_slack, "api token create mine", command="/cronofy", user="U1")
    )
    assert not TOKEN.search(denied) and "admin" in denied.lower()


async def test_past_the_tokens_rate_429_with_retry_after(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    settings = slack_settings(fake_slack, BOT_API_RATE_LIMIT="3")
    client = await aiohttp_client(make_app(settings, store))
    token = await tokens.create(store, ORG, "t", actor="UADMIN", now=1.0)
    other = await tokens.create(store, ORG, "u", actor="UADMIN", now=1.0)
    for _ in range(3):
        await api_get(client, "/api/v1/events", token, schema="EventPage")
    response = await client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert (await response.json())["error"]["code"] == "rate_limited"
    # per token: another token of the same org still reads
    await api_get(client, "/api/v1/events", other, schema="EventPage")


async def test_a_token_made_in_teams_reads_its_tenants_events(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    client = await aiohttp_client(teams.make_app(teams.dev_settings(BOT_ADMINS="aad-ada"), store))

    async def say(text: str, user: dict[str, str] = teams.ADA) -> str:
        where = teams.personal(fake_connector, user)
        response = await client.post("/api/messages", json=teams.message(where, text))
        assert response.status == 201
        reply = fake_connector.activities(f"a:personal-{user['id']}")[-1]
        return teams.card_text(teams.adaptive_cards(reply)[0])

    made = await say("cronofy api token create warehouse")
    [token] = set(TOKEN.findall(made))
    org_id = f"teams:{teams.TENANT}"
    await store.append_timeline(org_id, "cand_t", TimelineEntry(kind="booked", at=10.0))
    await store.append_timeline(org_id, "cand_t", TimelineEntry(kind="cancelled", at=11.0))
    events = await all_events(client, token, 1)
    assert [(e["candidate_id"], e["kind"]) for e in events] == [
        ("cand_t", "booked"),
        ("cand_t", "cancelled"),
    ]
    listed = await say("cronofy api token list")
    assert "warehouse" in listed and not TOKEN.search(listed)
    assert not TOKEN.search(await say("cronofy api token create other", teams.GRACE))
    assert "revoked" in await say("cronofy api token revoke warehouse")
    await api_get(client, "/api/v1/events", token, status=403)
    audit = await say("cronofy audit 5")
    assert "api_token.revoke" in audit and "api_token.create" in audit


async def test_an_erased_timeline_leaves_no_gap_in_the_feed(client: Any, store: Store) -> None:
    """The feed skips what is gone (an erase is another part's work: here the rows are
    removed by hand) and a re-created candidate's new events are served once."""
    for i in range(4):
        await store.append_timeline(
            ORG, "gone" if i < 2 else "kept", TimelineEntry(kind=f"k{i}", at=float(i))
        )
    await _erase_by_hand(store, "gone")
    await store.append_timeline(ORG, "gone", TimelineEntry(kind="again", at=9.0))
    token = await tokens.create(store, ORG, "t", actor="UADMIN", now=1.0)
    events = await all_events(client, token, 1)
    assert [(e["candidate_id"], e["kind"]) for e in events] == [
        ("kept", "k2"),
        ("kept", "k3"),
        ("gone", "again"),
    ]


async def _erase_by_hand(store: Store, candidate_id: str) -> None:
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    if isinstance(store, RedisStore):
        await store._r.delete(store._timeline_key(ORG, candidate_id))
    else:
        assert isinstance(store, SQLiteStore)
        await store._execute(
            "DELETE FROM timeline WHERE org_id = ? AND candidate_id = ?", (ORG, candidate_id)
        )
