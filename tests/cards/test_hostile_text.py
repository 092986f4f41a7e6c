"""Hostile text (huge, emoji, right-to-left, markup, mentions, templates) never breaks a
message or pings anyone, on any renderer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cards.admin import DeadLetterView, admins_list, alerts_routed, org_status
from cards.alerts import AlertView, alert, error_invite_bot
from cards.candidates import CandidateView, TimelineView, UpcomingView, candidate_profile, upcoming
from cards.errors import confirm, error_keys_rejected, error_usage, notice
from cards.model import Card, Fact, Facts, Footer, Header, Link, Section, Strong, TimeValue
from cards.scheduling import calendar_connected, link_shared, status_for_member, your_link
from cards.setup import setup_form
from cards.slack import escape_mrkdwn, to_slack, to_slack_modal
from cards.teams import escape_markdown, to_teams
from cards.text import to_text
from tests.cards.checks import (
    FUZZ_EXAMPLES,
    assert_slack_inert,
    assert_teams_inert,
    check_slack_blocks,
    check_slack_view,
    check_teams,
)

START = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
HOSTILE = [
    "x" * 5000,
    "<!channel> <!here|here> <@U123> <#C123> @here @channel @everyone",
    "*bold* _italic_ ~strike~ `code` ```block``` > quote",
    "a & b < c > d &amp; &lt;",
    "{{DATE(2026-01-01T00:00:00Z, SHORT)}} ${name} {{{{",
    "<at>Everyone</at> <AT>x</AT>",
    "שלום עולם مرحبا بالعالم",
    "\u202eevil\u202c reversed \u2066iso\u2069 \x00\x07\x1b[31m",
    "👩‍👩‍👧‍👦🏳️‍🌈 e\u0301 \ufeff",
    "[click](javascript:alert(1)) <https://evil.test|trust me>",
    "- list\n1. item\n# heading\n+ plus",
    "line\r\nbreaks\rand\ttabs",
    "",
    "   ",
]


def _render_everything(card: Card) -> tuple[str, str, str]:
    message = to_slack(card)
    check_slack_blocks(message.blocks)
    assert_slack_inert(message.blocks, message.text)
    teams = to_teams(card)
    check_teams(teams)
    assert_teams_inert(teams)
    text = to_text(card)
    assert "\x00" not in text and "\u202e" not in text and "\x1b" not in text
    return (
        json.dumps(message.blocks, ensure_ascii=False),
        json.dumps(teams, ensure_ascii=False),
        text,
    )


def _alert_for(name: str) -> AlertView:
    return AlertView(
        candidate_name=name,
        candidate_email=name,
        candidate_phone=name,
        notes=name,
        recruiter_name=name,
        start=START,
        end=START + timedelta(minutes=45),
        zone=name,
        previous_start=START - timedelta(days=1),
        meeting_url=name,
        profile_url=name,
        candidate_id=name[:100],
        reschedule_url=name,
        decline_url=name,
        booking_id=name,
        raw_type=name,
    )


def _cards_with(name: str) -> list[Card]:
    return [
        *(
            alert(kind, _alert_for(name), audience=aud)
            for kind in ("booked", "rescheduled", "cancelled", "declined", "other")
            for aud in ("channel", "dm")
        ),  # type: ignore[arg-type]
        your_link("https://app.cronofy.com/pls/x", candidate_name=name, candidate_email=name),
        link_shared("https://app.cronofy.com/pls/x", name),
        error_keys_rejected(name),
        error_invite_bot(name),
        error_usage(name, name),
        notice(name, name),
        confirm(name, "cronofy.reset", "T1"),
        admins_list([name, name]),
        alerts_routed(name, [name]),
        calendar_connected(name, name),
        status_for_member(connected=True, email=name, name=name, link=name, zone=name),
        candidate_profile(
            CandidateView(
                email=name,
                name=name,
                phone=name,
                notes=name,
                recruiter_name=name,
                first_seen=START,
                zone=name,
            ),
            [
                TimelineView(
                    kind=name,
                    at=START,
                    start=START,
                    recruiter_name=name,
                    meeting_url=name,
                    note=name,
                    raw_type=name,
                    zone=name,
                )
            ],
        ),
        upcoming([UpcomingView(name, START, zone=name, meeting_url=name)]),
        org_status(
            configured=True,
            client_id=name,
            data_center=name,
            push_url=name,
            last_callback_at=START,
            counts={name: 1},
            dead_letters=[DeadLetterView(name, name, START, name, name)],
            routes=[name],
            admins=[name],
        ),
        Card(
            [
                Header(name),
                Section(name),
                Section([Strong(name), Link(name, name)], "strong"),
                Section(name, "subtle"),
                Facts([Fact(name, name)] * 12),
                Footer(name),
            ],
            fallback=name,
        ),
    ]


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_in_every_library_card(name: str) -> None:
    for card in _cards_with(name):
        _render_everything(card)


def test_mentions_are_escaped_not_sent() -> None:
    card = alert("booked", AlertView(candidate_name="<!channel> <@U123> @here"), audience="channel")
    slack, teams, text = _render_everything(card)
    assert "&lt;!channel&gt;" in slack and "&lt;@U123&gt;" in slack
    assert "<!channel>" not in teams and "<@U123>" not in teams
    assert "<!channel>" not in to_slack(card).text
    at = to_teams(notice("x", "<at>Everyone</at>"))["body"][1]["text"]
    assert "<at>" not in at and "at>Everyone" in at
    assert "<!channel> <@U123>" in text  # plain text is shown as typed


def test_a_5000_character_name_is_truncated_everywhere() -> None:
    card = alert("booked", AlertView(candidate_name="N" * 5000, start=START), audience="dm")
    message = to_slack(card)
    assert len(message.blocks[0]["text"]["text"]) <= 150
    assert message.blocks[0]["text"]["text"].endswith("…")
    assert len(json.dumps(to_teams(card))) < 10_000
    assert max(len(line) for line in to_text(card).splitlines()) < 400


def test_markdown_marks_are_neutralised_for_teams() -> None:
    assert escape_markdown("*bold* _it_ ~s~ `c` [l](u)") == r"\*bold\* \_it\_ \~s\~ \`c\` \[l\](u)"
    assert escape_markdown("john_doe@example.com") == "john_doe@example.com"
    assert escape_markdown("- a\n1. b\n# c") == "\\- a\n1\\. b\n\\# c"
    assert escape_markdown("{{x}}") == "{\u200b{x}}"


def test_mrkdwn_marks_and_entities_are_neutralised_for_slack() -> None:
    assert escape_mrkdwn("a & b <c>") == "a &amp; b &lt;c&gt;"
    assert escape_mrkdwn("*bold*") == "\u200b*bold\u200b*"
    assert escape_mrkdwn("john_doe") == "john_doe"
    assert escape_mrkdwn("@here") == "@\u200bhere"


def test_unsafe_link_schemes_render_as_text_and_buttons_are_dropped() -> None:
    card = Card(
        [
            Section([Link("javascript:alert(1)", "click")]),
            *your_link("javascript:alert(1)").blocks[2:],
        ]
    )
    slack = json.dumps(to_slack(card).blocks)
    teams = json.dumps(to_teams(card))
    assert "javascript:" not in teams.replace(
        '"javascript:alert(1)"', ""
    )  # only as the Share value
    assert '"url": "javascript' not in slack and "<javascript" not in slack


def test_hostile_modal_is_still_a_valid_view() -> None:
    for name in HOSTILE:
        view = to_slack_modal(setup_form(data_center=name, client_id=name), "cb", name or "Save")
        check_slack_view(view)


def _escaped_all_marks(text: str) -> bool:
    """Every markdown mark in `text` is preceded by an unescaped backslash (or intraword _)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*~`[]":
            return False
        if ch == "_" and not (
            0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        ):
            return False
        i += 1
    return True


@settings(max_examples=FUZZ_EXAMPLES * 4, deadline=None)
@given(st.text())
def test_escaped_text_is_inert_for_any_input(text: str) -> None:
    teams = escape_markdown(text)
    assert _escaped_all_marks(teams)
    assert "{{" not in teams and "<at" not in teams.lower()
    slack = escape_mrkdwn(text)
    assert "<" not in slack and ">" not in slack
    for mark in "*~`":
        assert slack.count(mark) == slack.count("\u200b" + mark)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.text(),
    st.text(max_size=300),
    st.sampled_from(["booked", "rescheduled", "cancelled", "declined", "other", "weird"]),
    st.sampled_from(["channel", "dm"]),
)
def test_alerts_with_arbitrary_text_render_validly_everywhere(
    name: str, other: str, kind: str, audience: str
) -> None:
    event = AlertView(
        candidate_name=name,
        candidate_email=other,
        recruiter_name=other,
        notes=name,
        start=START,
        meeting_url=other,
        raw_type=other,
        zone=other,
    )
    _render_everything(alert(kind, event, audience=audience))  # type: ignore[arg-type]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=6))
def test_generic_cards_with_arbitrary_text_render_validly_everywhere(texts: list[str]) -> None:
    t = (texts * 6)[:6]
    card = Card(
        [
            Header(t[0]),
            Section([t[1], Strong(t[2]), TimeValue(START, zone=t[3]), Link(t[4], t[5])]),
            Facts([Fact(t[2], t[3])]),
            Footer(t[5]),
        ],
        status="good",
        fallback=t[0],
    )
    _render_everything(card)
    _render_everything(notice(t[0], t[1]))
