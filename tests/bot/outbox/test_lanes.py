from bot.chat import DeliveryTarget
from bot.outbox import notice_job
from bot.outbox.kinds.notice import Notice
from bot.outbox.lanes import LANE_NAMESPACE, LANE_STEP, HeldLane, lane_key, live_entries
from bot.store.records import Job
from cards.errors import notice

TARGET = DeliveryTarget("slack", "slack:T1", "channel", conversation_id="C1")


def _job(created: float, text: str = "Hi") -> tuple[Job, Notice]:
    job = notice_job("slack:T1", TARGET, notice(text, "-"), now=created)
    return job, Notice(TARGET, notice(text, "-"))


def test_a_lanes_key_is_its_org_and_conversation() -> None:
    job, _ = _job(1.0)
    assert lane_key(job, TARGET) == "slack:T1|channel:C1"


def test_live_entries_drop_the_job_in_hand_the_malformed_and_the_long_gone() -> None:
    job, _ = _job(1.0)
    raw = {
        job.job_id: {"order": [1.0, 0, job.job_id], "until": 50.0},
        "ok": {"order": [0.5, 0, "ok"], "until": 50.0},
        "stale": {"order": [0.5, 0, "stale"], "until": 9.0},
        "no-until": {"order": [0.5, 0, "x"]},
        "bad-order": {"order": "x", "until": 50.0},
        "not-a-dict": 3,
    }
    assert list(live_entries(raw, job, stale_before=10.0)) == ["ok"]
    assert live_entries(["not", "a", "dict"], job, stale_before=0) == {}


def test_a_job_waits_for_an_older_entry_only() -> None:
    job, payload = _job(5.0)
    older = {"order": [1.0, 0, "a"], "until": 40.0}
    newer = {"order": [9.0, 0, "b"], "until": 70.0}
    held = HeldLane("L", 3, {"a": older, "b": newer}, taken_at=0.0)
    assert held.wait_until(job, payload, now=20.0) == 40.0 + LANE_STEP
    assert held.wait_until(job, payload, now=60.0) == 60.0 + LANE_STEP
    held.pending = {"b": newer}
    assert held.wait_until(job, payload, now=20.0) is None


def test_an_entry_hands_the_lease_on_unless_it_is_kept() -> None:
    job, payload = _job(5.0)
    held = HeldLane("L", 3, {}, taken_at=0.0)
    held.keep = True
    kept = held.entry(job, payload, 99.0)
    assert kept[:2] == (LANE_NAMESPACE, "L") and kept[2]["gen"] == 3
    assert kept[2]["pending"] == {job.job_id: {"order": [5.0, 0, job.job_id], "until": 99.0}}
    assert held.pending == {}  # nothing changes until the entry is stored
    held.wrote(kept)
    assert held.written and not held.left and job.job_id in held.pending
    assert held.handed_on()[2]["gen"] == 4
    held.start(job, now=10.0, visibility_timeout=60.0)
    assert not held.keep and not held.written and held.pending == {}  # its own entry is dropped
    handed = held.entry(job, payload, None)
    assert handed[2] == {"gen": 4, "pending": {}}
    held.wrote(handed)
    assert held.left


def test_a_lease_is_young_for_a_quarter_of_its_time_to_live() -> None:
    held = HeldLane("L", 0, {}, taken_at=100.0)
    assert held.young(114.9, 60.0) and not held.young(115.0, 60.0)
