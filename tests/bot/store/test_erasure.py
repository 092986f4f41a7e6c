"""What an erasure recognises as the candidate's (`bot.store.erasure`), what retention counts
as old, and the SQLite connection's secure_delete (erased rows overwritten in the file)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.store.erasure import ErasureCounts, Traces, booking_is_older
from bot.store.records import Booking, Candidate
from bot.store.sqlite import SQLiteStore

ANN = Candidate(org_id="o", candidate_id="c1", email="Ann@Example.com", name="Ann")
TRACES = Traces.of(ANN, [Booking(org_id="o", booking_id="b1", candidate_id="c1")])


def test_a_job_is_hers_by_email_id_booking_or_exact_name() -> None:
    assert TRACES.in_job(json.dumps({"text": "write to ann@example.com today"}))
    assert TRACES.in_job(json.dumps({"facts": {"candidate_id": "c1"}}))
    assert TRACES.in_job(json.dumps({"booking_id": "b1"}))
    assert TRACES.in_job(json.dumps({"facts": {"candidate_name": "Ann"}}))
    assert TRACES.in_job("{}", timer_key="feedback|o|b1|U1")


def test_a_full_name_counts_inside_a_sentence() -> None:
    emmet = Traces.of(Candidate("o", "c2", "eb@example.com", "Emmet Brown"), [])
    assert emmet.in_job(json.dumps({"card": {"text": "How did it go with EMMET BROWN?"}}))
    assert not emmet.in_job(json.dumps({"card": {"text": "How did it go with Emmet?"}}))


def test_a_name_inside_another_word_or_another_id_is_not_hers() -> None:
    assert not TRACES.in_job(json.dumps({"text": "Annual review", "booking_id": "b10"}))
    assert not TRACES.in_job(json.dumps({"candidate_id": "c11"}))
    assert not TRACES.in_job("{}", timer_key="agenda|o|U1")


def test_a_booking_is_old_by_its_end_then_start_then_last_change() -> None:
    ended = Booking("o", "b", start="1970-01-01T00:01:00Z", end="1970-01-01T00:02:00Z")
    assert booking_is_older(ended, 121.0) and not booking_is_older(ended, 120.0)
    started = Booking("o", "b", start="1970-01-01T00:01:00Z")
    assert booking_is_older(started, 61.0)
    unknown = Booking("o", "b", updated_at=50.0)
    assert booking_is_older(unknown, 51.0) and not booking_is_older(unknown, 50.0)
    unreadable = Booking("o", "b", start="soon", updated_at=1.0)
    assert not booking_is_older(unreadable, 1e12)


def test_counts_add_and_total() -> None:
    both = ErasureCounts(timeline=2, jobs=1) + ErasureCounts(timeline=1, bookings=1)
    assert both.to_dict()["timeline"] == 3 and both.total == 5


async def test_sqlite_overwrites_what_it_deletes(tmp_path: Path) -> None:
    # some builds of SQLite default to secure_delete, others not: the store asks for it
    store = SQLiteStore(str(tmp_path / "s.db"))
    await store.open()
    try:
        row = await store._call(lambda db: db.execute("PRAGMA secure_delete").fetchone())
        assert row == (1,)
    finally:
        await store.close()
