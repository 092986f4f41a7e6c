"""The feeds the read API pages through (`bot.store.feeds`), on every store."""

from __future__ import annotations

import pytest

from bot.store.base import Store
from bot.store.feeds import BadPosition
from bot.store.records import AuditEntry, Candidate, EventWrite, TimelineEntry

ORG = "slack:T1"
OTHER = "teams:tenant-2"


async def _fill(store: Store) -> list[tuple[str, str]]:
    """Events of two candidates interleaved, through both ways a timeline grows; another
    org's events in between. Returns (candidate, kind) in the order written."""
    written: list[tuple[str, str]] = []
    for i in range(7):
        candidate = "c1" if i % 2 == 0 else "c2"
        kind = f"k{i}"
        entry = TimelineEntry(kind=kind, at=100.0 + i)
        if i % 3 == 0:
            await store.commit_event(
                EventWrite(
                    dedupe_key=f"d{i}",
                    dedupe_ttl=60,
                    org_id=ORG,
                    candidate=Candidate(ORG, candidate, f"{candidate}@example.com"),
                    timeline=entry,
                )
            )
        else:
            await store.append_timeline(ORG, candidate, entry)
        await store.append_timeline(OTHER, "x", TimelineEntry(kind="other-org", at=1.0 + i))
        written.append((candidate, kind))
    return written


async def test_events_in_order_a_page_at_a_time_resuming_exactly(store: Store) -> None:
    written = await _fill(store)
    seen: list[tuple[str, str]] = []
    after = None
    for _ in range(10):
        page = await store.list_org_events(ORG, after, limit=3)
        assert len(page.rows) <= 3
        if not page.rows:
            assert page.last is None
            break
        seen += [(row.candidate_id, row.entry.kind) for row in page.rows]
        assert page.last == page.rows[-1].position
        after = page.last
    assert seen == written
    whole = await store.list_org_events(ORG, None, limit=500)
    assert [(r.candidate_id, r.entry.kind) for r in whole.rows] == written
    # resuming from the middle gives exactly the rest
    middle = whole.rows[3].position
    rest = await store.list_org_events(ORG, middle, limit=500)
    assert [r.entry.kind for r in rest.rows] == [k for _, k in written[4:]]
    other = await store.list_org_events(OTHER, None, limit=500)
    assert {r.entry.kind for r in other.rows} == {"other-org"}


async def test_bad_positions_and_limits_are_refused(store: Store) -> None:
    for bad in ("abc", "-1", "1.5", "", "9" * 40, "1-2-3", "0x10"):
        with pytest.raises(BadPosition):
            await store.list_org_events(ORG, bad, limit=10)
    for limit in (0, 501):
        with pytest.raises(ValueError):
            await store.list_org_events(ORG, None, limit=limit)
    with pytest.raises(BadPosition):
        await store.list_audit_after(ORG, "x", limit=10)


async def test_audit_oldest_first_resuming_exactly(store: Store) -> None:
    for i in range(5):
        await store.append_audit(AuditEntry(ORG, "U1", f"a{i}", at=float(i)))
        await store.append_audit(AuditEntry(OTHER, "U9", "other", at=float(i)))
    first = await store.list_audit_after(ORG, None, limit=2)
    assert [r.entry.action for r in first.rows] == ["a0", "a1"]
    rest = await store.list_audit_after(ORG, first.last, limit=10)
    assert [r.entry.action for r in rest.rows] == ["a2", "a3", "a4"]
    done = await store.list_audit_after(ORG, rest.last, limit=10)
    assert done.rows == [] and done.last is None
    await store.append_audit(AuditEntry(ORG, "U1", "a5", at=9.0))
    more = await store.list_audit_after(ORG, rest.last, limit=10)
    assert [r.entry.action for r in more.rows] == ["a5"]


async def test_ids_with_the_key_separators_in_them(store: Store) -> None:
    org = "slack:T|1%"
    for candidate in ("a|b", "c%7Cd", "e%f"):
        await store.append_timeline(org, candidate, TimelineEntry(kind=candidate, at=1.0))
    page = await store.list_org_events(org, None, limit=10)
    assert [(r.candidate_id, r.entry.kind) for r in page.rows] == [
        ("a|b", "a|b"),
        ("c%7Cd", "c%7Cd"),
        ("e%f", "e%f"),
    ]
