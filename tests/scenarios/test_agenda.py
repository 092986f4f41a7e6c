"""The day's agenda end to end on Slack and Teams: `/schedule agenda on` over HTTP as each
platform sends it, the app restarted on the same store, the clock moved to the next morning,
one worker run: the member's DM lists the day's interviews — and a day without any gets
nothing. The member's zone comes from the platform (Slack users.info `tz`, Teams clientInfo).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.outbox.worker import OutboxWorker
from bot.runtime import SERVICES
from bot.store.base import Store
from bot.store.records import Booking, Candidate
from bot.timers import agenda_key
from tests.adapters.slack import support as slack
from tests.adapters.teams import support as teams
from tests.fakes.botframework import FakeConnector
from tests.fakes.slack import FakeSlack

SLACK_ORG = "slack:T1"
TEAMS_ORG = f"teams:{teams.TENANT}"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# the evening before the US spring-forward (2026-03-08 02:00 EST -> 03:00 EDT) and a week
# before Europe's: the next morning's 08:30 is in the new offset
EVENING = utc("2026-03-07T22:00:00")


async def book(store: Store, org_id: str, user_id: str, booking_id: str, start: str) -> None:
    candidate_id = f"cand-{booking_id}"
    await store.put_candidate(
        Candidate(org_id, candidate_id, f"{booking_id}@example.com", f"Candidate {booking_id}")
    )
    await store.put_booking(
        Booking(
            org_id,
            booking_id,
            candidate_id=candidate_id,
            recruiter_id=user_id,
            start=start,
            meeting_url=f"https://meet.example.com/{booking_id}",
        )
    )


async def run_worker_at(app_client: Any, clock: Clock, at: float) -> int:
    clock.now = at
    services = app_client.server.app[SERVICES]
    return await OutboxWorker(services, consumer="morning").run_once()


# --- Slack ----------------------------------------------------------------------------------


async def slack_app(aiohttp_client: Any, store: Store, fake_slack: FakeSlack, clock: Clock) -> Any:
    app = slack.make_app(slack.slack_settings(fake_slack), store, run_worker=False)
    app[SERVICES].clock = clock  # the core's clock; Slack's signatures keep real time
    return await aiohttp_client(app)


async def slack_answer(client: Any, fake_slack: FakeSlack, text: str) -> str:
    command = await slack.slash(client, fake_slack, text, user="U1", channel="D1")
    return slack.all_text((await command.answers())[0])


async def test_slack_agenda_after_a_restart_in_the_members_zone(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U1", tz="America/New_York")
    clock = Clock(EVENING)
    client = await slack_app(aiohttp_client, store, fake_slack, clock)
    answer = await slack_answer(client, fake_slack, "agenda on 8:30")
    assert "Daily agenda on" in answer and "America/New_York" in answer
    member = await store.get_member(SLACK_ORG, "U1")
    assert member is not None and member.agenda_at == "08:30"
    assert member.chat_zone == "America/New_York"  # from users.info, through the adapter
    bad = await slack_answer(client, fake_slack, "agenda on 8h30")
    assert "not a time of day" in bad and "HH:MM" in bad
    await book(store, SLACK_ORG, "U1", "b1", "2026-03-08T15:00:00Z")  # 11:00 EDT
    await book(store, SLACK_ORG, "U1", "b2", "2026-03-09T15:00:00Z")  # Monday
    await client.close()  # the process stops (and its store closes); the timer is stored

    client = await slack_app(aiohttp_client, store, fake_slack, clock)
    assert await run_worker_at(client, clock, utc("2026-03-08T12:29:00")) == 0
    assert await run_worker_at(client, clock, utc("2026-03-08T12:30:00")) == 1  # 08:30 EDT
    [dm] = [m for m in fake_slack.messages() if "Candidate b1" in slack.all_text(m)]
    text = slack.all_text(dm)
    assert "Your interviews today, Sunday 8 March" in text
    assert "https://meet.example.com/b1" in text and "Candidate b2" not in text
    timer = await store.get_timer(agenda_key(SLACK_ORG, "U1"))
    assert timer is not None and timer.not_before == utc("2026-03-09T12:30:00")


async def test_slack_a_day_without_interviews_gets_nothing(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U1", tz="Europe/Paris")
    clock = Clock(EVENING)
    client = await slack_app(aiohttp_client, store, fake_slack, clock)
    await slack_answer(client, fake_slack, "agenda on")
    await client.close()
    client = await slack_app(aiohttp_client, store, fake_slack, clock)
    posted_before = len(fake_slack.calls("chat.postMessage"))
    assert await run_worker_at(client, clock, utc("2026-03-08T07:30:00")) == 1  # 08:30 CET
    assert len(fake_slack.calls("chat.postMessage")) == posted_before
    timer = await store.get_timer(agenda_key(SLACK_ORG, "U1"))
    assert timer is not None and timer.not_before == utc("2026-03-09T07:30:00")
    off = await slack_answer(client, fake_slack, "agenda off")
    assert "Daily agenda off" in off
    assert await store.get_timer(agenda_key(SLACK_ORG, "U1")) is None


# --- Teams ----------------------------------------------------------------------------------


async def teams_app(aiohttp_client: Any, store: Store, clock: Clock) -> Any:
    app = teams.make_app(teams.dev_settings(), store)
    app[SERVICES].clock = clock
    return await aiohttp_client(app)


def with_zone(activity: dict[str, Any], zone: str) -> dict[str, Any]:
    """What a Teams client adds of itself to each message it sends."""
    activity["entities"] = [{"type": "clientInfo", "locale": "en-US", "timezone": zone}]
    return activity


async def teams_say(client: Any, fake: FakeConnector, text: str, zone: str) -> str:
    sent = with_zone(teams.message(teams.personal(fake), text), zone)
    response = await client.post("/api/messages", json=sent)
    assert response.status == 201
    reply = fake.activities(f"a:personal-{teams.ADA['id']}")[-1]
    return teams.card_text(teams.adaptive_cards(reply)[0])


async def teams_user(store: Store) -> str:
    [member] = await store.list_members(TEAMS_ORG)
    return member.user_id


async def test_teams_agenda_after_a_restart_in_the_clients_zone(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    clock = Clock(EVENING)
    client = await teams_app(aiohttp_client, store, clock)
    answer = await teams_say(client, fake_connector, "schedule agenda on 07:45", "Europe/Berlin")
    assert "Daily agenda on" in answer and "Europe/Berlin" in answer
    user = await teams_user(store)
    member = await store.get_member(TEAMS_ORG, user)
    assert member is not None and member.chat_zone == "Europe/Berlin"
    await book(store, TEAMS_ORG, user, "t1", "2026-03-08T09:00:00Z")  # 10:00 CET
    await book(store, TEAMS_ORG, user, "t0", "2026-03-07T09:00:00Z")  # yesterday
    await client.close()

    client = await teams_app(aiohttp_client, store, clock)
    before = len(fake_connector.activities(f"a:personal-{teams.ADA['id']}"))
    assert await run_worker_at(client, clock, utc("2026-03-08T06:45:00")) == 1  # 07:45 CET
    sent = fake_connector.activities(f"a:personal-{teams.ADA['id']}")[before:]
    assert len(sent) == 1
    text = teams.card_text(teams.adaptive_cards(sent[0])[0])
    assert "Your interviews today, Sunday 8 March" in text and "Candidate t1" in text
    assert "Candidate t0" not in text and "https://meet.example.com/t1" in text
    timer = await store.get_timer(agenda_key(TEAMS_ORG, user))
    assert timer is not None and timer.not_before == utc("2026-03-09T06:45:00")


async def test_teams_a_day_without_interviews_gets_nothing_and_unknown_zones_say_utc(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector
) -> None:
    clock = Clock(EVENING)
    client = await teams_app(aiohttp_client, store, clock)
    answer = await teams_say(client, fake_connector, "schedule agenda on", "Nowhere/Atlantis")
    assert "UTC, your organisation's default" in answer
    await client.close()
    client = await teams_app(aiohttp_client, store, clock)
    before = len(fake_connector.activities(f"a:personal-{teams.ADA['id']}"))
    assert await run_worker_at(client, clock, utc("2026-03-08T08:30:00")) == 1
    assert len(fake_connector.activities(f"a:personal-{teams.ADA['id']}")) == before
    timer = await store.get_timer(agenda_key(TEAMS_ORG, await teams_user(store)))
    assert timer is not None and timer.not_before == utc("2026-03-09T08:30:00")
