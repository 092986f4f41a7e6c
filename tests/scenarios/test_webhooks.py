"""Signed outbound webhooks end to end, on both stores: Cronofy callbacks over HTTP, a real
HTTPS receiver on 127.0.0.1 (its certificate made here), and a DNS the test answers for."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.chat import Actor, Conversation, Turn
from bot.commands import CommandContext, handle_turn
from bot.store.base import Store
from bot.webhooks.events import ping_event, webhook_jobs
from bot.webhooks.signing import HEADER
from cards import actions
from cards.feedback import NoteTarget
from cards.model import Card
from cards.text import to_text
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import (
    ADMIN,
    CANDIDATE_ID,
    ORG_ID,
    RECRUITER,
    Pipeline,
    start_pipeline,
)
from tests.bot.commands.turns import run_action, run_command
from tests.support.secret_watch import register_secret
from tests.support.webhook_receiver import HOST, FakeDNS, Receiver, expected_signature, receiver

RESCHEDULED = payloads.time_chosen(
    start="2026-12-02T15:00:00Z", end="2026-12-02T15:30:00Z", triggered_at="2025-01-20T09:00:00Z"
)


@pytest.fixture
async def hook_receiver(tmp_path: Path) -> AsyncIterator[Receiver]:
    async with receiver(tmp_path) as r:
        yield r


async def _pipeline(
    aiohttp_client: Any, store: Store, r: Receiver, *, loopback: bool = True, **options: Any
) -> tuple[Pipeline, FakeDNS]:
    settings = {"BOT_WEBHOOK_CA_BUNDLE": str(r.ca_bundle)}
    if loopback:
        settings["BOT_WEBHOOK_ALLOW_LOOPBACK"] = "1"
    p = await start_pipeline(aiohttp_client, store, settings=settings, **options)
    dns = FakeDNS()
    p.services.resolve_host = dns
    return p, dns


def _ctx(p: Pipeline, user: str = ADMIN) -> CommandContext:
    return CommandContext(
        p.services,
        Actor("slack", ORG_ID, user),
        Conversation("slack", ORG_ID, "D0ADMIN", kind="dm"),
    )


async def _say(p: Pipeline, text: str, user: str = ADMIN) -> Card:
    [reply] = await run_command(_ctx(p, user), text)
    assert reply.visibility == "private"
    return reply.card


async def _add(p: Pipeline, url: str) -> str:
    card = await _say(p, f"cronofy webhook add {url}")
    assert card.title == "Webhook added", to_text(card)
    match = re.search(r"whsec_[A-Za-z0-9_-]+", to_text(card))
    assert match is not None
    register_secret("webhook signing secret", match.group(0))  # never in a log line
    return match.group(0)


def _event(received: Any) -> dict[str, Any]:
    event = json.loads(received.body)
    assert isinstance(event, dict)
    return event


def _check_signed(secret: str, received: Any) -> None:
    carried, computed = expected_signature(secret, received.headers[HEADER], received.body)
    assert carried == computed


async def test_a_booked_callback_reaches_the_receiver_signed(
    aiohttp_client: Any, store: Store, hook_receiver: Receiver
) -> None:
    p, dns = await _pipeline(aiohttp_client, store, hook_receiver)
    secret = await _add(p, hook_receiver.url())

    assert (await p.post(payloads.time_chosen())).status == 200
    [got] = await hook_receiver.wait_accepted(1)

    _check_signed(secret, got)
    t = int(got.headers[HEADER].split(",")[0].removeprefix("t="))
    assert abs(t - p.services.clock()) < 60
    event = _event(got)
    assert event["type"] == "booking.booked" and event["version"] == 1
    assert event["org"] == ORG_ID and event["id"].startswith("evt_")
    assert got.headers["Slotbot-Event-Id"] == event["id"]
    assert event["data"]["candidate"] == {
        "id": CANDIDATE_ID,
        "email": "eb@example.com",
        "name": "Dr Emmet Brown",
    }
    booking = event["data"]["booking"]
    assert (booking["id"], booking["start"], booking["end"], booking["zone"]) == (
        "srq_80f7fece4f37897d62d86d80",
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:30:00Z",
        "Europe/London",
    )
    assert event["data"]["recruiter_id"] == RECRUITER
    # the host was checked again right before the send, not only when it was added; and
    # only this DNS was asked (the system's knows no such host): the send connected to the
    # address checked
    assert dns.asked == [HOST, HOST]
    # the org's list shows the answer
    listed = to_text(await _say(p, "cronofy webhook list"))
    assert hook_receiver.url() in listed and "answered 200" in listed
    # the secret was audited nowhere, and never logged as a dead letter
    audit = await store.list_audit(ORG_ID)
    assert [e.action for e in audit if e.action.startswith("webhook.")] == ["webhook.add"]
    assert secret not in json.dumps([e.detail for e in audit])
    org = await store.get_org(ORG_ID)
    assert org is not None and secret not in org.webhooks[0].secret_enc


async def test_the_event_is_queued_in_the_callbacks_own_write_and_a_replay_adds_none(
    aiohttp_client: Any, store: Store, hook_receiver: Receiver
) -> None:
    p, _dns = await _pipeline(aiohttp_client, store, hook_receiver, run_worker=False)
    await _add(p, hook_receiver.url())
    body = json.dumps(payloads.time_chosen()).encode()
    assert (await p.post(body)).status == 200
    assert (await p.post(body)).status == 200  # Cronofy delivering it again
    jobs = await store.claim_jobs("t", limit=100, visibility_timeout=30, now=p.services.clock())
    [job] = [j for j in jobs if j.kind == "webhook"]
    assert job.payload["event"]["type"] == "booking.booked"
    # an org without webhooks queues none
    org = await store.get_org(ORG_ID)
    assert org is not None
    org.webhooks = []
    await store.put_org(org)
    assert (await p.post(RESCHEDULED)).status == 200
    later = await store.claim_jobs("t", limit=100, visibility_timeout=30, now=p.services.clock())
    assert later and not [j for j in later if j.kind == "webhook"]


async def test_the_receiver_survives_its_own_500s_and_gets_each_event_once_in_order(
    aiohttp_client: Any, store: Store, hook_receiver: Receiver
) -> None:
    p, _dns = await _pipeline(aiohttp_client, store, hook_receiver, run_worker=False)
    secret = await _add(p, hook_receiver.url())
    hook_receiver.statuses = [500, 500]
    assert (await p.post(payloads.time_chosen())).status == 200
    assert (await p.post(RESCHEDULED)).status == 200
    # a note, written after both
    note = Turn(
        Actor("slack", ORG_ID, ADMIN),
        Conversation("slack", ORG_ID, "D0ADMIN", kind="dm"),
        "form",
        action_id=actions.NOTE_FORM,
        value=NoteTarget(CANDIDATE_ID, "").encode(),
        values={actions.NOTE_TEXT: "Strong on systems design"},
    )
    await handle_turn(p.services, note)

    worker = p.worker(base_delay=0.05)
    task = asyncio.create_task(worker.run())
    try:
        accepted = await hook_receiver.wait_accepted(3)
        await p.drain()
    finally:
        worker.stop()
        await task

    assert [r.status for r in hook_receiver.requests] == [500, 500, 200, 200, 200]
    events = [_event(r) for r in accepted]
    assert [e["type"] for e in events] == [
        "booking.booked",
        "booking.rescheduled",
        "candidate.note_added",
    ]
    assert len({e["id"] for e in events}) == 3  # each event once
    # the failed tries were the same event, with the same id, each signed afresh
    tries = [_event(r)["id"] for r in hook_receiver.requests[:3]]
    assert tries == [events[0]["id"]] * 3
    for received in hook_receiver.requests:
        _check_signed(secret, received)
    assert events[1]["data"]["booking"]["start"] == "2026-12-02T15:00:00Z"
    assert events[1]["data"]["booking"]["previous_start"] == "2026-12-01T10:00:00Z"
    assert events[2]["data"]["note"]["text"] == "Strong on systems design"
    assert events[2]["data"]["note"]["author_id"] == ADMIN
    assert await store.list_dead_letters(ORG_ID) == []


async def test_a_webhook_that_is_down_holds_back_only_its_own_events(
    aiohttp_client: Any, store: Store, hook_receiver: Receiver
) -> None:
    p, _dns = await _pipeline(aiohttp_client, store, hook_receiver)
    await _add(p, hook_receiver.url("/down"))
    await _add(p, hook_receiver.url("/up"))
    hook_receiver.down = {"/down"}
    assert (await p.post(payloads.time_chosen())).status == 200
    assert (await p.post(RESCHEDULED)).status == 200

    accepted = await hook_receiver.wait_accepted(2)
    assert [(r.path, _event(r)["type"]) for r in accepted] == [
        ("/up", "booking.booked"),
        ("/up", "booking.rescheduled"),
    ]
    # the one that is down was tried with its first event only: the second waits behind it
    tried = {_event(r)["type"] for r in hook_receiver.requests if r.path == "/down"}
    assert tried == {"booking.booked"}


async def test_a_dns_answer_that_turns_private_is_refused_and_never_connected_to(
    aiohttp_client: Any, store: Store, hook_receiver: Receiver
) -> None:
    p, dns = await _pipeline(aiohttp_client, store, hook_receiver)
    await _add(p, hook_receiver.url())
    dns.answers[HOST] = ["10.0.0.7"]  # rebound after the check at add

    assert (await p.post(payloads.time_chosen())).status == 200

    async def dead() -> list[Any]:
        while not (letters := await store.list_dead_letters(ORG_ID)):
            await asyncio.sleep(0.01)
        return letters

    [letter] = await asyncio.wait_for(dead(), 15)
    assert letter.kind == "webhook"
    assert "10.0.0.7" in (letter.last_error or "") and "private" in (letter.last_error or "")
    assert hook_receiver.requests == []  # never connected to
    listed = to_text(await _say(p, "cronofy webhook list"))
    assert "not sent: its address is on a private network" in listed

    # the DNS is fixed: the dead letter replayed goes out, as it was
    dns.answers[HOST] = ["127.0.0.1"]
    assert await store.requeue_dead_letters([letter.job_id]) == 1
    # the in-app worker picks it up
    [got] = await hook_receiver.wait_accepted(1)
    assert _event(got)["id"] == letter.payload["event"]["id"]


@pytest.mark.parametrize(
    ("url", "answers", "says"),
    [
        ("http://hooks.example.com/h", {}, "must use https://"),
        (f"https://{HOST}/h", {HOST: ["127.0.0.1"]}, "loopback"),
        ("https://127.0.0.1/h", {}, "loopback"),
        ("https://10.1.2.3/h", {}, "private network"),
        ("https://internal.example.com/h", {"internal.example.com": ["10.9.9.9"]}, "10.9.9.9"),
        ("https://169.254.169.254/latest/meta-data/", {}, "cloud metadata"),
        ("https://[fd00:ec2::254]/", {}, "cloud metadata"),
        ("https://[::ffff:192.168.0.1]/h", {}, "private network"),
        ("https://link.example.com/h", {"link.example.com": ["fe80::1"]}, "link-local"),
        ("https://nowhere.example.com/h", {}, "does not resolve"),
    ],
)
async def test_add_refuses_what_is_not_public_https(
    aiohttp_client: Any,
    store: Store,
    hook_receiver: Receiver,
    url: str,
    answers: dict[str, list[str]],
    says: str,
) -> None:
    p, dns = await _pipeline(aiohttp_client, store, hook_receiver, loopback=False)
    dns.answers = answers
    card = await _say(p, f"cronofy webhook add {url}")
    assert card.title == "Webhook not added"
    assert says in to_text(card)
    org = await store.get_org(ORG_ID)
    assert org is not None and org.webhooks == []
    assert not [e for e in await store.list_audit(ORG_ID) if e.action.startswith("webhook.")]


async def test_list_test_remove_and_only_admins(
    aiohttp_client: Any, store: Store, hook_receiver: Receiver
) -> None:
    p, _dns = await _pipeline(aiohttp_client, store, hook_receiver)
    url = hook_receiver.url()
    assert (await _say(p, f"cronofy webhook add {url}", user=RECRUITER)).title.startswith(
        "Only Slotbot admins"
    )
    assert "None yet" in to_text(await _say(p, "cronofy webhook list"))
    secret = await _add(p, url)
    assert (await _say(p, f"cronofy webhook add {url}")).title == "Already added"
    listed = to_text(await _say(p, "cronofy webhook"))
    assert url in listed and secret not in listed

    assert (await _say(p, f"cronofy webhook test {url}")).title == "Test event queued"
    [ping] = await hook_receiver.wait_accepted(1)
    _check_signed(secret, ping)
    assert _event(ping)["type"] == "ping" and _event(ping)["data"] == {"url": url}

    other = hook_receiver.url("/other")
    assert (await _say(p, f"cronofy webhook remove {other}")).title == "No such webhook"
    assert (await _say(p, f"cronofy webhook remove {url}")).title == "Webhook removed"
    assert "None yet" in to_text(await _say(p, "cronofy webhook list"))
    # no event is sent to a removed webhook
    assert (await p.post(payloads.time_chosen())).status == 200
    await p.drain()
    assert len(hook_receiver.requests) == 1

    # an event queued before the webhook was removed is dropped, not sent nor dead-lettered
    await _add(p, url)
    org = await store.get_org(ORG_ID)
    assert org is not None
    now = p.services.clock()
    pending = webhook_jobs(org, ping_event(ORG_ID, url, now=now), now=now)
    assert (await _say(p, f"cronofy webhook remove {url}")).title == "Webhook removed"
    await store.enqueue(pending)
    await p.drain()
    assert len(hook_receiver.requests) == 1
    assert await store.list_dead_letters(ORG_ID) == []

    actions_done = [
        (e.action, e.actor, e.detail.get("url"))
        for e in await store.list_audit(ORG_ID)
        if e.action.startswith("webhook.")
    ]
    assert actions_done[::-1] == [  # newest first
        ("webhook.add", ADMIN, url),
        ("webhook.test", ADMIN, url),
        ("webhook.remove", ADMIN, url),
        ("webhook.add", ADMIN, url),
        ("webhook.remove", ADMIN, url),
    ]


async def test_an_erase_tells_each_webhook_the_candidate_id_and_nothing_else(
    aiohttp_client: Any, store: Store, hook_receiver: Receiver
) -> None:
    p, _ = await _pipeline(aiohttp_client, store, hook_receiver)
    secret = await _add(p, hook_receiver.url())
    assert (await p.post(payloads.time_chosen())).status == 200
    await hook_receiver.wait_accepted(1)

    asked = await _say(p, "cronofy candidate erase eb@example.com")
    assert "eb@example.com" not in json.dumps([e.detail for e in await store.list_audit(ORG_ID)])
    assert asked.title, to_text(asked)
    await run_action(_ctx(p), actions.ERASE_CONFIRM, CANDIDATE_ID)
    [_, erased] = await hook_receiver.wait_accepted(2)

    _check_signed(secret, erased)
    event = _event(erased)
    assert event["type"] == "candidate.erased"
    assert event["data"] == {"candidate": {"id": CANDIDATE_ID}}
    assert b"eb@example.com" not in erased.body and b"Emmet" not in erased.body
    assert await store.find_candidate_by_email(ORG_ID, "eb@example.com") is None
