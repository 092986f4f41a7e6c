"""The day's agenda on both stores: the command sets a member's morning timer, the worker
fires it, the DM lists that local day's interviews, and the next morning is set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from bot.chat import Actor, Conversation, Turn
from bot.commands import handle_turn
from bot.config import Settings
from bot.errors import StoreError
from bot.outbox.kinds import agenda as agenda_kind
from bot.outbox.worker import OutboxWorker
from bot.runtime import Services
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import Booking, Candidate, Job, Member, Org
from bot.timers import agenda_key
from cards.text import to_text
from tests.bot.alerts.recording import RecordingAdapter

ORG = "slack:T1"
USER = "U_REC"
KEY = agenda_key(ORG, USER)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


# Saturday evening before Europe's spring-forward Sunday (2026-03-29, 01:00 UTC)
SATURDAY_EVENING = utc("2026-03-28T20:00:00")


@pytest.fixture
async def world(store: Store) -> tuple[Services, RecordingAdapter, Clock]:
    clock = Clock(SATURDAY_EVENING)
    services = Services(
        settings=Settings.from_env({}),
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        clock=clock,
    )
    adapter = RecordingAdapter("slack")
    services.delivery["slack"] = adapter
    await store.put_org(Org(org_id=ORG, platform="slack"))
    await store.put_member(
        Member(ORG, USER, display_name="rec", email="rec@example.com", connected=True)
    )
    return services, adapter, clock


async def say(services: Services, text: str, zone: str | None = "Europe/London") -> str:
    turn = Turn(
        Actor("slack", ORG, USER, display_name="rec"),
        Conversation("slack", ORG, "D1", kind="dm"),
        "command",
        text=text,
        zone=zone,
    )
    [reply] = await handle_turn(services, turn)
    assert reply.visibility == "private"
    return to_text(reply.card)


async def book(
    store: Store,
    booking_id: str,
    start: str,
    *,
    recruiter: str | None = USER,
    state: str = "booked",
    attendees: list[str] | None = None,
    name: str = "",
) -> None:
    candidate_id = f"cand-{booking_id}"
    await store.put_candidate(
        Candidate(ORG, candidate_id, f"{booking_id}@example.com", name or f"Cand {booking_id}")
    )
    await store.put_booking(
        Booking(
            ORG,
            booking_id,
            candidate_id=candidate_id,
            recruiter_id=recruiter,
            state=state,
            start=start,
            meeting_url=f"https://meet.example.com/{booking_id}",
            attendees=attendees or [],
        )
    )


async def fire(services: Services, at: float) -> int:
    assert isinstance(services.clock, Clock)
    services.clock.now = at
    return await OutboxWorker(services, consumer="w").run_once()


async def due_of(store: Store) -> str:
    timer = await store.get_timer(KEY)
    assert timer is not None
    return when(timer.not_before)


async def test_the_morning_lists_that_days_interviews_across_a_dst_change(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _ = world
    store = services.store
    answer = await say(services, "schedule agenda on")
    assert "Daily agenda on" in answer and "Europe/London" in answer
    assert await due_of(store) == "2026-03-29 07:30"  # 08:30 BST, the first morning of BST
    await book(store, "mine", "2026-03-29T09:00:00Z", name="Ada Lovelace")
    # on the panel only, its start written with an offset
    panel = ["rec@example.com"]
    await book(store, "panel", "2026-03-29T13:00:00+01:00", recruiter="U_OTHER", attendees=panel)
    await book(store, "gone", "2026-03-29T10:00:00Z", state="cancelled")
    await book(store, "tomorrow", "2026-03-30T09:00:00Z")
    await book(store, "late-night", "2026-03-29T23:30:00Z")  # 00:30 BST on Monday
    await book(store, "someone-else", "2026-03-29T11:00:00Z", recruiter="U_OTHER")
    assert await fire(services, utc("2026-03-29T07:29:59")) == 0  # not before its time
    assert await fire(services, utc("2026-03-29T07:30:00")) == 1
    [sent] = adapter.sent
    assert sent.target.kind == "dm" and sent.target.user_id == USER
    text = to_text(sent.card)
    assert "Sunday 29 March" in text and "Ada Lovelace" in text and "Cand panel" in text
    assert "https://meet.example.com/mine" in text
    for absent in ("gone", "tomorrow", "late-night", "someone-else"):
        assert f"Cand {absent}" not in text
    assert "your time zone, Europe/London" in text
    assert await due_of(store) == "2026-03-30 07:30"  # the next morning, same key


async def test_a_day_without_interviews_sends_nothing_and_sets_the_next(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _ = world
    await say(services, "schedule agenda on 07:00", zone="America/New_York")
    assert await due_of(services.store) == "2026-03-29 11:00"  # 07:00 EDT
    assert await fire(services, utc("2026-03-29T11:00:00")) == 1
    assert adapter.sent == []
    assert await due_of(services.store) == "2026-03-30 11:00"


async def test_fired_after_local_noon_it_is_dropped_as_late_and_the_next_set(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _ = world
    await say(services, "schedule agenda on")
    await book(services.store, "mine", "2026-03-29T15:00:00Z")
    results: list[str] = []
    worker = OutboxWorker(services, consumer="w", on_delivery=lambda _p, r: results.append(r))
    services.clock.now = utc("2026-03-29T11:00:01")  # type: ignore[attr-defined]
    assert await worker.run_once() == 1
    assert adapter.sent == [] and results == ["late"]
    assert await due_of(services.store) == "2026-03-30 07:30"


async def test_an_afternoon_agenda_is_not_late_at_its_time_but_an_hour_after(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _ = world
    await say(services, "schedule agenda on 14:00")
    await book(services.store, "mine", "2026-03-29T15:00:00Z")
    assert await fire(services, utc("2026-03-29T13:00:00")) == 1  # 14:00 BST
    assert len(adapter.sent) == 1
    assert await due_of(services.store) == "2026-03-30 13:00"
    results: list[str] = []
    worker = OutboxWorker(services, consumer="w", on_delivery=lambda _p, r: results.append(r))
    services.clock.now = utc("2026-03-30T14:00:01")  # type: ignore[attr-defined]
    assert await worker.run_once() == 1
    assert results == ["late"] and len(adapter.sent) == 1


async def test_off_cancels_and_a_timer_already_firing_sends_nothing_more(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _ = world
    store = services.store
    await say(services, "schedule agenda on")
    await book(store, "mine", "2026-03-29T09:00:00Z")
    in_flight = await store.claim_jobs(
        "other", limit=1, visibility_timeout=60, now=utc("2026-03-30")
    )
    assert "Daily agenda off" in await say(services, "schedule agenda off")
    assert await store.get_timer(KEY) is None
    assert "already off" in await say(services, "schedule agenda off")
    # the job a worker held when it was turned off reads "off": no message, no next timer
    [held] = in_flight
    payload = agenda_kind.Agenda.from_dict(held.payload)
    assert payload.day.isoformat() == "2026-03-29"
    await store.enqueue([held])
    assert await fire(services, utc("2026-03-29T07:30:00")) == 1
    assert adapter.sent == [] and await store.get_timer(KEY) is None
    assert "Daily agenda: off" in await say(services, "schedule agenda")


async def test_a_member_without_a_zone_gets_the_org_default_and_is_told(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, _ = world
    store = services.store
    answer = await say(services, "schedule agenda on 09:00", zone=None)
    assert "UTC, your organisation's default" in answer
    assert await due_of(store) == "2026-03-29 09:00"
    await book(store, "mine", "2026-03-29T10:00:00Z")
    assert await fire(services, utc("2026-03-29T09:00:00")) == 1
    assert "UTC, your organisation's default" in to_text(adapter.sent[0].card)
    # an org that says its zone: the member's next morning is kept in it
    org = await store.get_org(ORG)
    assert org is not None
    org.default_zone = "Asia/Tokyo"
    await store.put_org(org)
    assert "Asia/Tokyo, your organisation's default" in await say(
        services, "schedule agenda on 09:00", zone="Not/AZone"
    )
    assert await due_of(store) == "2026-03-30 00:00"  # 09:00 JST


async def test_a_bad_time_gets_a_clear_answer_and_changes_nothing(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, _, _ = world
    answer = await say(services, "schedule agenda on 8.30")
    assert "is not a time of day" in answer and "HH:MM" in answer
    assert await services.store.get_timer(KEY) is None
    member = await services.store.get_member(ORG, USER)
    assert member is not None and member.agenda_at is None


async def test_a_worker_that_fails_after_sending_is_not_followed_by_a_second_message(
    world: tuple[Services, RecordingAdapter, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, adapter, _ = world
    store = services.store
    await say(services, "schedule agenda on")
    await book(store, "mine", "2026-03-29T09:00:00Z")
    real_enqueue = store.enqueue
    failures = [StoreError("store went away")]

    async def enqueue_failing_once(jobs: list[Job]) -> None:
        if failures:
            raise failures.pop()
        await real_enqueue(jobs)

    monkeypatch.setattr(store, "enqueue", enqueue_failing_once)
    assert await fire(services, utc("2026-03-29T07:30:00")) == 1  # sent, then the next failed
    assert len(adapter.sent) == 1
    monkeypatch.setattr(store, "enqueue", real_enqueue)
    assert await fire(services, utc("2026-03-29T08:00:00")) == 1  # tried again: marker found
    assert len(adapter.sent) == 1
    assert await due_of(store) == "2026-03-30 07:30"


async def test_two_workers_send_one_agenda_once(
    world: tuple[Services, RecordingAdapter, Clock],
) -> None:
    services, adapter, clock = world
    await say(services, "schedule agenda on")
    await book(services.store, "mine", "2026-03-29T09:00:00Z")
    clock.now = utc("2026-03-29T07:30:00")
    workers = [OutboxWorker(services, consumer=name) for name in ("a", "b")]
    counts = await asyncio.gather(*(w.run_once() for w in workers))
    assert sorted(counts) == [0, 1] and len(adapter.sent) == 1
    assert await due_of(services.store) == "2026-03-30 07:30"


def test_payloads_that_cannot_be_an_agenda_are_bad_jobs() -> None:
    target = {"platform": "slack", "org_id": ORG, "kind": "dm", "conversation_id": None}
    target["user_id"] = USER
    good = {"target": target, "day": "2026-03-29", "zone": "Europe/London"}
    assert agenda_kind.Agenda.from_dict(good).to_dict() == good
    for bad in (
        {**good, "day": "Sunday"},
        {**good, "zone": "Mars/Base"},
        {**good, "day": None},
        {**good, "target": {**target, "kind": "channel", "conversation_id": "C1"}},
    ):
        with pytest.raises(agenda_kind.BadJob):
            agenda_kind.Agenda.from_dict(bad)
