"""Job kinds: each payload is stored as the same dict as before the kinds were typed, jobs
written by the first release parse and still deliver, a payload that does not parse is a
bad job with its reason, and the worker runs a kind it knows nothing about."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.alerts.render import AlertFacts
from bot.alerts.routing import alert_job
from bot.chat import DeliveryFailure, DeliveryTarget
from bot.config import Settings
from bot.errors import DeliveryError
from bot.outbox.attempt import Attempt
from bot.outbox.jobs import BadJob, Delivered, JobKind, SentMarker, job_target
from bot.outbox.kinds import job_kinds
from bot.outbox.kinds.alert import Alert
from bot.outbox.kinds.notice import Notice, notice_job
from bot.outbox.kinds.profile_disconnected import ProfileDisconnected, profile_disconnected_job
from bot.outbox.worker import SENT_NAMESPACE, OutboxWorker
from bot.runtime import Services
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import Job, MessageRef, Org
from cards.errors import notice
from cards.model import card_to_dict
from tests.bot.alerts.recording import RecordingAdapter
from tests.bot.store.test_fixture_v1 import EXPECTED, FIXTURE, STORE_KINDS, fixture_store

ORG_ID = "slack:T1"
CHANNEL = DeliveryTarget("slack", ORG_ID, "channel", conversation_id="C1")
DM = DeliveryTarget("slack", ORG_ID, "dm", user_id="U1")
TARGET_DICT = {
    "platform": "slack",
    "org_id": ORG_ID,
    "kind": "channel",
    "conversation_id": "C1",
    "user_id": None,
}


def test_the_kinds_are_found_by_their_stored_names() -> None:
    assert set(job_kinds()) == {
        "alert",
        "notice",
        "profile_disconnected",
        "agenda",
        "feedback",
        "reminder",
        "alert_removed",
        "retention",
        "webhook",
    }
    assert all(name == kind.name for name, kind in job_kinds().items())


def test_payloads_are_stored_as_the_dicts_earlier_versions_wrote() -> None:
    card = notice("Hi", "there")
    assert notice_job(ORG_ID, CHANNEL, card, now=5.0).payload == {
        "target": TARGET_DICT,
        "card": card_to_dict(card),
    }
    assert profile_disconnected_job(ORG_ID, "U1", "profile_disconnected", now=5.0).payload == {
        "subject": "U1",
        "reason": "profile_disconnected",
    }
    facts = AlertFacts(kind="booked", booking_id="b1", candidate_name="Ada", candidate_email="a@x")
    job = alert_job(Org(org_id=ORG_ID, platform="slack"), CHANNEL, facts, now=5.0, seq=3)
    assert (job.kind, job.created_at, job.not_before) == ("alert", 5.0, 5.0)
    assert json.dumps(job.payload) == json.dumps(
        {
            "target": TARGET_DICT,
            "target_name": "",
            "audience": "channel",
            "booking_id": "b1",
            "seq": 3,
            "facts": {**facts.to_dict(), "candidate_email": None},  # a channel: the name only
        }
    )


def test_every_job_of_the_first_release_parses_and_is_written_back_the_same(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "v1.db"
    shutil.copyfile(FIXTURE / EXPECTED["sqlite_file"], copy)  # never opened in place
    with sqlite3.connect(copy) as db:
        jobs = [json.loads(doc) for (doc,) in db.execute("SELECT doc FROM outbox")]
    assert len(jobs) == len(EXPECTED["shared"]["pending_jobs"]) + len(
        EXPECTED["shared"]["dead_letters"]
    )
    for job in jobs:
        kind = job_kinds()[job["kind"]]
        assert kind.parse(job["payload"]).to_dict() == job["payload"]


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        ("notice", {"target": 3}, "no target"),
        ("notice", {"target": {**TARGET_DICT, "kind": "group"}}, "target kind"),
        ("notice", {"target": {**TARGET_DICT, "platform": ""}}, "without platform"),
        ("notice", {"target": {**TARGET_DICT, "conversation_id": None}}, "conversation or user"),
        ("notice", {"target": TARGET_DICT, "card": {"blocks": [{"type": "nope"}]}}, "card"),
        ("alert", {"target": TARGET_DICT, "facts": {"booking_id": "b1"}}, "facts"),
    ],
)
def test_a_payload_that_does_not_parse_says_why(
    kind: str, payload: dict[str, Any], reason: str
) -> None:
    with pytest.raises(BadJob, match=reason):
        job_kinds()[kind].parse(payload)


def test_payloads_read_back_as_written() -> None:
    card = notice("Hi", "there")
    assert Notice.from_dict(Notice(DM, card).to_dict()) == Notice(DM, card)
    gone = ProfileDisconnected("sub_1", "profile_disconnected")
    assert ProfileDisconnected.from_dict(gone.to_dict()) == gone
    alert = Alert(CHANNEL, AlertFacts(kind="cancelled", booking_id="b1"), seq=2, target_name="x")
    assert Alert.from_dict(alert.to_dict()) == alert
    # the worker's own count of tries spent waiting sits beside the kind's fields
    assert Alert.from_dict({**alert.to_dict(), "free_tries": 2}) == alert


def test_sent_markers_keep_their_stored_shape() -> None:
    ref = MessageRef("slack", "C1", "1.0001", thread_id="1.0001", seq=2)
    reply = MessageRef("slack", "C1", "1.0002", thread_id="1.0001")
    stored = SentMarker(at=7.0, ref=ref, reply=reply).to_dict()
    assert list(stored) == ["ref", "at", "reply"]
    assert SentMarker.from_dict(stored) == SentMarker(at=7.0, ref=ref, reply=reply)
    assert SentMarker(at=7.0).to_dict() == {"at": 7.0}
    assert SentMarker.from_dict({"at": 7.0, "ref": {"platform": "slack"}}).ref is None


def test_a_dead_letter_names_where_it_was_going() -> None:
    assert job_target(notice_job(ORG_ID, DM, notice("Hi", "-"), now=1.0)) == DM
    assert job_target(profile_disconnected_job(ORG_ID, "U1", "x", now=1.0)) is None
    assert job_target(Job(job_id="j", org_id=ORG_ID, kind="notice", payload={"target": 3})) is None


# --- the worker knows no kind by name -------------------------------------------------------


@dataclass(frozen=True)
class Ping:
    target: DeliveryTarget | None
    text: str

    @property
    def seq(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "to": self.target.user_id if self.target else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ping:
        user = data.get("to")
        if not isinstance(data.get("text"), str):
            raise BadJob("no text")
        return cls(
            DeliveryTarget("slack", ORG_ID, "dm", user_id=user) if user else None, data["text"]
        )


async def ping(attempt: Attempt, payload: Ping) -> Delivered:
    if payload.target is None:
        return Delivered("-", "nothing to send")
    ref = await attempt.adapter("slack").send(payload.target, notice(payload.text, "-"))
    await attempt.record_sent(ref)
    return Delivered("slack", payload.text)


told: list[tuple[str, DeliveryFailure]] = []


async def ping_undeliverable(attempt: Attempt, payload: Ping, error: DeliveryError) -> None:
    told.append((payload.text, error.failure))


PING = JobKind(name="ping", parse=Ping.from_dict, deliver=ping, undeliverable=ping_undeliverable)


@pytest.fixture
async def worker_and_adapter(store: Store) -> AsyncIterator[tuple[OutboxWorker, RecordingAdapter]]:
    services = Services(
        settings=Settings.from_env({}),
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        clock=lambda: 1_800_000_000.0,
    )
    adapter = RecordingAdapter("slack")
    services.delivery["slack"] = adapter
    told.clear()
    yield OutboxWorker(services, consumer="t", kinds={"ping": PING}), adapter


async def test_the_worker_runs_any_kind_it_is_given(
    store: Store, worker_and_adapter: tuple[OutboxWorker, RecordingAdapter]
) -> None:
    worker, adapter = worker_and_adapter
    jobs = [PING.job(ORG_ID, Ping(DM, text), now=1.0) for text in ("one", "two")]
    silent = PING.job(ORG_ID, Ping(None, "nowhere"), now=1.0)
    bad = Job(job_id="bad", org_id=ORG_ID, kind="ping", payload={"to": "U1"})
    notice_kind = notice_job(ORG_ID, DM, notice("Hi", "-"), now=1.0)  # a kind it was not given
    # a ping whose worker died after sending: finished, not sent again (that worker's claim
    # counted an attempt: a job never claimed before has no marker to look for)
    jobs[1].attempts = 1
    await store.enqueue([*jobs, silent, bad, notice_kind])
    await store.kv_put(SENT_NAMESPACE, jobs[1].job_id, {"at": 1.0})
    while await worker.run_once():
        pass
    assert [s.card.title for s in adapter.sent] == ["one"]
    dead = {j.job_id: j.dead_reason for j in await store.list_dead_letters()}
    assert dead == {
        "bad": "bad job: no text",
        notice_kind.job_id: "bad job: unknown job kind 'notice'",
    }
    assert await store.outbox_depth() == 0 and await store.kv_list(SENT_NAMESPACE) == {}


async def test_the_worker_acts_on_the_failure_and_lets_the_kind_follow_up(
    store: Store, worker_and_adapter: tuple[OutboxWorker, RecordingAdapter]
) -> None:
    worker, adapter = worker_and_adapter
    other = DeliveryTarget("slack", ORG_ID, "dm", user_id="U2")  # a conversation of its own
    await store.enqueue([PING.job(ORG_ID, Ping(DM, "slow"), now=1.0)])
    await store.enqueue([PING.job(ORG_ID, Ping(other, "gone"), now=1.0)])
    adapter.fail_for(
        DM.key, DeliveryError("wait", failure=DeliveryFailure.RATE_LIMITED, retry_after=30.0)
    )
    adapter.fail_for(
        other.key,
        DeliveryError("no such member", failure=DeliveryFailure.GONE, reason="user_not_found"),
    )
    assert await worker.run_once() == 2
    [dead] = await store.list_dead_letters()
    assert (dead.dead_reason, dead.last_error) == ("user_not_found", "no such member")
    assert told == [("gone", DeliveryFailure.GONE)]
    assert await store.outbox_depth() == 1  # the rate-limited one waits for its next try


@pytest.fixture(params=STORE_KINDS)
async def v1_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    store = fixture_store(request, tmp_path)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def test_the_pending_jobs_of_the_first_release_still_deliver(v1_store: Store) -> None:
    services = Services(
        settings=Settings.from_env({}),
        store=v1_store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        clock=lambda: 1_900_000_000.0,  # long after every job was due, and its leases expired
    )
    adapters = [RecordingAdapter("slack"), RecordingAdapter("teams")]
    services.delivery.update({a.platform: a for a in adapters})
    worker = OutboxWorker(services, consumer="t", visibility_timeout=0.01)
    await asyncio.sleep(0.05)  # a Redis entry is claimable once idle longer than the timeout
    while await worker.run_once():
        pass
    assert await v1_store.outbox_depth() == 0
    assert len(await v1_store.list_dead_letters(limit=100)) == len(
        EXPECTED["shared"]["dead_letters"]
    )
    # every pending job was sent, but the one whose worker died after sending it
    marked = set(EXPECTED["by_store"]["sqlite"]["kv"]["outbox_sent"])
    pending = [j for j in EXPECTED["shared"]["pending_jobs"] if j["job_id"] not in marked]
    assert len(pending) == len(EXPECTED["shared"]["pending_jobs"]) - 1
    sent = [s.target.key for a in adapters for s in a.sent]
    assert sorted(sent) == sorted(j["target"] for j in pending)


async def test_a_kind_may_wait_longer_than_the_worker_before_a_dead_letter(store: Store) -> None:
    now = [1_800_000_000.0]
    services = Services(
        settings=Settings.from_env({}),
        store=store,
        secrets=SecretBox([Fernet.generate_key().decode()]),
        clock=lambda: now[0],
    )
    adapter = RecordingAdapter("slack")
    services.delivery["slack"] = adapter
    patient = dataclasses.replace(PING, name="patient", max_attempts=5)
    worker = OutboxWorker(
        services, consumer="t", kinds={"ping": PING, "patient": patient}, max_attempts=2
    )
    other = DeliveryTarget("slack", ORG_ID, "dm", user_id="U2")
    await store.enqueue(
        [
            PING.job(ORG_ID, Ping(DM, "ping"), now=now[0]),
            patient.job(ORG_ID, Ping(other, "patient"), now=now[0]),
        ]
    )
    adapter.fail_for(DM.key, *[DeliveryError("down")] * 10)
    adapter.fail_for(other.key, *[DeliveryError("down")] * 10)
    tries = 0
    while await store.outbox_depth() and tries < 20:
        await worker.run_once()
        now[0] += 3600  # past any backoff
        tries += 1
    dead = sorted((j.kind, j.attempts) for j in await store.list_dead_letters())
    assert dead == [("patient", 5), ("ping", 2)]
