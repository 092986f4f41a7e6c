"""The note after an interview on Slack, end to end over HTTP: a booked callback sets the
interviewer's timer; the app restarts on the same store; once the interview has ended (plus
15 minutes, on a fake clock) the worker DMs "How did it go with …?"; Add note opens a modal
(block_actions → views.open), its submission (view_submission) puts the note on the
candidate's timeline, and /schedule candidate shows it with its author. Nothing reaches a
channel."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Settings
from bot.outbox.worker import OutboxWorker
from bot.runtime import SERVICES
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.timers import feedback_key
from cards import actions
from cards.feedback import MAX_NOTE
from tests.adapters.slack.support import (
    FORM,
    ORG,
    all_text,
    interactive_body,
    post_signed,
    slack_settings,
)
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_slack_alerts import _reply, prepared, push
from tests.scenarios.test_slack_commands import button_press

BOOKING = "srq_80f7fece4f37897d62d86d80"  # time_chosen's
NOTE = "Strong on *systems* design <!channel>; second round please."


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def start(
    aiohttp_client: Any, settings: Settings, store: Store, box: SecretBox, clock: Clock
) -> Any:
    """The app on `store`, its worker not running (the test runs it), on the fake clock; the
    same key each time, as a restarted deployment has."""
    app = create_app(settings, store=store, secrets=box, run_worker=False)
    app[SERVICES].clock = clock
    return await aiohttp_client(app)


async def run_worker(client: Any) -> None:
    worker = OutboxWorker(client.app[SERVICES], consumer="notes", poll_interval=0.01)
    while await worker.run_once():
        pass


def note_submission(view: dict[str, Any], text: str, *, user: str = "U1") -> dict[str, Any]:
    """The modal Slack opened, submitted with `text` as the note."""
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "test"},
        "user": {"id": user, "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trigger.note",
        "view": {
            "id": "VNOTE",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "state": {
                "values": {
                    actions.NOTE_TEXT: {
                        actions.NOTE_TEXT: {"type": "plain_text_input", "value": text}
                    }
                }
            },
        },
    }


def add_note_button(message: dict[str, Any]) -> dict[str, Any]:
    blocks = message.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks or []:
        for element in block.get("elements", []):
            if str(element.get("action_id", "")).startswith(actions.ADD_NOTE):
                return dict(element)
    raise AssertionError(f"no Add note button in {message}")


async def test_after_the_interview_the_interviewer_is_asked_and_the_note_lands_on_the_profile(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    fake_slack.add_user("UADMIN", is_admin=True)
    settings = slack_settings(fake_slack, cronofy_url=fake_cronofy.url)
    box = SecretBox([Fernet.generate_key().decode()])
    clock = Clock(float(int(time.time())))
    client = await start(aiohttp_client, settings, store, box, clock)
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    # the recruiter's calendar is connected: the panel is made of connected members
    member = await store.get_member(ORG, "U1")
    assert member is not None
    member.connected = True
    await store.put_member(member)

    begins = clock.now + 3600
    ends = begins + 1800
    booked = time_chosen(correlation_id=correlation_id, start=iso(begins), end=iso(ends))
    await push(client, path, booked, fake_cronofy.client_secret)
    timer = await store.get_timer(feedback_key(ORG, BOOKING, "U1"))
    assert timer is not None and timer.not_before == ends + 15 * 60

    # a restart: the timer is in the store, not in the process
    await client.close()
    client = await start(aiohttp_client, settings, store, box, clock)
    clock.now = ends + 15 * 60 - 5
    await run_worker(client)  # the alerts go; the prompt is not due yet
    assert not [m for m in fake_slack.messages("D1") if "How did it go" in all_text(m)]
    clock.now = ends + 16 * 60
    await run_worker(client)
    [prompt] = [m for m in fake_slack.messages("D1") if "How did it go" in all_text(m)]
    assert "How did it go with Dr Emmet Brown?" in all_text(prompt)
    await run_worker(client)
    assert len([m for m in fake_slack.messages("D1") if "How did it go" in all_text(m)]) == 1

    # Add note: a modal, opened with the press's trigger id
    button = add_note_button(prompt)
    press = button_press(
        button["action_id"],
        button["value"],
        user="U1",
        channel="D1",
        response_url=fake_slack.response_url("note"),
    )
    assert (await post_signed(client, interactive_body(press), FORM)).status == 200
    await fake_slack.wait_for("views.open")
    view = fake_slack.views("views.open")[-1]["view"]
    assert view["callback_id"] == actions.NOTE_FORM
    assert fake_slack.calls("views.open")[-1].args["trigger_id"] == "trigger.button"

    # too long: refused beside the input, nothing stored
    too_long = note_submission(view, "x" * (MAX_NOTE + 1))
    answer = await (await post_signed(client, interactive_body(too_long), FORM)).json()
    assert answer["response_action"] == "errors"
    assert "nothing was saved" in answer["errors"][actions.NOTE_TEXT]

    saved = note_submission(view, NOTE)
    answer = await (await post_signed(client, interactive_body(saved), FORM)).json()
    assert answer["response_action"] == "update"
    assert "Note saved" in all_text(answer["view"])
    timeline = await store.list_timeline(ORG, (await _candidate_id(store)))
    notes = [e for e in timeline if e.kind == "note"]
    assert [(e.note, e.recruiter_id, e.booking_id) for e in notes] == [(NOTE, "U1", BOOKING)]

    # the profile shows it with its author; the markup in it is inert
    profile = await _reply(client, fake_slack, "candidate eb@example.com", user="U1")
    text = all_text(profile)
    assert "Note" in text and "by " in text and "second round please" in text
    assert "<!channel>" not in json.dumps(
        [b for b in profile.get("blocks", []) if b.get("text", {}).get("type") == "mrkdwn"]
    )
    # never to a channel
    assert not [m for m in fake_slack.messages("C1") if "second round" in all_text(m)]
    assert not [m for m in fake_slack.messages("C1") if "How did it go" in all_text(m)]


async def _candidate_id(store: Store) -> str:
    candidate = await store.find_candidate_by_email(ORG, "eb@example.com")
    assert candidate is not None
    return candidate.candidate_id
