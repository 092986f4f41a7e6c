"""The "feedback" job: the prompt goes to the interviewer once, unless the booking was
cancelled or moved, notes were turned off, or it fired more than 3 days after the end."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from cryptography.fernet import Fernet

from bot.chat import DeliveryTarget
from bot.config import Settings
from bot.outbox.jobs import BadJob
from bot.outbox.kinds import feedback
from bot.outbox.kinds.feedback import FeedbackPrompt
from bot.outbox.worker import OutboxWorker
from bot.runtime import Services
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import Booking, Candidate, Org
from bot.timers import feedback_key
from bot.timeutil import epoch_of
from cards import actions
from cards.feedback import NoteTarget
from tests.bot.alerts.recording import RecordingAdapter

ORG_ID = "teams:tenant"
END = "2027-01-05T10:45:00Z"
END_AT = epoch_of(END) or 0.0
TARGET = DeliveryTarget("teams", ORG_ID, "dm", user_id="aad-ivan")
PROMPT = FeedbackPrompt(TARGET, "srq_1", "cand_1", "2027-01-05T10:00:00Z")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def prepared(store: Store, now: float) -> tuple[Services, RecordingAdapter, Clock]:
    clock = Clock(now)
    services = Services(
        settings=Settings.from_env({}),
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        clock=clock,
    )
    adapter = RecordingAdapter("teams")
    services.delivery["teams"] = adapter
    await store.put_org(Org(org_id=ORG_ID, platform="teams"))
    await store.put_candidate(Candidate(ORG_ID, "cand_1", "jane@example.com", "Jane *Doe*"))
    await store.put_booking(
        Booking(
            ORG_ID,
            "srq_1",
            candidate_id="cand_1",
            recruiter_id="aad-rita",
            start="2027-01-05T10:00:00Z",
            end=END,
        )
    )
    key = feedback_key(ORG_ID, "srq_1", "aad-ivan")
    await store.enqueue([feedback.KIND.timer(ORG_ID, PROMPT, key=key, due=END_AT + 900, now=1.0)])
    return services, adapter, clock


async def fire(services: Services) -> list[str]:
    results: list[str] = []
    worker = OutboxWorker(services, consumer="t", on_delivery=lambda p, r: results.append(r))
    await worker.run_once()
    return results


async def test_the_prompt_waits_for_its_time_then_goes_to_the_interviewer_once(
    store: Store,
) -> None:
    services, adapter, clock = await prepared(store, END_AT + 60)
    assert await fire(services) == [], "not due before end + 15 minutes"
    clock.now = END_AT + 901
    assert await fire(services) == ["delivered"]
    [sent] = adapter.sent
    assert sent.target == TARGET
    assert sent.card.title == "How did it go with Jane *Doe*?"
    [button] = sent.card.buttons
    assert button.action_id == actions.ADD_NOTE
    assert NoteTarget.decode(button.value) == NoteTarget("cand_1", "srq_1")
    assert await fire(services) == [] and len(adapter.sent) == 1
    assert await store.outbox_depth() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"state": "cancelled"},
        {"state": "declined"},
        {"start": "2027-01-06T10:00:00Z", "end": "2027-01-06T10:45:00Z"},  # moved
    ],
)
async def test_a_booking_cancelled_or_moved_since_is_not_asked_about(
    store: Store, change: dict[str, str]
) -> None:
    services, adapter, _clock = await prepared(store, END_AT + 901)
    booking = await store.get_booking(ORG_ID, "srq_1")
    assert booking is not None
    await store.put_booking(dataclasses.replace(booking, **change))  # type: ignore[arg-type]
    assert await fire(services) == ["delivered"]  # done with, nothing sent
    assert adapter.sent == [] and await store.outbox_depth() == 0
    assert await store.list_dead_letters() == []


async def test_notes_turned_off_meanwhile_send_nothing(store: Store) -> None:
    services, adapter, _clock = await prepared(store, END_AT + 901)
    await store.put_org(Org(org_id=ORG_ID, platform="teams", feedback=False))
    await fire(services)
    assert adapter.sent == [] and await store.outbox_depth() == 0


async def test_still_sent_within_three_days_dropped_late_after(store: Store) -> None:
    services, adapter, _clock = await prepared(store, END_AT + 3 * 24 * 3600 - 1)
    assert await fire(services) == ["delivered"] and len(adapter.sent) == 1

    services, adapter, _clock = await prepared(store, END_AT + 3 * 24 * 3600 + 1)
    assert await fire(services) == ["late"]
    assert adapter.sent == [] and await store.outbox_depth() == 0


def test_payloads_round_trip_and_bad_ones_are_refused() -> None:
    assert FeedbackPrompt.from_dict(PROMPT.to_dict()) == PROMPT
    good = PROMPT.to_dict()
    channel = {"platform": "teams", "org_id": ORG_ID, "kind": "channel", "conversation_id": "19:x"}
    for bad in (
        {**good, "target": channel},  # a note prompt never goes to a channel
        {**good, "booking_id": ""},
        {**good, "candidate_id": 3},
        {**good, "start": None},
        {k: v for k, v in good.items() if k != "target"},
    ):
        with pytest.raises(BadJob):
            FeedbackPrompt.from_dict(bad)


async def test_two_workers_at_the_due_time_send_the_prompt_once(store: Store) -> None:
    services, adapter, _clock = await prepared(store, END_AT + 901)
    workers = [OutboxWorker(services, consumer=name) for name in ("a", "b")]
    await asyncio.gather(*(worker.run_once() for worker in workers))
    await asyncio.gather(*(worker.run_once() for worker in workers))
    assert len(adapter.sent) == 1 and await store.outbox_depth() == 0
