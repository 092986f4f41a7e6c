"""The panel hears about its bookings: every connected member on a booking (matched by email
among its recipients, or by the Cronofy profile hosting it) gets the direct-message alert,
each unless they turned DM alerts off; members who are not connected, or not on the booking,
get nothing. Over HTTP, on both stores."""

from __future__ import annotations

from typing import Any

from bot.store.base import Store
from bot.store.records import Member
from cards.text import to_text
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import CHANNEL, ORG_ID, RECRUITER, start_pipeline


async def test_every_connected_member_on_the_booking_gets_the_dm_alert(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store)
    for user, email, connected, dm_alerts in [
        ("U_PANEL", "Panel@Example.com", True, True),
        ("U_QUIET", "quiet@example.com", True, False),  # turned DM alerts off
        ("U_ABSENT", "absent@example.com", True, True),  # not on this booking
        ("U_UNLINKED", "unlinked@example.com", False, True),  # no calendar connected
    ]:
        await store.put_member(
            Member(ORG_ID, user, email=email, connected=connected, dm_alerts=dm_alerts)
        )
    callback = payloads.time_chosen()
    callback["scheduling_request"]["recipients"] += [
        {"email": email, "display_name": "Panel"}
        for email in ("panel@example.com", "quiet@example.com", "unlinked@example.com")
    ]
    assert (await p.post(callback)).status == 200
    await p.wait_sent(3)
    await p.drain()
    told = sorted(s.target.key for s in p.adapter.sent)
    assert told == sorted([f"channel:{CHANNEL}", f"dm:{RECRUITER}", "dm:U_PANEL"])
    [panel] = p.adapter.sent_to("dm:U_PANEL")
    text = to_text(panel.card)
    assert "Dr Emmet Brown" in text and "eb@example.com" in text, "the DM audience's card"
