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


async def _drop_oldest(store: Store, org: str, candidate: str, n: int) -> None:
    """What a retention sweep does to a timeline (by hand: the sweep is another part's)."""
    from bot.store.redis import RedisStore
    from bot.store.sqlite import SQLiteStore

    if isinstance(store, RedisStore):
        await store._r.ltrim(store._timeline_key(org, candidate), n, -1)
    else:
        assert isinstance(store, SQLiteStore)
        await store._execute(
            "DELETE FROM timeline WHERE seq IN (SELECT seq FROM timeline WHERE org_id = ? "
            "AND candidate_id = ? ORDER BY seq LIMIT ?)",
            (org, candidate, n),
        )


async def test_entries_taken_off_a_timelines_head_leave_the_rest_served_once_in_order(
    store: Store,
) -> None:
    for i in range(6):
        await store.append_timeline(ORG, "c1", TimelineEntry(kind=f"a{i}", at=float(i)))
        await store.append_timeline(ORG, "c2", TimelineEntry(kind=f"b{i}", at=i + 0.5))
    await _drop_oldest(store, ORG, "c1", 4)
    await _drop_oldest(store, ORG, "c2", 1)
    seen = []
    after = None
    while True:
        page = await store.list_org_events(ORG, after, limit=2)
        if page.last is None:
            break
        seen += [r.entry.kind for r in page.rows]
        after = page.last
    assert seen == ["b1", "b2", "b3", "a4", "b4", "a5", "b5"]
    # and when the whole timeline goes, a new one is served from where the feed was
    await _drop_oldest(store, ORG, "c1", 100)
    await store.append_timeline(ORG, "c1", TimelineEntry(kind="new", at=99.0))
    rest = await store.list_org_events(ORG, after, limit=10)
    assert [r.entry.kind for r in rest.rows] == ["new"]


async def test_redis_reads_an_entry_written_in_another_json_layout(store: Store) -> None:
    """The index matches an entry by its `at` in the text, else by the parsed number: a doc
    laid out otherwise (spaces, another key order) is still found."""
    import json

    from bot.store.redis import RedisStore

    if not isinstance(store, RedisStore):
        pytest.skip("the Redis event index")
    await store.append_timeline(ORG, "c1", TimelineEntry(kind="x", at=1790000720.2835057))
    key = store._timeline_key(ORG, "c1")
    doc = json.loads(await store._r.lindex(key, 0))
    await store._r.lset(key, 0, json.dumps(dict(reversed(list(doc.items())))))
    page = await store.list_org_events(ORG, None, limit=10)
    assert [(r.entry.kind, r.entry.at) for r in page.rows] == [("x", 1790000720.2835057)]
