"""What the library's messages say: privacy of alerts, times, limits, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cards import actions
from cards._text import DASH
from cards.admin import DeadLetterView, org_status
from cards.alerts import AlertView, alert, error_invite_bot
from cards.candidates import CandidateView, TimelineView, UpcomingView, candidate_profile, upcoming
from cards.errors import (
    confirm,
    error_cronofy_unreachable,
    error_keys_rejected,
    error_not_admin,
    error_not_connected,
    error_setup_required,
    error_usage,
)
from cards.help import help_card
from cards.model import Actions, Button, Card, Fact, Facts, Section, Strong, TimeValue
from cards.scheduling import your_link
from cards.setup import setup_form, setup_result
from cards.slack import base_action_id, to_slack
from cards.teams import to_teams
from cards.text import to_text
from tests.cards.checks import check_slack_blocks, check_teams

START = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
EVENT = AlertView(
    candidate_name="Ada Lovelace",
    candidate_email="ada.private@example.com",
    candidate_phone="+44 20 7946 0018",
    notes="salary expectations: confidential",
    recruiter_name="Grace Hopper",
    start=START,
    end=START + timedelta(minutes=45),
    previous_start=START - timedelta(days=1),
    meeting_url="https://meet.example.com/abc",
    candidate_id="cand_1",
    reschedule_url="https://app.cronofy.com/rts/X?reschedule=true",
    decline_url="https://app.cronofy.com/rts/X?decline=true",
    booking_id="srq_1",
    raw_type="scheduling_request_time_chosen",
)
KINDS = ["booked", "rescheduled", "cancelled", "declined", "other"]
SECRETS = [
    "ada.private@example.com",
    "7946 0018",
    "confidential",
    "reschedule=true",
    "decline=true",
]


def _everything(card: Card) -> str:
    message = to_slack(card)
    return json.dumps(
        [message.blocks, message.text, to_teams(card), to_text(card)], ensure_ascii=False
    )


@pytest.mark.parametrize("kind", KINDS)
def test_channel_alerts_carry_the_candidates_name_only(kind: str) -> None:
    rendered = _everything(alert(kind, EVENT, audience="channel"))
    assert "Ada Lovelace" in rendered
    for secret in SECRETS:
        assert secret not in rendered


@pytest.mark.parametrize("kind", ["booked", "rescheduled", "other"])
def test_dm_alerts_carry_full_details(kind: str) -> None:
    rendered = _everything(alert(kind, EVENT, audience="dm"))
    for detail in [
        "Ada Lovelace",
        "ada.private@example.com",
        "7946 0018",
        "confidential",
        "reschedule=true",
        "decline=true",
        "Grace Hopper",
    ]:
        assert detail in rendered


def test_profile_button_value_is_the_opaque_candidate_id_never_the_email() -> None:
    card = alert("booked", EVENT, audience="channel")
    (profile,) = [b for b in card.buttons if b.action_id == actions.CANDIDATE_PROFILE]
    assert profile.value == "cand_1"


def test_rescheduled_alert_shows_old_and_new_time() -> None:
    card = alert("rescheduled", EVENT, audience="channel")
    facts = {f.label: f.value for b in card.blocks if isinstance(b, Facts) for f in b.facts}
    assert facts["Was"] == TimeValue(START - timedelta(days=1))
    assert facts["Now"] == TimeValue(START, START + timedelta(minutes=45))
    text = to_text(card)
    assert "Wed 2 Dec 2026, 14:30 UTC" in text and f"Thu 3 Dec 2026, 14:30{DASH}15:15 UTC" in text
    slack = json.dumps(to_slack(card).blocks)
    assert (
        f"<!date^{int((START - timedelta(days=1)).timestamp())}^{{date_short_pretty}} {{time}}|"
        in slack
    )


def test_unknown_kind_is_shown_as_other_with_cronofys_type() -> None:
    card = alert("teleported", EVENT, audience="channel")
    assert card.title.startswith("Scheduling update")
    assert "scheduling_request_time_chosen" in to_text(card)


def test_alert_without_a_name_or_time_still_reads_well() -> None:
    card = alert("booked", AlertView(candidate_email="x@example.com"), audience="channel")
    text = to_text(card)
    assert "A candidate booked an interview" in text and "time not given" in text
    assert "x@example.com" not in _everything(card)
    assert "x@example.com" in to_text(
        alert("booked", AlertView(candidate_email="x@example.com"), audience="dm")
    )


def test_time_values_render_in_each_readers_zone() -> None:
    card = Card(
        [Section(["at ", TimeValue(START, START + timedelta(hours=1), zone="America/New_York")])]
    )
    slack = to_slack(card).blocks[0]["text"]["text"]
    epoch = int(START.timestamp())
    assert slack == (
        f"at <!date^{epoch}^{{date_short_pretty}} {{time}}|Thu 3 Dec 2026, 14:30 UTC>"
        f"{DASH}<!date^{epoch + 3600}^{{time}}|15:30 UTC>"
    )
    teams = to_teams(card)["body"][0]["text"]
    assert (
        teams
        == "at {{DATE(2026-12-03T14:30:00Z, SHORT)}} {{TIME(2026-12-03T14:30:00Z)}}"
        + DASH
        + "{{TIME(2026-12-03T15:30:00Z)}}"
    )
    assert to_text(card) == f"at Thu 3 Dec 2026, 09:30{DASH}10:30 EST (America/New_York)"
    unknown_zone = Card([Section(TimeValue(START, zone="Mars/Olympus"))])
    assert to_text(unknown_zone) == "Thu 3 Dec 2026, 14:30 UTC"


def test_times_in_facts_use_text_blocks_on_teams() -> None:
    card = Card([Facts([Fact("When", TimeValue(START)), Fact("Who", "Ada")])])
    body = to_teams(card)["body"]
    assert body[0]["type"] == "Container"
    assert "{{DATE(2026-12-03T14:30:00Z, SHORT)}}" in json.dumps(body)
    assert to_teams(Card([Facts([Fact("Who", "Ada")])]))["body"][0]["type"] == "FactSet"


def test_block_kit_limits_hold_for_oversized_cards() -> None:
    card = Card(
        [
            Facts([Fact(f"label {i}", "v" * 3000) for i in range(25)]),
            Actions([Button(f"b{i}" * 50, action_id="same", value="x") for i in range(30)]),
            *[Section(f"section {i}") for i in range(80)],
        ]
    )
    message = to_slack(card)
    check_slack_blocks(message.blocks)
    assert len(message.blocks) == 50
    assert (
        message.blocks[-1]["type"] == "context"
        and "more not shown" in message.blocks[-1]["elements"][0]["text"]
    )
    assert [len(b["fields"]) for b in message.blocks[:3]] == [10, 10, 5]
    actions = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert {base_action_id(i) for i in ids} == {"same"}
    check_teams(to_teams(card))


def test_buttons_with_unusable_urls_or_values_are_left_out() -> None:
    card = Card(
        [
            Actions(
                [
                    Button("Too long", kind="open_url", url="https://x.test/" + "a" * 3000),
                    Button("Bad scheme", kind="open_url", url="ftp://x.test"),
                    Button("Huge value", value="v" * 2001),
                    Button("Fine", kind="open_url", url="https://x.test/ok"),
                ]
            )
        ]
    )
    (block,) = to_slack(card).blocks
    assert [e["text"]["text"] for e in block["elements"]] == ["Fine"]


def test_upcoming_lists_soonest_first_and_caps_the_list() -> None:
    items = [UpcomingView(f"Candidate {i}", START + timedelta(hours=30 - i)) for i in range(30)]
    card = upcoming(items)
    text = to_text(card)
    assert text.index("Candidate 29") < text.index("Candidate 28")
    assert "and 10 more" in text
    check_slack_blocks(to_slack(card).blocks)
    assert "Nothing booked yet" in to_text(upcoming([]))
    assert card.fallback == "You have 30 upcoming interviews"


def test_candidate_profile_timeline_is_newest_first() -> None:
    card = candidate_profile(
        CandidateView(email="ada@example.com", name="Ada"),
        [
            TimelineView(kind="booked", at=START - timedelta(days=2), start=START),
            TimelineView(kind="cancelled", at=START - timedelta(days=1), start=START),
        ],
    )
    text = to_text(card)
    assert text.index("Cancelled") < text.index("Booked")
    assert "ada@example.com" in text


def test_setup_result_gives_the_push_url_and_the_cronofy_checklist() -> None:
    card = setup_result("https://bot.example.com/cronofy/push/k1", "uk", became_admin=True)
    text = to_text(card)
    for needle in [
        "https://bot.example.com/cronofy/push/k1",
        "United Kingdom (uk)",
        "developer dashboard",
        "https://app-uk.cronofy.com",
        "internal application",
        "callback step",
        "Universal Push Notification URL",
        "admin",
    ]:
        assert needle in text
    assert "admin here" not in to_text(setup_result("https://b/p", "us", became_admin=False))
    # the push URL is shown once, at the top, and step 4 points up to it
    assert text.count("https://bot.example.com/cronofy/push/k1") == 1
    assert "push URL above" in text and "below" not in text


def test_each_platform_is_told_only_about_itself() -> None:
    slack, teams = to_text(help_card("slack")), to_text(help_card("teams"))
    assert "Teams" not in slack and "App Home" in slack
    assert "Slack" not in teams and "App Home" not in teams and "optional" in teams
    slack_invite = to_text(error_invite_bot("#hiring", "slack"))
    teams_invite = to_text(error_invite_bot("Hiring", "teams"))
    assert "Teams" not in slack_invite
    assert "/invite" not in teams_invite and "Slack" not in teams_invite


def test_fallback_text_starts_its_sentences_with_a_capital() -> None:
    card = error_setup_required()
    assert "yet. Ask an admin" in card.fallback


def test_modal_after_saving_closes_rather_than_cancels() -> None:
    from cards.slack import to_slack_modal

    form = to_slack_modal(setup_form(), "cb", "Save")
    done = to_slack_modal(setup_result("https://b/p", "us", became_admin=False), "cb", "Save")
    assert form["close"]["text"] == "Cancel" and done["close"]["text"] == "Close"


def test_share_button_carries_the_name_of_the_link_when_given() -> None:
    card = your_link("https://app.cronofy.com/pls/x", share_value="own")
    share = next(b for b in card.buttons if b.action_id == actions.SHARE_LINK)
    assert share.value == "own"


def test_org_status_masks_the_client_id_and_lists_failures() -> None:
    card = org_status(
        configured=True,
        client_id="client-id-0123456789",
        data_center="de",
        push_url="https://bot.example.com/cronofy/push/k1",
        last_callback_at=START,
        counts={"callbacks": 3},
        dead_letters=[DeadLetterView("job1", "alert", START, "channel_not_found", "#old")],
    )
    rendered = _everything(card)
    assert "client-id-0123456789" not in rendered and "clie…6789" in rendered
    assert "channel_not_found" in rendered and "job1" in rendered
    assert card.status == "warning"
    assert "not set up" in to_text(org_status(configured=False))


@pytest.mark.parametrize(
    ("card", "next_step"),
    [
        (error_not_admin(), "/cronofy admins"),
        (error_not_connected("https://app.cronofy.com/oauth/authorize?x=1"), "connect"),
        (error_keys_rejected("invalid_client"), "/cronofy setup"),
        (error_cronofy_unreachable(), "try again"),
        (error_invite_bot("#hiring", "slack"), "/invite @Slotbot in #hiring"),
        (error_invite_bot("Hiring", "teams"), "add the Slotbot app to the team"),
        (error_invite_bot("#hiring"), "add Slotbot to #hiring"),
        (error_usage("/schedule link set <url>", "Not a link."), "/schedule link set <url>"),
    ],
)
def test_errors_say_what_to_do_next(card: Card, next_step: str) -> None:
    text = to_text(card)
    assert "What to do" in text and next_step in text
    assert card.status == "attention"


def test_confirm_sends_the_action_or_cancels() -> None:
    card = confirm("Reset?", "cronofy.reset", "T1")
    assert [(b.action_id, b.value, b.style) for b in card.buttons] == [
        ("cronofy.reset", "T1", "danger"),
        ("confirm.cancel", "cronofy.reset", None),
    ]
    execute = [a for n in to_teams(card)["body"] if n["type"] == "ActionSet" for a in n["actions"]]
    assert execute[0]["style"] == "destructive" and execute[0]["verb"] == "cronofy.reset"


def test_slack_bold_stays_balanced_when_text_is_cut() -> None:
    for size in (10, 2990, 2998, 2999, 3000, 5000):
        card = Card([Section(["x" * (3000 - min(size, 2999)), Strong("b" * size)])])
        (block,) = to_slack(card).blocks
        text = block["text"]["text"]
        assert len(text) <= 3000
        assert text.count("*") % 2 == 0, size
    # a time token that does not fit stops the text; a later bold part must not open
    crowded = Card([Section(["x" * 2940, TimeValue(START), Strong("late")])])
    assert to_slack(crowded).blocks[0]["text"]["text"].count("*") == 0
    multi = to_slack(Card([Section("one\n two \n\nthree", emphasis="strong")])).blocks[0]
    assert multi["text"]["text"] == "*one*\n *two* \n\n*three*"


def test_help_is_typed_the_way_each_platform_types_it() -> None:
    slack, teams = to_text(help_card("slack")), to_text(help_card("teams"))
    assert "/schedule link for <email>" in slack and "/cronofy setup" in slack
    assert "/schedule" not in teams and "/cronofy" not in teams
    assert "schedule link for <email>" in teams and "cronofy setup" in teams
