"""The command layer's store-backed commands through `run_command`, on both stores."""

from __future__ import annotations

import re

import pytest

from bot.runtime import Services
from bot.store.records import Booking, Candidate, Job, Member, TimelineEntry
from tests.bot.commands.turns import run_action, run_command, submit_setup
from tests.bot.cronofy.support import ORG_ID, actor, card_text, ctx
from tests.fakes.cronofy import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeCronofy

ADMIN = "U_ADMIN"
RECRUITER = "U_REC"


@pytest.fixture
async def org_ready(services: Services, fake_cronofy: FakeCronofy) -> Services:
    assert (
        await submit_setup(
            ctx(services, actor(ADMIN)), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us"
        )
    ).ok
    return services


async def say(
    services: Services,
    text: str,
    user: str = RECRUITER,
    *,
    users: dict[str, str] | None = None,
    channels: dict[str, str] | None = None,
    **where: str,
) -> str:
    who = ctx(services, actor(user), **where, users=users, channels=channels)
    replies = await run_command(who, text)
    assert len(replies) == 1
    return card_text(replies[0].card)


async def test_help_and_usage(services: Services) -> None:
    text = await say(services, "help")
    assert "/schedule link for <email> [name]" in text and "/cronofy alerts" in text
    assert "needs a fix" in await say(services, "schedule link for nobody")
    unknown = await say(services, "sched link")
    assert "I didn't understand “sched link”" in unknown and "/schedule link" in unknown
    assert "Slotbot: interview scheduling" not in unknown, "the short help, not the whole card"


async def test_member_status_and_dm_alerts(org_ready: Services) -> None:
    services = org_ready
    assert "not connected" in await say(services, "schedule status")
    assert "off" in await say(services, "schedule alerts off")
    member = await services.store.get_member(ORG_ID, RECRUITER)
    assert member is not None and member.dm_alerts is False
    assert "Direct-message alerts: off" in await say(services, "schedule status")
    await say(services, "schedule alerts on")
    member = await services.store.get_member(ORG_ID, RECRUITER)
    assert member is not None and member.dm_alerts is True


async def test_reminders_setting_shown_changed_and_refused(org_ready: Services) -> None:
    services = org_ready
    assert "Interview reminders are on" in await say(services, "schedule reminders")
    assert "15 minutes before" in await say(services, "schedule reminders")
    assert "30 minutes before" in await say(services, "schedule reminders 30")
    member = await services.store.get_member(ORG_ID, RECRUITER)
    assert member is not None and member.reminder_minutes == 30
    assert re.search(
        r"Interview reminders:\s+30 min before", await say(services, "schedule status")
    )
    refused = await say(services, "schedule reminders 2000")
    assert "from 1 to 1440" in refused and "/schedule reminders" in refused
    member = await services.store.get_member(ORG_ID, RECRUITER)
    assert member is not None and member.reminder_minutes == 30, "a refused value changes nothing"
    assert "off" in await say(services, "schedule reminders off")
    member = await services.store.get_member(ORG_ID, RECRUITER)
    assert member is not None and member.reminder_minutes is None
    assert "Interview reminders are off" in await say(services, "schedule reminders")
    assert re.search(r"Interview reminders:\s+off", await say(services, "schedule status"))


async def test_candidate_profile(org_ready: Services) -> None:
    services = org_ready
    assert "no candidate" in await say(services, "schedule candidate jane@example.com", user=ADMIN)
    await services.store.put_candidate(
        Candidate(ORG_ID, "cand_1", "jane@example.com", "Jane Doe", RECRUITER)
    )
    await services.store.append_timeline(
        ORG_ID,
        "cand_1",
        TimelineEntry(kind="link_sent", at=services.clock(), recruiter_id=RECRUITER),
    )
    await services.store.append_timeline(
        ORG_ID,
        "cand_1",
        TimelineEntry(
            kind="booked", at=services.clock(), start="2027-01-05T10:00:00Z", zone="Europe/London"
        ),
    )
    text = await say(services, "schedule candidate JANE@example.com")
    assert "Jane Doe" in text and "Link sent" in text and "Booked" in text


async def test_candidate_profile_only_for_their_recruiters_and_admins(org_ready: Services) -> None:
    services = org_ready
    await services.store.put_candidate(
        Candidate(ORG_ID, "cand_1", "jane@example.com", "Jane Doe", RECRUITER, created_at=1.0)
    )
    await services.store.put_candidate(
        Candidate(ORG_ID, "cand_2", "max@example.com", "Max Roe", "U_ELSE", created_at=1.0)
    )
    # U_LINKER sent Max a tracked link; U_BOOKED has a booking with him
    await services.store.append_timeline(
        ORG_ID,
        "cand_2",
        TimelineEntry(kind="link_sent", at=services.clock(), recruiter_id="U_LINKER"),
    )
    await services.store.put_booking(
        Booking(ORG_ID, "b_1", candidate_id="cand_2", recruiter_id="U_BOOKED", state="booked")
    )
    # a member who is none of these: same answer for a real candidate and a missing one
    real = await say(services, "schedule candidate jane@example.com", user="U_NOSY")
    missing = await say(services, "schedule candidate ghost@example.com", user="U_NOSY")
    assert "Jane" not in real and "Not your candidate" in real
    assert real.replace("jane@example.com", "X") == missing.replace("ghost@example.com", "X")
    # the profile button on an alert checks the same
    pressed = await run_action(ctx(services, actor("U_NOSY")), "candidate.profile", "cand_1")
    nowhere = await run_action(ctx(services, actor("U_NOSY")), "candidate.profile", "cand_zz")
    assert card_text(pressed[0].card) == card_text(nowhere[0].card)
    assert "Jane" not in card_text(pressed[0].card) and pressed[0].visibility == "private"
    for user in ("U_ELSE", "U_LINKER", "U_BOOKED", ADMIN):
        shown = await run_action(ctx(services, actor(user)), "candidate.profile", "cand_2")
        assert shown[0].visibility == "private" and "Max Roe" in card_text(shown[0].card), user
    assert "Max Roe" in await say(services, "schedule candidate max@example.com", user="U_LINKER")
    own = await run_action(ctx(services, actor(RECRUITER)), "candidate.profile", "cand_1")
    assert "jane@example.com" in card_text(own[0].card)


async def test_candidate_profile_for_the_connected_members_on_a_bookings_panel(
    org_ready: Services,
) -> None:
    services = org_ready
    await services.store.put_candidate(
        Candidate(ORG_ID, "cand_2", "max@example.com", "Max Roe", "U_ELSE", created_at=1.0)
    )
    await services.store.put_booking(
        Booking(
            ORG_ID,
            "b_1",
            candidate_id="cand_2",
            recruiter_id="U_ELSE",
            attendees=["panel@example.com"],
            participants=["acc_host"],
        )
    )
    for user, email, sub, connected in [
        ("U_BY_EMAIL", "Panel@Example.com", None, True),
        ("U_BY_SUB", "other@example.com", "acc_host", True),
        ("U_GONE", "panel@example.com", None, False),  # disconnected: no longer on the panel
        ("U_NOSY", "nosy@example.com", "acc_nosy", True),
    ]:
        await services.store.put_member(
            Member(ORG_ID, user, email=email, cronofy_sub=sub, connected=connected)
        )
    for user, allowed in [
        ("U_BY_EMAIL", True),
        ("U_BY_SUB", True),
        ("U_GONE", False),
        ("U_NOSY", False),
    ]:
        shown = await run_action(ctx(services, actor(user)), "candidate.profile", "cand_2")
        assert ("Max Roe" in card_text(shown[0].card)) is allowed, user


async def test_upcoming_lists_only_future_own_bookings(org_ready: Services) -> None:
    services = org_ready  # the clock is 2027-01-15
    await services.store.put_candidate(Candidate(ORG_ID, "cand_1", "jane@example.com", "Jane Doe"))
    for booking_id, recruiter, start, state in [
        ("b_past", RECRUITER, "2026-01-01T10:00:00Z", "booked"),
        ("b_next", RECRUITER, "2027-03-01T10:00:00Z", "booked"),
        ("b_other", "U_OTHER", "2027-03-02T10:00:00Z", "booked"),
        ("b_gone", RECRUITER, "2027-03-03T10:00:00Z", "cancelled"),
    ]:
        await services.store.put_booking(
            Booking(
                ORG_ID,
                booking_id,
                candidate_id="cand_1",
                recruiter_id=recruiter,
                start=start,
                state=state,
            )
        )
    text = await say(services, "schedule upcoming")
    assert "Jane Doe" in text and "1 Mar 2027" in text
    assert "2026" not in text and "2 Mar 2027" not in text and "3 Mar 2027" not in text
    assert "Nothing booked yet" in await say(services, "schedule upcoming", user="U_NOBODY")


async def test_cronofy_status_shows_masked_keys_and_dead_letters(org_ready: Services) -> None:
    services = org_ready
    await services.store.put_member(Member(ORG_ID, RECRUITER, connected=True))
    await services.store.put_member(Member(ORG_ID, "U_TWO"))
    job = Job(job_id="deadbeef0001", org_id=ORG_ID, kind="notice", created_at=services.clock())
    await services.store.enqueue([job])
    await services.store.dead_letter_job(job, "channel_not_found")
    text = await say(services, "cronofy status", user=ADMIN)
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.org_key
    assert f"/cronofy/push/{org.org_key}" in text
    assert DEFAULT_CLIENT_SECRET not in text and DEFAULT_CLIENT_ID not in text
    assert re.search(r"Calendars connected:\s+1\b", text) and re.search(r"Recruiters:\s+2\b", text)
    assert "channel_not_found" in text and "none received yet" in text


async def test_alert_routes(org_ready: Services) -> None:
    services = org_ready
    text = await say(services, "cronofy alerts here booked,cancelled", user=ADMIN)
    assert "hiring" in text
    await say(services, "cronofy alerts #C0999", user=ADMIN, channels={"C0999": "interviews"})
    org = await services.store.get_org(ORG_ID)
    assert org is not None
    assert [(r.conversation_id, r.kinds, r.name) for r in org.routes] == [
        ("C_HIRING", ["booked", "cancelled"], "hiring"),
        # without kinds, a channel gets what happens to bookings, not Cronofy's "other" notices
        ("C0999", ["booked", "rescheduled", "cancelled", "declined"], "interviews"),
    ]
    await say(services, "cronofy alerts #C0999 all", user=ADMIN, channels={"C0999": "interviews"})
    org = await services.store.get_org(ORG_ID)
    assert org is not None and "other" in org.routes[-1].kinds
    await say(services, "cronofy alerts here declined", user=ADMIN)  # replaces this channel's route
    listed = await say(services, "cronofy alerts", user=ADMIN)
    assert "interviews" in listed and "declined" in listed
    await say(services, "cronofy alerts off", user=ADMIN)
    org = await services.store.get_org(ORG_ID)
    assert org is not None and [r.conversation_id for r in org.routes] == ["C0999"]
    await say(services, "cronofy alerts off #C0999", user=ADMIN, channels={"C0999": ""})
    assert "No alerts" in await say(services, "cronofy alerts off", user=ADMIN)
    in_dm = await say(services, "cronofy alerts here", user=ADMIN, conversation_id="D1", kind="dm")
    assert "in the channel" in in_dm
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.routes == []
    assert "Only Slotbot admins" in await say(services, "cronofy alerts here")
    actions = [a.action for a in await services.store.list_audit(ORG_ID)]
    assert actions.count("alerts.route") == 4 and actions.count("alerts.off") == 2


async def test_unknown_and_cancel_buttons(org_ready: Services) -> None:
    services = org_ready
    who = ctx(services, actor(ADMIN))
    assert "no longer available" in card_text((await run_action(who, "nope", "x"))[0].card)
    assert "Nothing was changed" in card_text(
        (await run_action(who, "cancel", "cronofy.reset.confirm"))[0].card
    )
    forged = await run_action(who, "cronofy.reset.confirm", "slack:T_OTHER")
    assert "another workspace" in card_text(forged[0].card)
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.cronofy is not None


HOSTILE = [
    "",
    "/",
    "schedule link for <!channel>@example.com",
    "schedule link set https://app.cronofy.com/pls/x?utm_source=evil",
    "schedule link set https://app.cronofy.com.evil.example/pls/x",
    "schedule candidate ' OR 1=1 --@x.io",
    "cronofy admins add <@U1|<script>>",
    "cronofy admins add nobody",
    "cronofy admins add @nobody",
    "cronofy admins add @U1",
    "cronofy admins remove @U_ADMIN",
    "cronofy alerts <#C1|x> booked\x00",
    "cronofy alerts #C1 booked\x00",
    "cronofy alerts #<script> booked",
    "schedule \u202elink\u202c",
    "schedule link for a@b.co " + "\U0001f600" * 50,
    "x" * 5000,
]


async def test_hostile_input_always_gets_one_private_answer(org_ready: Services) -> None:
    # as an admin, so only input handling (not the permission check) keeps the org unchanged
    for text in HOSTILE:
        for user in (RECRUITER, ADMIN):
            replies = await run_command(ctx(org_ready, actor(user)), text)
            assert len(replies) == 1 and replies[0].visibility == "private", text
    member = await org_ready.store.get_member(ORG_ID, RECRUITER)
    assert member is None or member.public_link is None
    org = await org_ready.store.get_org(ORG_ID)
    assert org is not None and org.admins == [ADMIN] and org.routes == []


async def test_alert_routes_say_what_a_channel_gets_and_keep_its_name(org_ready: Services) -> None:
    services = org_ready
    await say(services, "cronofy alerts #C0999", user=ADMIN, channels={"C0999": "interviews"})
    # the kinds named replace the channel's kinds, and the reply says what was dropped
    text = await say(
        services, "cronofy alerts #C0999 booked,cancelled", user=ADMIN, channels={"C0999": ""}
    )
    assert "#interviews now gets alerts about: booked, cancelled" in text
    assert "no longer gets: rescheduled, declined." in text
    org = await services.store.get_org(ORG_ID)
    assert org is not None
    assert [(r.conversation_id, r.kinds, r.name) for r in org.routes] == [
        ("C0999", ["booked", "cancelled"], "interviews")
    ]
    # a channel the adapter did not resolve is refused, with the usage line
    made_up = await say(services, "cronofy alerts #C0998", user=ADMIN)
    assert "not a channel Slotbot can see" in made_up and "#channel" in made_up


async def test_shared_link_is_under_the_recruiters_name_not_their_handle(
    org_ready: Services,
) -> None:
    services = org_ready
    await services.store.put_member(
        Member(
            ORG_ID,
            RECRUITER,
            name="Rita Recruiter",
            display_name="",
            public_link="https://app.cronofy.com/pls/abc",
        )
    )
    who = ctx(services, actor(RECRUITER, name="u_rec"))
    for replies in (
        await run_command(who, "schedule link share"),
        await run_action(who, "link.share", "own"),
    ):
        text = card_text(replies[0].card)
        assert replies[0].visibility == "public"
        assert "Book a time with Rita Recruiter" in text and "u_rec" not in text
