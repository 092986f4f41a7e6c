"""Reminders before an interview and the panel's alerts, end to end on Slack and Teams, on
both stores: a booked callback over HTTP sets a reminder per interviewer (the recruiter and a
connected member matched by email); the app is closed and a new one started on the same store;
when the fake clock reaches the reminder's time the worker sends each a direct message. A
reschedule moves the reminders (the old time sends nothing), a cancel removes them.

Only the clock Slotbot reads is faked (`Services.clock`), starting at the real time so that
signed requests stay fresh; nothing sleeps for a timer.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Settings
from bot.outbox.lifecycle import OUTBOX
from bot.runtime import SERVICES
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.timers import reminder_key
from tests.adapters.slack import support as slack
from tests.adapters.teams import support as teams
from tests.bot.alerts.payloads import time_chosen
from tests.bot.alerts.pipeline import Clock
from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.scenarios import test_slack_alerts as slack_alerts
from tests.scenarios import test_teams_alerts as teams_alerts
from tests.scenarios.test_slack_commands import _connect as slack_connect
from tests.scenarios.test_teams_commands import ADA_DM, cronofy_env, post

WAIT = 15.0  # an upper bound for the worker, never a timing assertion
BOOKING = "srq_80f7fece4f37897d62d86d80"  # time_chosen's scheduling request
GRACE_DM = "a:personal-29:grace"
HOUR = 3600.0


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def booked(correlation_id: str, start: float, panel_email: str, **kw: Any) -> dict[str, Any]:
    """Cronofy's time-chosen callback, with a member of the panel among its recipients."""
    payload = time_chosen(
        correlation_id=correlation_id, start=iso(start), end=iso(start + 1800), **kw
    )
    payload["scheduling_request"]["recipients"].append(
        {"email": panel_email, "display_name": "Panel Member"}
    )
    return payload


@dataclass
class World:
    """One platform's running app, and how to look at what the platform was sent."""

    platform: str
    org_id: str
    recruiter: str  # user ids
    panel: str
    panel_email: str
    clock: Clock
    make: Callable[[bool], web.Application]
    client: Any
    path: str = ""
    correlation_id: str = ""
    reminders_to: Callable[[str], list[str]] | None = None  # user id -> reminders' text
    alerts_to: Callable[[str], int] | None = None  # user id -> booking DMs received
    # (user id, command text) -> the text of Slotbot's answer, typed the platform's way
    say: Callable[[Any, str, str], Awaitable[str]] | None = None

    async def push(self, payload: dict[str, Any], secret: str) -> None:
        if self.platform == "slack":
            await slack_alerts.push(self.client, self.path, payload, secret)
        else:
            await teams_alerts.push(self.client, self.path, payload, secret)

    async def restart(self, aiohttp_client: Any) -> None:
        """Close the app (its worker with it) and serve a new one on the same store."""
        await self.client.close()
        self.client = await aiohttp_client(self.make(True))

    async def command(self, user: str, text: str) -> str:
        assert self.say is not None
        return await self.say(self.client, user, text)

    def reminders(self, user: str) -> int:
        return len(self.reminder_texts(user))

    def reminder_texts(self, user: str) -> list[str]:
        assert self.reminders_to is not None
        return self.reminders_to(user)


def _app(settings: Settings, store: Store, box: SecretBox, clock: Clock, worker: bool) -> Any:
    app = create_app(settings, store=store, secrets=box, run_worker=worker)
    app[SERVICES].clock = clock
    app[OUTBOX].worker_options = {"poll_interval": 0.02, "base_delay": 0.05}
    return app


def _is_reminder(text: str) -> bool:
    return "Interview in" in text and "starts in" in text


async def slack_world(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> World:
    fake_slack.add_user("UADMIN", is_admin=True)
    settings = slack.slack_settings(fake_slack, cronofy_url=fake_cronofy.url)
    box = SecretBox([Fernet.generate_key().decode()])
    clock = Clock(float(int(time.time())))  # whole seconds, as ISO times are

    def make(worker: bool) -> web.Application:
        return _app(settings, store, box, clock, worker)

    client = await aiohttp_client(make(False))
    path, correlation_id = await slack_alerts.prepared(client, store, fake_slack, fake_cronofy)
    await slack_connect(client, fake_slack, fake_cronofy, "U1")
    await slack_connect(client, fake_slack, fake_cronofy, "U2")  # u2@example.com

    def texts(user: str) -> list[str]:
        return [slack.all_text(m) for m in fake_slack.messages("D" + user[1:])]

    async def say(client: Any, user: str, text: str) -> str:
        answer = await slack_alerts._reply(
            client, fake_slack, text.removeprefix("schedule "), user=user
        )
        return slack.all_text(answer)

    return World(
        platform="slack",
        org_id=slack.ORG,
        recruiter="U1",
        panel="U2",
        panel_email="u2@example.com",
        clock=clock,
        make=make,
        client=client,
        path=path,
        correlation_id=correlation_id,
        reminders_to=lambda user: [t for t in texts(user) if _is_reminder(t)],
        alerts_to=lambda user: sum(1 for t in texts(user) if "Interview booked" in t),
        say=say,
    )


async def _teams_connect(
    client: Any, fake: FakeConnector, fake_cronofy: FakeCronofy, who: dict[str, str], email: str
) -> None:
    dm = f"a:personal-{who['id']}"
    await post(client, teams.message(teams.personal(fake, who), "schedule connect"))
    prompt = teams.card_text(teams.adaptive_cards(fake.activities(dm)[-1])[0])
    authorize = re.search(r"https?://\S+/oauth/authorize\?[^\s\"')\]]+", prompt)
    assert authorize, prompt
    state = parse_qs(urlsplit(authorize.group(0)).query)["state"][0]
    code = "code-" + who["id"]
    fake_cronofy.add_code(code, email=email, name=who["name"])
    page = await client.get("/cronofy/oauth/callback", params={"code": code, "state": state})
    assert page.status == 200, await page.text()


async def teams_world(
    aiohttp_client: Any, store: Store, fake_connector: FakeConnector, fake_cronofy: FakeCronofy
) -> World:
    settings = teams.dev_settings(**cronofy_env(fake_cronofy))
    box = SecretBox([Fernet.generate_key().decode()])
    clock = Clock(float(int(time.time())))  # whole seconds, as ISO times are

    def make(worker: bool) -> web.Application:
        return _app(settings, store, box, clock, worker)

    client = await aiohttp_client(make(False))
    path, correlation_id = await teams_alerts.prepared(client, fake_connector, fake_cronofy)
    await _teams_connect(client, fake_connector, fake_cronofy, teams.ADA, "ada@example.com")
    await _teams_connect(client, fake_connector, fake_cronofy, teams.GRACE, "grace@example.com")
    dms = {"aad-ada": ADA_DM, "aad-grace": GRACE_DM}

    def texts(user: str) -> list[str]:
        return [
            teams.card_text(card)
            for activity in fake_connector.activities(dms[user])
            for card in teams.adaptive_cards(activity)
        ]

    people = {"aad-ada": teams.ADA, "aad-grace": teams.GRACE}

    async def say(client: Any, user: str, text: str) -> str:
        where = teams.personal(fake_connector, people[user])
        assert (await post(client, teams.message(where, text))).status == 201
        answer = fake_connector.activities(dms[user])[-1]
        return " ".join(teams.card_text(c) for c in teams.adaptive_cards(answer))

    return World(
        platform="teams",
        org_id=teams_alerts.ORG,
        recruiter="aad-ada",
        panel="aad-grace",
        panel_email="grace@example.com",
        clock=clock,
        make=make,
        client=client,
        path=path,
        correlation_id=correlation_id,
        reminders_to=lambda user: [t for t in texts(user) if _is_reminder(t)],
        alerts_to=lambda user: sum(1 for t in texts(user) if "Interview booked" in t),
        say=say,
    )


@pytest.fixture(params=["slack", "teams"])
async def world(
    request: pytest.FixtureRequest,
    fake_slack: FakeSlack,
    fake_connector: FakeConnector,
    fake_cronofy: FakeCronofy,
    store: Store,
    aiohttp_client: Any,
) -> World:
    # the fakes come first so they stop last: the app (and its worker) closes while they answer
    if request.param == "slack":
        return await slack_world(aiohttp_client, store, fake_slack, fake_cronofy)
    return await teams_world(aiohttp_client, store, fake_connector, fake_cronofy)


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.02)


async def settled(store: Store, clock: Clock) -> None:
    """Everything due by now has been claimed; then a moment for a send in hand to land.
    (Used before asserting that nothing was sent: a wait for an absence.)"""
    deadline = asyncio.get_running_loop().time() + WAIT
    while await store.due_lag(clock()) > 0:
        assert asyncio.get_running_loop().time() < deadline, "the worker never caught up"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)


async def test_booked_reminds_the_recruiter_and_the_panel_after_a_restart(
    world: World, store: Store, fake_cronofy: FakeCronofy, aiohttp_client: Any
) -> None:
    w = world
    start = w.clock() + 2 * HOUR
    await w.push(booked(w.correlation_id, start, w.panel_email), fake_cronofy.client_secret)
    for user in (w.recruiter, w.panel):
        timer = await store.get_timer(reminder_key(w.org_id, BOOKING, user))
        assert timer is not None and timer.not_before == start - 15 * 60, user

    await w.restart(aiohttp_client)  # the first app never ran a worker: the new one does it all
    assert w.alerts_to is not None
    await until(lambda: w.alerts_to(w.panel) >= 1, "the panel member's booking DM")
    await until(lambda: w.alerts_to(w.recruiter) >= 1, "the recruiter's booking DM")
    assert w.reminders(w.recruiter) == w.reminders(w.panel) == 0

    w.clock.advance(2 * HOUR - 15 * 60 - 1)
    await settled(store, w.clock)
    assert w.reminders(w.recruiter) == 0, "not a second early"
    w.clock.advance(2)
    await until(lambda: w.reminders(w.recruiter) == 1, "the recruiter's reminder")
    await until(lambda: w.reminders(w.panel) == 1, "the panel member's reminder")
    await settled(store, w.clock)
    assert await store.get_timer(reminder_key(w.org_id, BOOKING, w.recruiter)) is None
    assert w.reminders(w.recruiter) == w.reminders(w.panel) == 1
    for user in (w.recruiter, w.panel):
        [text] = w.reminder_texts(user)
        assert "Dr Emmet Brown" in text and "in 15 minutes" in text, text
        assert "https://meet.example.com/abc" in text and "Candidate profile" in text, text


async def test_a_reschedule_moves_the_reminders_and_a_cancel_removes_them(
    world: World, store: Store, fake_cronofy: FakeCronofy, aiohttp_client: Any
) -> None:
    w = world
    secret = fake_cronofy.client_secret
    start = w.clock() + 2 * HOUR
    await w.push(booked(w.correlation_id, start, w.panel_email), secret)
    await w.restart(aiohttp_client)
    later = start + 24 * HOUR
    await w.push(
        booked(w.correlation_id, later, w.panel_email, triggered_at="2025-01-20T09:00:00Z"),
        secret,
    )
    timer = await store.get_timer(reminder_key(w.org_id, BOOKING, w.panel))
    assert timer is not None and timer.not_before == later - 15 * 60

    # the old time passes: nothing
    w.clock.advance(2 * HOUR)
    await settled(store, w.clock)
    assert w.reminders(w.recruiter) == w.reminders(w.panel) == 0
    # the new one comes
    w.clock.advance(24 * HOUR - 15 * 60)
    await until(lambda: w.reminders(w.recruiter) == 1, "the recruiter's moved reminder")
    await until(lambda: w.reminders(w.panel) == 1, "the panel member's moved reminder")

    # booked again for the day after, then cancelled: no reminder at that time
    again = later + 24 * HOUR
    await w.push(
        booked(w.correlation_id, again, w.panel_email, triggered_at="2025-01-21T09:00:00Z"),
        secret,
    )
    assert await store.get_timer(reminder_key(w.org_id, BOOKING, w.recruiter)) is not None
    cancelled = booked(
        w.correlation_id,
        again,
        w.panel_email,
        notification_type="scheduling_request_cancelled",
        triggered_at="2025-01-22T09:00:00Z",
    )
    await w.push(cancelled, secret)
    for user in (w.recruiter, w.panel):
        assert await store.get_timer(reminder_key(w.org_id, BOOKING, user)) is None
    w.clock.advance(24 * HOUR)
    await settled(store, w.clock)
    assert w.reminders(w.recruiter) == w.reminders(w.panel) == 1


async def test_each_members_setting_typed_on_the_platform_decides_their_reminder(
    world: World, store: Store, fake_cronofy: FakeCronofy, aiohttp_client: Any
) -> None:
    w = world
    assert "15 minutes before" in await w.command(w.recruiter, "schedule reminders")
    assert "30 minutes before" in await w.command(w.recruiter, "schedule reminders 30")
    assert "Interview reminders off" in await w.command(w.panel, "schedule reminders off")
    refused = await w.command(w.panel, "schedule reminders 0")
    assert "from 1 to 1440" in refused, refused
    start = w.clock() + 2 * HOUR
    await w.push(booked(w.correlation_id, start, w.panel_email), fake_cronofy.client_secret)
    timer = await store.get_timer(reminder_key(w.org_id, BOOKING, w.recruiter))
    assert timer is not None and timer.not_before == start - 30 * 60
    assert await store.get_timer(reminder_key(w.org_id, BOOKING, w.panel)) is None

    await w.restart(aiohttp_client)
    w.clock.advance(2 * HOUR - 30 * 60)
    await until(lambda: w.reminders(w.recruiter) == 1, "the recruiter's reminder")
    [text] = w.reminder_texts(w.recruiter)
    assert "in 30 minutes" in text, text
    await settled(store, w.clock)
    assert w.reminders(w.panel) == 0
    assert w.alerts_to is not None and w.alerts_to(w.panel) == 1, "alerts are another setting"
