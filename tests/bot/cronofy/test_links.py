"""Scheduling links through the command API: public link, tracked links, Real-Time Scheduling."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.chat import Reply
from bot.cronofy import links
from bot.runtime import Services
from bot.store.records import Member
from tests.bot.commands.turns import run_action, run_command, submit_setup
from tests.bot.cronofy.support import ORG_ID, actor, card_text, ctx
from tests.fakes.cronofy import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeCronofy

RECRUITER = "U_REC"


async def set_up(services: Services, center: str = "uk") -> None:
    assert (
        await submit_setup(
            ctx(services, actor("U_ADMIN")), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, center
        )
    ).ok


async def connect_recruiter(services: Services, fake: FakeCronofy) -> None:
    account = fake.add_code("unused")
    access, refresh = fake.issue_tokens(account)
    await services.store.put_member(
        Member(
            ORG_ID,
            RECRUITER,
            cronofy_sub=account.sub,
            zone="Europe/London",
            access_token_enc=services.secrets.encrypt(access),
            refresh_token_enc=services.secrets.encrypt(refresh),
            token_expires_at=services.clock() + 3600,
            connected=True,
        )
    )


def test_public_link_validation() -> None:
    assert links.validate_public_link("https://app-uk.cronofy.com/pls/Q5-ZDPM8/", "uk") == (
        "https://app-uk.cronofy.com/pls/Q5-ZDPM8"
    )
    assert (
        links.validate_public_link("https://app.cronofy.com/pls/abc", "us")
        == "https://app.cronofy.com/pls/abc"
    )
    for bad, center in [
        ("https://app.cronofy.com/pls/abc", "uk"),  # another data center
        ("http://app-uk.cronofy.com/pls/abc", "uk"),
        ("https://app-uk.cronofy.com.evil.example/pls/abc", "uk"),
        ("https://user@app-uk.cronofy.com/pls/abc", "uk"),
        ("https://app-uk.cronofy.com:444/pls/abc", "uk"),
        ("https://app-uk.cronofy.com/rts/abc", "uk"),
        ("https://app-uk.cronofy.com/pls/", "uk"),
        ("https://app-uk.cronofy.com/pls/a/b", "uk"),
        ("https://app-uk.cronofy.com/pls/abc?x=1", "uk"),
        ("https://app-uk.cronofy.com/pls/a%20b", "uk"),
    ]:
        with pytest.raises(Exception) as error:
            links.validate_public_link(bad, center)
        assert "https://app-uk.cronofy.com/pls/" in str(error.value) or center != "uk", bad


def test_working_day_periods_skip_weekends_and_the_past() -> None:
    friday_noon = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)  # a Friday
    periods = links.working_day_periods(friday_noon, "Europe/London")
    assert len(periods) == 10
    assert periods[0] == {"start": "2027-01-01T12:15:00Z", "end": "2027-01-01T17:00:00Z"}
    assert periods[1]["start"] == "2027-01-04T09:00:00Z"  # Monday
    days = {datetime.fromisoformat(x["start"].replace("Z", "+00:00")).weekday() for x in periods}
    assert days <= {0, 1, 2, 3, 4}
    assert links.working_day_periods(friday_noon, "Not/AZone")[1]["start"] == "2027-01-04T09:00:00Z"


async def test_link_set_show_and_share(services: Services, fake_cronofy: FakeCronofy) -> None:
    await set_up(services)
    who = ctx(services, actor(RECRUITER, name="Rita"))
    missing = await run_command(who, "schedule link")
    assert "Connect your calendar" in card_text(missing[0].card)
    wrong = await run_command(who, "schedule link set https://app.cronofy.com/pls/abc")
    assert "https://app-uk.cronofy.com/pls/" in card_text(wrong[0].card)
    assert await services.store.get_member(ORG_ID, RECRUITER) is None
    saved = await run_command(who, "schedule link set https://app-uk.cronofy.com/pls/Q5-ZDPM8")
    assert "link saved" in card_text(saved[0].card)
    shown = await run_command(who, "schedule link")
    assert shown[0].visibility == "private"
    share = next(b for b in shown[0].card.buttons if b.action_id == "link.share")
    # the button names the link; the link itself never travels through the client
    assert share.value == "own"
    assert any(
        b.kind == "open_url" and b.url == "https://app-uk.cronofy.com/pls/Q5-ZDPM8"
        for b in shown[0].card.buttons
    )
    posted = await run_command(who, "schedule link share")
    assert posted[0].visibility == "public" and "Rita" in card_text(posted[0].card)
    pressed = await run_action(who, share.action_id, share.value)
    assert pressed[0].visibility == "public"
    assert "https://app-uk.cronofy.com/pls/Q5-ZDPM8" in card_text(pressed[0].card)
    # a card from before the change carried the URL: only the exact link still works
    legacy = await run_action(who, "link.share", "https://app-uk.cronofy.com/pls/Q5-ZDPM8")
    assert legacy[0].visibility == "public"
    # a forged Share value is not posted
    forged = await run_action(who, "link.share", "https://evil.example/pls/x")
    assert forged[0].visibility == "private" and "evil" not in card_text(forged[0].card)
    other = await run_action(ctx(services, actor("U_OTHER")), share.action_id, share.value)
    assert other[0].visibility == "private"
    assert "Q5-ZDPM8" not in card_text(other[0].card)


async def test_connected_without_public_link_is_asked_to_set_it(
    services: Services, fake_cronofy: FakeCronofy
) -> None:
    await set_up(services)
    await connect_recruiter(services, fake_cronofy)
    reply = await run_command(ctx(services, actor(RECRUITER)), "schedule link")
    assert "/schedule link set https://app-uk.cronofy.com/pls/" in card_text(reply[0].card)


async def test_link_for_a_candidate_is_tracked(
    services: Services, fake_cronofy: FakeCronofy
) -> None:
    await set_up(services)
    who = ctx(services, actor(RECRUITER))
    await run_command(who, "schedule link set https://app-uk.cronofy.com/pls/Q5-ZDPM8")
    reply = await run_command(who, "schedule link for Jane@Example.com Jane Doe")
    share = next(b for b in reply[0].card.buttons if b.action_id == "link.share")
    opened = next(b.url for b in reply[0].card.buttons if b.kind == "open_url")
    parts = urlsplit(opened)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://app-uk.cronofy.com/pls/Q5-ZDPM8"
    )
    query = parse_qs(parts.query)
    assert query["utm_source"] == ["slack"]
    (correlation_id,) = query["correlation_id"]
    assert len(correlation_id) <= 128 and "jane" not in correlation_id.lower()
    tracked = await services.store.get_tracked_link(correlation_id)
    candidate = await services.store.find_candidate_by_email(ORG_ID, "jane@example.com")
    assert (
        candidate is not None
        and candidate.name == "Jane Doe"
        and candidate.recruiter_id == RECRUITER
    )
    assert tracked is not None and (tracked.org_id, tracked.member_id, tracked.candidate_id) == (
        ORG_ID,
        RECRUITER,
        candidate.candidate_id,
    )
    assert [e.kind for e in await services.store.list_timeline(ORG_ID, candidate.candidate_id)] == [
        "link_sent"
    ]
    # the same candidate again: same profile, a new correlation id
    again = await run_command(who, "schedule link for jane@example.com")
    second = next(b for b in again[0].card.buttons if b.action_id == "link.share").value
    assert second == f"tracked:{parse_qs(urlsplit(_opened(again)).query)['correlation_id'][0]}"
    assert second != share.value == f"tracked:{correlation_id}"
    same = await services.store.find_candidate_by_email(ORG_ID, "jane@example.com")
    assert (
        same is not None and same.candidate_id == candidate.candidate_id and same.name == "Jane Doe"
    )
    assert len(await services.store.list_timeline(ORG_ID, candidate.candidate_id)) == 2
    posted = await run_action(who, "link.share", second)
    assert posted[0].visibility == "public" and _opened(again) in card_text(posted[0].card)


def _opened(replies: list[Reply]) -> str:
    return next(b.url for b in replies[0].card.buttons if b.kind == "open_url" and b.url)


async def test_share_posts_only_the_link_slotbot_made(
    services: Services, fake_cronofy: FakeCronofy
) -> None:
    """A Share value is only a name for one of the presser's links: a URL built around their
    own correlation id, another member's link, or an unknown id is never posted."""
    await set_up(services)
    who = ctx(services, actor(RECRUITER))
    await run_command(who, "schedule link set https://app-uk.cronofy.com/pls/Q5-ZDPM8")
    made = await run_command(who, "schedule link for jane@example.com")
    url = _opened(made)
    correlation_id = parse_qs(urlsplit(url).query)["correlation_id"][0]
    for forged in (
        f"https://evil.example/login?correlation_id={correlation_id}",
        f"https://app-uk.cronofy.com/pls/EVIL?correlation_id={correlation_id}&utm_source=slack",
        url + "&next=https://evil.example",
        "tracked:sbnotknown",
        "tracked:../../x",
        "",
    ):
        replies = await run_action(who, "link.share", forged)
        assert replies[0].visibility == "private", forged
        assert "evil" not in card_text(replies[0].card)
    # another recruiter cannot share (or see) this candidate's link
    other = ctx(services, actor("U_OTHER"))
    await run_command(other, "schedule link set https://app-uk.cronofy.com/pls/OTHER1")
    stolen = await run_action(other, "link.share", f"tracked:{correlation_id}")
    assert stolen[0].visibility == "private" and correlation_id not in card_text(stolen[0].card)
    # the same URL as it was handed out (a card from before buttons named links) still works
    legacy = await run_action(who, "link.share", url)
    assert legacy[0].visibility == "public" and url in card_text(legacy[0].card)


async def test_real_time_scheduling_fallback(services: Services, fake_cronofy: FakeCronofy) -> None:
    await set_up(services)
    await connect_recruiter(services, fake_cronofy)
    reply = await run_command(
        ctx(services, actor(RECRUITER)), "schedule link for jane@example.com Jane"
    )
    url = _opened(reply)
    assert url.startswith(fake_cronofy.url + "/rts/")
    correlation_id = parse_qs(urlsplit(url).query)["correlation_id"][0]
    (sent,) = fake_cronofy.rts_requests()
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.org_key
    push = f"{services.settings.public_url}/cronofy/push/{org.org_key}"
    # the push endpoint tells the two callbacks apart by ?callback= (their bodies do not)
    assert sent["callback_urls"] == {
        "completed_url": push + "?callback=completed",
        "no_times_suitable_url": push + "?callback=no_times_suitable",
    }
    # the candidate lands on Slotbot's neutral thank-you page, not the recruiters' OAuth page
    booked = f"{services.settings.public_url}/cronofy/booked"
    assert sent["oauth"] == {"redirect_uri": booked}
    assert sent["redirect_urls"] == {"completed_url": booked}
    assert sent["event"]["event_id"] == correlation_id
    assert sent["availability"]["required_duration"] == {"minutes": 30}
    assert len(sent["availability"]["available_periods"]) == 10
    assert await services.store.get_tracked_link(correlation_id) is not None
    # a real-time link cannot be rebuilt: Share posts the one Cronofy gave, as stored
    share = next(b for b in reply[0].card.buttons if b.action_id == "link.share")
    posted = await run_action(ctx(services, actor(RECRUITER)), "link.share", share.value)
    assert posted[0].visibility == "public" and url in card_text(posted[0].card)


@pytest.mark.parametrize("status", [422, 429, 500])
async def test_real_time_scheduling_failure_stores_nothing(
    services: Services, fake_cronofy: FakeCronofy, status: int
) -> None:
    await set_up(services)
    await connect_recruiter(services, fake_cronofy)
    fake_cronofy.fail_next("real_time_scheduling", status=status)
    reply = await run_command(ctx(services, actor(RECRUITER)), "schedule link for jane@example.com")
    text = card_text(reply[0].card)
    assert "Cronofy" in text and DEFAULT_CLIENT_SECRET not in text
    assert await services.store.find_candidate_by_email(ORG_ID, "jane@example.com") is None


async def test_links_need_setup(services: Services) -> None:
    reply = await run_command(ctx(services, actor(RECRUITER)), "schedule link for jane@example.com")
    assert "/cronofy setup" in card_text(reply[0].card)
    reply = await run_command(ctx(services, actor(RECRUITER)), "schedule connect")
    assert "/cronofy setup" in card_text(reply[0].card)
