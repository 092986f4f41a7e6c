"""The whole Cronofy side end to end, over HTTP against the fake Cronofy, with the app's own
outbox worker delivering: setup → connect → tracked link → signed callback → alerts and
profile → a revoked connection → reconnect message."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.app import create_app
from bot.chat import Actor, Conversation
from bot.commands import CommandContext
from bot.config import Settings
from bot.outbox.lifecycle import OUTBOX
from bot.runtime import SERVICES, Services
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from cards.model import card_to_dict
from cards.text import to_text
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import Clock, encode, sign
from tests.bot.alerts.recording import RecordingAdapter
from tests.bot.commands.turns import run_command, submit_setup
from tests.fakes.cronofy import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeCronofy

ORG = "slack:T0FLOW"
ADMIN, RECRUITER, CHANNEL = "UADMIN1", "UREC1", "C0HIRING"
WAIT = 15.0  # an upper bound for the worker, never a timing assertion


def say(services: Services, user: str, text: str, *, name: str = "") -> Any:
    ctx = CommandContext(
        services,
        Actor("slack", ORG, user, display_name=name or user),
        Conversation("slack", ORG, CHANNEL, "channel", "hiring"),
    )
    return run_command(ctx, text)


async def wait_for_sends(adapter: RecordingAdapter, count: int) -> None:
    async def until() -> None:
        while len(adapter.sent) < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(until(), WAIT)


def text_of(card: Any) -> str:
    return to_text(card) + repr(card_to_dict(card))


async def test_setup_connect_link_callback_and_reconnect(
    aiohttp_client: Any, store: Store, fake_cronofy: FakeCronofy
) -> None:
    settings = Settings.from_env(
        {
            "BOT_PUBLIC_URL": "https://slotbot.example.com",
            "CRONOFY_API_URL": fake_cronofy.url,
            "CRONOFY_APP_URL": fake_cronofy.url,
        }
    )
    settings = dataclasses.replace(settings, cronofy_timeout=2.0)
    app = create_app(settings, store=store, secrets=SecretBox([generate_key()]), platforms=[])
    app[OUTBOX].worker_options = {"poll_interval": 0.02, "base_delay": 0.05}
    services = app[SERVICES]
    clock = Clock()
    services.clock = clock
    adapter = RecordingAdapter("slack")
    services.delivery["slack"] = adapter
    client = await aiohttp_client(app)

    # the admin sets up Cronofy and routes alerts to the hiring channel
    admin = CommandContext(
        services,
        Actor("slack", ORG, ADMIN),
        Conversation("slack", ORG, CHANNEL, "channel", "hiring"),
    )
    outcome = await submit_setup(admin, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us")
    assert outcome.ok
    # nobody chose the first admin: the channel the setup was asked in is told who it is
    await wait_for_sends(adapter, 1)
    assert adapter.sent[0].target.conversation_id == CHANNEL
    assert "set up Slotbot and is its admin" in text_of(adapter.sent[0].card)
    await say(services, ADMIN, "cronofy alerts here")
    org = await store.get_org(ORG)
    assert org is not None and org.org_key

    # the recruiter connects their calendar through the real callback route
    reply = (await say(services, RECRUITER, "schedule connect"))[0]
    authorize = next(b.url for b in reply.card.buttons if b.kind == "open_url")
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    fake_cronofy.add_code("flow-code", email="rita@example.com", name="Rita")
    page = await client.get("/cronofy/oauth/callback", params={"code": "flow-code", "state": state})
    assert page.status == 200
    await wait_for_sends(adapter, 2)
    assert adapter.sent[1].target.user_id == RECRUITER
    assert "rita@example.com" in text_of(adapter.sent[1].card)

    # a tracked link for a candidate, then Cronofy calls back when they book through it
    await say(services, RECRUITER, "schedule link set https://app.cronofy.com/pls/AbC123")
    reply = (
        await say(services, RECRUITER, "schedule link for jane@example.com Jane Doe", name="Rita")
    )[0]
    link = next(b.url for b in reply.card.buttons if b.kind == "open_url" and b.url)
    correlation_id = parse_qs(urlsplit(link).query)["correlation_id"][0]
    body = encode(
        payloads.time_chosen(
            correlation_id=correlation_id,
            email="jane@example.com",
            name="Jane Doe",
            start="2027-02-01T10:00:00Z",
            end="2027-02-01T10:30:00Z",
        )
    )
    pushed = await client.post(
        f"/cronofy/push/{org.org_key}", data=body, headers=sign(body, DEFAULT_CLIENT_SECRET)
    )
    assert pushed.status == 200
    await wait_for_sends(adapter, 4)
    keys = {s.target.key for s in adapter.sent[2:]}
    assert keys == {f"channel:{CHANNEL}", f"dm:{RECRUITER}"}
    profile = (await say(services, RECRUITER, "schedule candidate jane@example.com"))[0]
    assert "Link sent" in text_of(profile.card) and "Booked" in text_of(profile.card)
    upcoming = (await say(services, RECRUITER, "schedule upcoming"))[0]
    assert "Jane Doe" in text_of(upcoming.card)
    status = (await say(services, ADMIN, "cronofy status"))[0]
    assert "none received yet" not in text_of(status.card)

    # Cronofy revokes the connection: the next use marks it disconnected and DMs a reconnect link
    member = await store.get_member(ORG, RECRUITER)
    assert member is not None and member.refresh_token_enc
    fake_cronofy.revoke_refresh_token(services.secrets.decrypt(member.refresh_token_enc))
    await store.put_member(dataclasses.replace(member, public_link=None))
    clock.now += 7200
    reply = (await say(services, RECRUITER, "schedule link for bob@example.com"))[0]
    assert "Connect your calendar" in text_of(reply.card)
    await wait_for_sends(adapter, 5)
    assert adapter.sent[4].target.user_id == RECRUITER
    assert "/oauth/authorize" in text_of(adapter.sent[4].card)
    assert await store.find_candidate_by_email(ORG, "bob@example.com") is None
