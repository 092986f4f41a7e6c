"""Channel notifications and Real-Time Scheduling callbacks through the push URL."""

from __future__ import annotations

import copy
from typing import Any

from bot.store.base import Store
from bot.store.records import TrackedLink
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import (
    CANDIDATE_ID,
    ORG_ID,
    PUSH_URL,
    RECRUITER,
    encode,
    sign,
    start_pipeline,
)


async def test_profile_disconnected_sends_the_recruiter_the_reconnect_message(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store)
    member = await store.get_member(ORG_ID, RECRUITER)
    assert member is not None
    member.connected = True
    member.cronofy_sub = "acc_rita"
    await store.put_member(member)
    body = payloads.channel("profile_disconnected")
    body["channel"]["callback_url"] = "https://bot.example.com/cronofy/push/k?sub=acc_rita"
    assert (await p.post(body)).status == 200
    await p.wait_sent(1)
    await p.drain()
    assert [s.target.key for s in p.adapter.sent] == [f"dm:{RECRUITER}"]
    member = await store.get_member(ORG_ID, RECRUITER)
    assert member is not None and not member.connected
    assert [a.action for a in await store.list_audit(ORG_ID)] == ["cronofy.profile_disconnected"]


async def test_real_time_scheduling_completed_matches_the_tracked_link(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store)
    body = copy.deepcopy(payloads.RTS_COMPLETED)
    await store.put_tracked_link(
        TrackedLink(
            correlation_id=body["event"]["event_id"],
            org_id=ORG_ID,
            member_id=RECRUITER,
            candidate_id=CANDIDATE_ID,
        )
    )
    assert (await p.post(body)).status == 200
    await p.wait_sent(2)
    [entry] = await store.list_timeline(ORG_ID, CANDIDATE_ID)
    assert (entry.kind, entry.raw_type) == ("booked", "real_time_scheduling_completed")
    assert entry.start == "2024-07-27T10:00:00Z" and entry.recruiter_id == RECRUITER


async def test_real_time_scheduling_callbacks_are_told_apart_by_the_url_slotbot_gave(
    aiohttp_client: Any, store: Store
) -> None:
    """The same body at the no-times-suitable URL is a decline: the query string decides."""
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    body = copy.deepcopy(payloads.RTS_COMPLETED)
    await store.put_tracked_link(
        TrackedLink(
            correlation_id=body["event"]["event_id"],
            org_id=ORG_ID,
            member_id=RECRUITER,
            candidate_id=CANDIDATE_ID,
        )
    )
    raw = encode(body)
    response = await p.client.post(
        PUSH_URL + "?callback=no_times_suitable", data=raw, headers=sign(raw)
    )
    assert response.status == 200, await response.text()
    [entry] = await store.list_timeline(ORG_ID, CANDIDATE_ID)
    assert (entry.kind, entry.raw_type) == ("declined", "real_time_scheduling_no_times_suitable")


async def test_candidates_land_on_a_neutral_thank_you_page(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    response = await p.client.get("/cronofy/booked", params={"correlation_id": "<b>x</b>"})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = await response.text()
    assert "your interview is booked" in text and "close this page" in text
    assert "<b>x</b>" not in text and "schedule connect" not in text.lower()
