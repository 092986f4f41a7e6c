"""The note after an interview on Teams, end to end over HTTP: a booked callback sets the
interviewer's timer; the app restarts on the same store; once the interview has ended (plus
15 minutes, on a fake clock) the worker sends "How did it go with …?" to their 1:1 chat;
Add note (an Action.Execute invoke) sends the note form, its submission (a message with the
inputs as its value) puts the note on the candidate's timeline, and `schedule candidate`
shows it with its author. Nothing reaches the channel."""

from __future__ import annotations

import time
from typing import Any

from cryptography.fernet import Fernet

from bot.app import create_app
from bot.runtime import SERVICES
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.timers import feedback_key
from cards import actions
from cards.feedback import MAX_NOTE
from tests.adapters.teams.support import (
    CHANNEL_ID,
    adaptive_cards,
    card_text,
    dev_settings,
    execute,
    message,
    personal,
    submit,
)
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy
from tests.scenarios.test_slack_notes import BOOKING, Clock, iso, run_worker
from tests.scenarios.test_teams_alerts import ORG, prepared, push
from tests.scenarios.test_teams_commands import ADA_DM, cronofy_env, inputs_of, post

ADA = "aad-ada"  # Ada's user id: her AAD object id
NOTE = "Great **communication**; <at>Everyone</at> should [meet](https://evil.test) her."


def _action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    """The Action.Execute of `verb` in an Adaptive Card."""
    found: list[dict[str, Any]] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                found.append(node)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    assert found, card
    return found[0]


def _cards_in(fake: FakeConnector, conversation: str, words: str) -> list[dict[str, Any]]:
    return [
        card
        for activity in fake.activities(conversation)
        for card in adaptive_cards(activity)
        if words in card_text(card)
    ]


async def start(
    settings: Any, store: Store, box: SecretBox, clock: Clock, aiohttp_client: Any
) -> Any:
    app = create_app(settings, store=store, secrets=box, run_worker=False)
    app[SERVICES].clock = clock
    return await aiohttp_client(app)


async def test_after_the_interview_the_interviewer_is_asked_and_the_note_lands_on_the_profile(
    fake_connector: FakeConnector, fake_cronofy: FakeCronofy, store: Store, aiohttp_client: Any
) -> None:
    fake = fake_connector
    settings = dev_settings(**cronofy_env(fake_cronofy))
    box = SecretBox([Fernet.generate_key().decode()])
    clock = Clock(float(int(time.time())))
    client = await start(settings, store, box, clock, aiohttp_client)
    path, correlation_id = await prepared(client, fake, fake_cronofy)
    member = await store.get_member(ORG, ADA)
    assert member is not None
    member.connected = True  # the panel is made of connected members
    await store.put_member(member)

    begins = clock.now + 3600
    ends = begins + 1800
    booked = time_chosen(correlation_id=correlation_id, start=iso(begins), end=iso(ends))
    await push(client, path, booked, fake_cronofy.client_secret)
    timer = await store.get_timer(feedback_key(ORG, BOOKING, ADA))
    assert timer is not None and timer.not_before == ends + 15 * 60

    # a restart: the timer is in the store, not in the process
    await client.close()
    client = await start(settings, store, box, clock, aiohttp_client)
    clock.now = ends + 15 * 60 - 5
    await run_worker(client)
    assert _cards_in(fake, ADA_DM, "How did it go") == []
    clock.now = ends + 16 * 60
    await run_worker(client)
    [prompt] = _cards_in(fake, ADA_DM, "How did it go")
    assert "How did it go with Dr Emmet Brown?" in card_text(prompt)
    await run_worker(client)
    assert len(_cards_in(fake, ADA_DM, "How did it go")) == 1

    # Add note, as Teams sends an Action.Execute: the form arrives in Ada's 1:1 chat
    add = _action(prompt, actions.ADD_NOTE)
    pressed = await post(client, execute(personal(fake), add["verb"], add["data"]))
    assert pressed.status == 200
    [form] = _cards_in(fake, ADA_DM, "Note on Dr Emmet Brown")
    assert actions.NOTE_TEXT in inputs_of(form)
    form_id = next(
        a["_id"]
        for a in fake.activities(ADA_DM)
        if any("Note on Dr Emmet Brown" in card_text(c) for c in adaptive_cards(a))
    )
    save = _action(form, actions.NOTE_FORM)

    # too long, through Action.Execute: the form comes back with the problem on it
    refused = await post(
        client,
        execute(
            personal(fake), save["verb"], {**save["data"], actions.NOTE_TEXT: "x" * (MAX_NOTE + 1)}
        ),
    )
    body = await refused.json()
    assert "nothing was saved" in card_text(body["value"])
    assert actions.NOTE_TEXT in inputs_of(body["value"])

    # saved, through the Action.Submit fallback (a message whose value holds the inputs)
    sent = await post(
        client,
        submit(personal(fake), {**save["data"], actions.NOTE_TEXT: NOTE}, reply_to=form_id),
    )
    assert sent.status == 201
    updated = fake.updates(ADA_DM)[-1]
    assert "Note saved" in card_text(adaptive_cards(updated)[0])
    candidate = await store.find_candidate_by_email(ORG, "eb@example.com")
    assert candidate is not None
    notes = [e for e in await store.list_timeline(ORG, candidate.candidate_id) if e.kind == "note"]
    assert [(e.note, e.recruiter_id, e.booking_id) for e in notes] == [(NOTE, ADA, BOOKING)]

    # the profile shows it with its author, the markup in it escaped
    await post(client, message(personal(fake), "schedule candidate eb@example.com"))
    [profile] = _cards_in(fake, ADA_DM, "Timeline")
    shown = card_text(profile)
    assert "**Note** by Ada Lovelace" in shown and "communication" in shown, shown
    assert "<at>Everyone</at>" not in shown and "[meet](https://evil.test)" not in shown
    # never to the channel
    assert _cards_in(fake, CHANNEL_ID, "communication") == []
    assert _cards_in(fake, CHANNEL_ID, "How did it go") == []
