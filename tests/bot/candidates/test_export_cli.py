"""`python -m bot export --org … [--format jsonl|csv] [--out FILE]`: every candidate of one org
with their timeline, read-only (a missing SQLite store is an error, not a new file)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import stat
from pathlib import Path

from bot.candidates.cli import org_records
from bot.store.base import Store
from bot.store.records import Candidate, TimelineEntry
from bot.store.sqlite import SQLiteStore
from tests.scenarios.test_serve import run_cli

ORG = "slack:T1"


async def fill(store: Store) -> None:
    await store.put_candidate(Candidate(ORG, "c2", "bob@example.com", "=HYPERLINK(1)", "U1", 5.0))
    await store.put_candidate(Candidate(ORG, "c1", "ann@example.com", "Ann Lee", "U1", 1.0))
    await store.put_candidate(Candidate("slack:T2", "c9", "zed@example.com", "Zed"))
    for at in (10.0, 20.0):
        await store.append_timeline(ORG, "c1", TimelineEntry("booked", at=at, booking_id="b1"))
    await store.append_timeline("slack:T2", "c9", TimelineEntry("booked", at=1.0))


async def test_org_records_hold_its_candidates_with_their_timelines(store: Store) -> None:
    await fill(store)
    records = await org_records(store, ORG)
    assert [r["candidate_id"] for r in records] == ["c1", "c2"]
    assert [e["at"] for e in records[0]["timeline"]] == [10.0, 20.0]
    assert records[1]["timeline"] == []


def _sqlite(tmp_path: Path) -> str:
    path = tmp_path / "data" / "slotbot.db"
    path.parent.mkdir()

    async def make() -> None:
        store = SQLiteStore(str(path))
        await store.open()
        try:
            await fill(store)
        finally:
            await store.close()

    asyncio.run(make())
    return f"sqlite:///{path}"


def test_jsonl_to_stdout(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    result = run_cli(tmp_path, "export", "--org", ORG, BOT_STORE_URL=url)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["email"], len(r["timeline"])) for r in lines] == [
        ("ann@example.com", 2),
        ("bob@example.com", 0),
    ]
    assert "zed@example.com" not in result.stdout  # another org's


def test_csv_to_a_private_file_with_formulas_defused(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    out = tmp_path / "ann.csv"
    result = run_cli(
        tmp_path, "export", "--org", ORG, "--format", "csv", "--out", str(out), BOT_STORE_URL=url
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["candidate_id"], r["at"]) for r in rows] == [
        ("c1", "10.0"),
        ("c1", "20.0"),
        ("c2", ""),
    ]
    assert rows[2]["name"] == "'=HYPERLINK(1)"


def test_a_missing_store_is_an_error_and_stays_missing(tmp_path: Path) -> None:
    path = tmp_path / "none" / "slotbot.db"
    result = run_cli(tmp_path, "export", "--org", ORG, BOT_STORE_URL=f"sqlite:///{path}")
    assert result.returncode == 1 and "no SQLite store" in result.stderr
    assert not path.exists()


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    assert run_cli(tmp_path, "export", BOT_STORE_URL=url).returncode == 2
    bad = run_cli(tmp_path, "export", "--org", ORG, "--format", "xml", BOT_STORE_URL=url)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
