"""The "reminder" job on both stores: sent to its member at its time with the time in their
zone, dropped when late, when its booking moved or was cancelled, when the member left the
panel or turned reminders off; a payload it cannot read is dead-lettered."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from bot.chat import DeliveryTarget
from bot.config import Settings
from bot.outbox.kinds.reminder import KIND, Reminder
from bot.outbox.worker import OutboxWorker
from bot.runtime import Services
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import Booking, Job, Member
from bot.timers import reminder_key
from cards import actions
from cards.text import to_text
from tests.bot.alerts.pipeline import Clock
from tests.bot.alerts.recording import RecordingAdapter

ORG = "slack:T1"
START = datetime(2027, 1, 5, 10, 0, tzinfo=UTC).timestamp()
START_ISO = "2027-01-05T10:00:00Z"
DUE = START - 15 * 60


def booking(**changes: object) -> Booking:
    base = Booking(
        org_id=ORG,
        booking_id="b1",
        candidate_id="cand1",
        recruiter_id="U1",
        state="booked",
        start=START_ISO,
        end="2027-01-05T10:30:00Z",
        zone="Europe/London",
        meeting_url="https://meet.example.com/abc",
        attendees=["panel@example.com"],
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def reminder_job(user_id: str = "U2") -> Job:
    payload = Reminder(
        target=DeliveryTarget("slack", ORG, "dm", user_id=user_id),
        booking_id="b1",
        start=START_ISO,
        end="2027-01-05T10:30:00Z",
        zone="Europe/London",
        candidate_id="cand1",
        candidate_name="Dr Emmet Brown",
        meeting_url="https://meet.example.com/abc",
    )
    return KIND.timer(ORG, payload, key=reminder_key(ORG, "b1", user_id), due=DUE, now=DUE - 3600)


@pytest.fixture
async def world(store: Store) -> tuple[Services, RecordingAdapter, Clock]:
    clock = Clock(DUE)
    services = Services(
        settings=Settings.from_env({}),
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        clock=clock,
    )
    adapter = RecordingAdapter("slack")
    services.delivery["slack"] = adapter
    await store.put_member(Member(org_id=ORG, user_id="U1", connected=True, zone="Europe/Paris"))
    # on the panel by email, no zone known
    await store.put_member(
        Member(org_id=ORG, user_id="U2", connected=True, email="Panel@example.com")
    )
    await store.put_booking(booking())
    return services, adapter, clock


async def run(services: Services) -> list[str]:
    results: list[str] = []
    worker = OutboxWorker(services, consumer="t", on_delivery=lambda _p, r: results.append(r))
    await worker.run_once()
    return results


async def test_a_due_reminder_is_sent_with_the_time_in_the_readers_zone(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, clock = world
    await services.store.enqueue([reminder_job("U1"), reminder_job("U2")])
    clock.now = DUE - 1
    assert await run(services) == [], "not before its time"
    clock.now = DUE
    assert await run(services) == ["delivered", "delivered"]
    by_user = {sent.target.user_id: sent.card for sent in adapter.sent}
    recruiter, panel = to_text(by_user["U1"]), to_text(by_user["U2"])
    assert "Dr Emmet Brown" in recruiter and "in 15 minutes" in recruiter
    assert "11:00" in recruiter and "Europe/Paris" in recruiter, recruiter
    assert "https://meet.example.com/abc" in recruiter
    assert "10:00\u201310:30 UTC" in panel and "Times in UTC" in panel, panel
    assert "Times in UTC" not in recruiter
    buttons = [b for b in by_user["U1"].buttons if b.action_id == actions.CANDIDATE_PROFILE]
    assert [b.value for b in buttons] == ["cand1"]
    assert await services.store.outbox_depth() == 0


async def test_a_reminder_fired_after_the_interview_began_is_dropped_as_late(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, clock = world
    await services.store.enqueue([reminder_job()])
    clock.now = START + 1  # every process was down through the window
    assert await run(services) == ["late"]
    assert adapter.sent == [] and await services.store.outbox_depth() == 0


@pytest.mark.parametrize(
    "changed",
    [
        {"start": "2027-01-05T12:00:00Z"},  # moved (its own new timer comes from the change)
        {"state": "cancelled"},
        {"state": "declined"},
        {"attendees": []},  # the member is no longer on the panel
    ],
)
async def test_a_reminder_whose_booking_changed_since_is_dropped(
    world: tuple[Services, RecordingAdapter, Clock], changed: dict[str, object]
) -> None:
    services, adapter, _clock = world
    await services.store.put_booking(booking(**changed))
    await services.store.enqueue([reminder_job()])
    assert await run(services) == ["stale"]
    assert adapter.sent == []


async def test_a_reminder_for_a_gone_booking_or_a_member_who_turned_them_off_is_dropped(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _clock = world
    member = await services.store.get_member(ORG, "U2")
    assert member is not None
    member.reminder_minutes = None
    await services.store.put_member(member)
    await services.store.enqueue([reminder_job()])
    assert await run(services) == ["stale"]
    await services.store.enqueue([reminder_job("U1")])
    other = dataclasses.replace(reminder_job("U1"), job_id="j-gone", timer_key="gone")
    other.payload["booking_id"] = "never-booked"
    await services.store.enqueue([other])
    assert sorted(await run(services)) == ["delivered", "stale"]
    assert [s.target.user_id for s in adapter.sent] == ["U1"]


@pytest.mark.parametrize(
    "broken",
    [
        {"target": {"platform": "slack", "org_id": ORG, "kind": "channel", "conversation_id": "C"}},
        {"booking_id": ""},
        {"start": "not a time"},
        {"meeting_url": 3},
    ],
)
async def test_a_reminder_it_cannot_read_is_dead_lettered(
    world: tuple[Services, RecordingAdapter, Clock], broken: dict[str, object]
) -> None:
    services, adapter, _clock = world
    job = reminder_job()
    job.payload.update(broken)
    await services.store.enqueue([job])
    assert await run(services) == ["dead"]
    assert adapter.sent == []


async def test_two_workers_send_a_due_reminder_once(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _clock = world
    await services.store.enqueue([reminder_job()])
    first = OutboxWorker(services, consumer="w1")
    second = OutboxWorker(services, consumer="w2")
    claimed = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(claimed) == [0, 1]
    assert len(adapter.sent) == 1 and await services.store.outbox_depth() == 0


async def test_a_booking_moved_while_its_reminder_is_sent_gives_one_stale_reminder_at_most(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    """The race the README admits: the reminder had read the booking and was sending when
    the reschedule landed. That one goes out (stale); the moved one comes at its own time;
    nothing is sent twice."""
    services, adapter, clock = world
    store = services.store
    await store.enqueue([reminder_job()])
    adapter.hold_sends()
    sending = asyncio.create_task(OutboxWorker(services, consumer="w1").run_once())
    await asyncio.wait_for(adapter.send_started.wait(), 5.0)
    # the reschedule's write: the booking moves a day, the same key is set a day later
    later = "2027-01-06T10:00:00Z"
    await store.put_booking(booking(start=later, state="rescheduled"))
    moved = Reminder.from_dict(reminder_job().payload)
    moved = dataclasses.replace(moved, start=later, end=None)
    await store.enqueue(
        [KIND.timer(ORG, moved, key=reminder_key(ORG, "b1", "U2"), due=DUE + 86400, now=DUE)]
    )
    adapter.release()
    await asyncio.wait_for(sending, 5.0)
    assert len(adapter.sent) == 1, "the stale one, already on its way"
    clock.now = DUE + 3600
    assert await run(services) == [], "the old time sends nothing more"
    clock.now = DUE + 86400
    assert await run(services) == ["delivered"]
    assert len(adapter.sent) == 2 and await store.outbox_depth() == 0
