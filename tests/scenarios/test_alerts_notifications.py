"""Channel notifications and Real-Time Scheduling callbacks through the push URL."""

from __future__ import annotations

import copy
from typing import Any

from bot.store.base import Store
from bot.store.records import TrackedLink
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CANDIDATE_ID, ORG_ID, RECRUITER, start_pipeline


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
