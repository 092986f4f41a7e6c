"""Org isolation: two workspaces on one Slotbot, each with its own Cronofy keys, channel,
recruiter and a candidate with the same email. A callback that arrives at org A's push URL
never reaches org B's channel or members and never touches org B's candidate profile, even
when it carries org B's correlation id; org B's signature does not open org A's URL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.chat import Actor, Conversation
from bot.commands import CommandContext
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import AlertRoute, Candidate, Member, Org, TrackedLink
from cards.text import to_text
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import (
    CANDIDATE_ID,
    CHANNEL,
    CLIENT_SECRET,
    CORRELATION_ID,
    ORG_ID,
    PUSH_URL,
    RECRUITER,
    Pipeline,
    encode,
    sign,
    start_pipeline,
)
from tests.bot.commands.turns import run_command

ORG_B = "slack:T0OTHER"
KEY_B = "pushkey_other_0123456789"
SECRET_B = "CRN_other_org_client_secret_0002"
CHANNEL_B, RECRUITER_B, CANDIDATE_B, CORRELATION_B = "C0OTHER", "UREC0B", "cand0B", "corrB"
PUSH_URL_B = f"/cronofy/push/{KEY_B}"


async def seed_other_org(store: Store, box: SecretBox) -> None:
    """Org B, shaped like org A (tests.bot.alerts.pipeline.seed) with its own everything;
    its candidate has the same email as org A's."""
    org_a = await store.get_org(ORG_ID)
    assert org_a is not None and org_a.cronofy is not None
    await store.put_org(
        Org(
            org_id=ORG_B,
            platform="slack",
            name="Initech",
            org_key=KEY_B,
            cronofy=dataclasses.replace(
                org_a.cronofy, client_id="cid_other", client_secret_enc=box.encrypt(SECRET_B)
            ),
            admins=["UADM0B"],
            routes=[AlertRoute(conversation_id=CHANNEL_B, name="hiring-b")],
        )
    )
    candidate_a = await store.get_candidate(ORG_ID, CANDIDATE_ID)
    assert candidate_a is not None
    await store.put_member(Member(org_id=ORG_B, user_id=RECRUITER_B, display_name="Bob B"))
    await store.put_candidate(
        Candidate(
            org_id=ORG_B,
            candidate_id=CANDIDATE_B,
            email=candidate_a.email,
            name=candidate_a.name,
            recruiter_id=RECRUITER_B,
        )
    )
    await store.put_tracked_link(
        TrackedLink(
            correlation_id=CORRELATION_B,
            org_id=ORG_B,
            member_id=RECRUITER_B,
            candidate_id=CANDIDATE_B,
        )
    )


def signed_by(secret: str, payload: Any) -> tuple[bytes, dict[str, str]]:
    body = encode(payload)
    return body, sign(body, secret)


async def post(p: Pipeline, path: str, secret: str, payload: Any) -> int:
    body, headers = signed_by(secret, payload)
    response = await p.client.post(path, data=body, headers=headers)
    return int(response.status)


async def test_callbacks_for_one_org_never_reach_another(aiohttp_client: Any, store: Store) -> None:
    p = await start_pipeline(aiohttp_client, store)
    await seed_other_org(store, p.services.secrets)

    # org B's keys do not open org A's push URL
    stolen = payloads.time_chosen(request_id="srq_stolen", correlation_id=CORRELATION_B)
    assert await post(p, PUSH_URL, SECRET_B, stolen) == 401
    # at A's URL, B's correlation id is unknown: the booking stays in A (matched by email)
    crossing = payloads.time_chosen(request_id="srq_crossing", correlation_id=CORRELATION_B)
    assert await post(p, PUSH_URL, CLIENT_SECRET, crossing) == 200
    # an ordinary booking in A, for the candidate whose email B also knows
    own = payloads.time_chosen(request_id="srq_own", correlation_id=CORRELATION_ID)
    assert await post(p, PUSH_URL, CLIENT_SECRET, own) == 200
    # and one in B, through B's URL and keys
    theirs = payloads.time_chosen(request_id="srq_theirs", correlation_id=CORRELATION_B)
    assert await post(p, PUSH_URL_B, SECRET_B, theirs) == 200
    await p.drain()

    sent = sorted((s.target.org_id, s.target.key, s.target.platform) for s in p.adapter.sent)
    assert sent == sorted(
        [
            (ORG_ID, f"channel:{CHANNEL}", "slack"),
            (ORG_ID, f"dm:{RECRUITER}", "slack"),
            (ORG_ID, f"channel:{CHANNEL}", "slack"),
            (ORG_ID, f"dm:{RECRUITER}", "slack"),
            (ORG_B, f"channel:{CHANNEL_B}", "slack"),
            (ORG_B, f"dm:{RECRUITER_B}", "slack"),
        ]
    )
    # org B's candidate profile holds only org B's booking, org A's only A's
    assert [b.booking_id for b in await store.list_bookings(ORG_B)] == ["srq_theirs"]
    assert [e.kind for e in await store.list_timeline(ORG_B, CANDIDATE_B)] == ["booked"]
    assert sorted(b.booking_id for b in await store.list_bookings(ORG_ID)) == [
        "srq_crossing",
        "srq_own",
    ]
    assert await store.get_booking(ORG_B, "srq_crossing") is None
    assert await store.get_message_refs(ORG_B, "srq_crossing") == {}
    assert await store.get_message_refs(ORG_ID, "srq_theirs") == {}
    link = await store.get_tracked_link(CORRELATION_B)
    assert link is not None and link.org_id == ORG_B

    # what org B's recruiter sees of the candidate is org B's alone
    as_b = CommandContext(
        p.services,
        Actor("slack", ORG_B, RECRUITER_B),
        Conversation("slack", ORG_B, CHANNEL_B, "channel", "hiring-b"),
    )
    profile = to_text((await run_command(as_b, "schedule candidate eb@example.com"))[0].card)
    assert "Bob B" in profile and "Rita Recruiter" not in profile
    assert profile.count("Booked") == 1
