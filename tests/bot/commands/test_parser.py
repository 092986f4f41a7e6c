"""The command parser: pure text in, typed command or a usage error out."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import parser as p
from bot.store.records import ALERT_KINDS, BOOKING_KINDS

EXAMPLES = int(os.environ.get("SLOTBOT_FUZZ_EXAMPLES", "200"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", p.Help()),
        ("help", p.Help()),
        ("/help", p.Help()),
        ("help cronofy", p.Help("cronofy")),
        ("schedule", p.Help("schedule")),
        ("/schedule help", p.Help("schedule")),
        ("/cronofy", p.Help("cronofy")),
        ("schedule link", p.Link()),
        ("/SCHEDULE  Link\tShare", p.LinkShare()),
        (
            "schedule link set https://app.cronofy.com/pls/Q5-ZDPM8",
            p.LinkSet("https://app.cronofy.com/pls/Q5-ZDPM8"),
        ),
        ("schedule link for Jane@Example.com", p.LinkFor("jane@example.com")),
        ("schedule link for jane@example.com Jane  Doe", p.LinkFor("jane@example.com", "Jane Doe")),
        ("schedule link for mailto:jane@example.com Jane", p.LinkFor("jane@example.com", "Jane")),
        ("schedule connect", p.Connect()),
        ("schedule disconnect", p.Disconnect()),
        ("schedule status", p.Status()),
        ("schedule candidate jane@example.com", p.CandidateShow("jane@example.com")),
        ("schedule upcoming", p.Upcoming()),
        ("schedule alerts ON", p.DmAlerts(True)),
        ("schedule alerts off", p.DmAlerts(False)),
        ("schedule agenda", p.AgendaShow()),
        ("schedule agenda on", p.AgendaOn("08:30")),
        ("schedule agenda ON 7:05", p.AgendaOn("07:05")),
        ("schedule agenda on 23:59", p.AgendaOn("23:59")),
        ("/schedule agenda Off", p.AgendaOff()),
        ("schedule reminders", p.RemindersShow()),
        ("schedule reminders off", p.RemindersSet(None)),
        ("schedule Reminders OFF", p.RemindersSet(None)),
        ("schedule reminders on", p.RemindersSet(15)),
        ("schedule reminders 30", p.RemindersSet(30)),
        ("schedule reminders 1", p.RemindersSet(1)),
        ("schedule reminders 1440", p.RemindersSet(1440)),
        ("schedule reminders 10m", p.RemindersSet(10)),
        ("schedule reminders 45min", p.RemindersSet(45)),
        ("cronofy setup", p.Setup()),
        ("cronofy status", p.OrgStatus()),
        ("cronofy reset", p.Reset()),
        ("cronofy alerts", p.AlertsShow()),
        ("cronofy alerts here", p.AlertsRoute()),
        ("cronofy alerts here booked,cancelled", p.AlertsRoute(("booked", "cancelled"))),
        ("cronofy alerts here cancelled booked booked", p.AlertsRoute(("booked", "cancelled"))),
        ("cronofy alerts here all", p.AlertsRoute(ALERT_KINDS)),
        ("cronofy alerts #C0123ABC declined", p.AlertsRoute(("declined",), "C0123ABC")),
        ("cronofy alerts #C0123ABC", p.AlertsRoute(BOOKING_KINDS, "C0123ABC")),
        ("cronofy alerts off", p.AlertsOff()),
        ("cronofy alerts off #C0123ABC", p.AlertsOff("C0123ABC")),
        ("cronofy admins", p.AdminsShow()),
        ("cronofy admins add @U024BE7LH", p.AdminsAdd("U024BE7LH")),
        ("cronofy admins remove @29:1abc-def_ghi", p.AdminsRemove("29:1abc-def_ghi")),
        (
            "cronofy admins remove @6f1c2a9e-4b1d-4c7e-9a51-1d1b2c3d4e5f",
            p.AdminsRemove("6f1c2a9e-4b1d-4c7e-9a51-1d1b2c3d4e5f"),
        ),
    ],
)
def test_parses(text: str, expected: p.Command) -> None:
    assert p.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "usage_key", "problem"),
    [
        ("schedule lnk", "schedule", "Unknown subcommand"),
        ("calendar link", "help", "I didn't understand “calendar link”"),
        ("schedule link set", "schedule link set", "Paste"),
        ("schedule link set app.cronofy.com/pls/x", "schedule link set", "not a link"),
        ("schedule link set javascript:alert(1)", "schedule link set", "not a link"),
        (
            "schedule link set https://app.cronofy.com/pls/x extra",
            "schedule link set",
            "Unexpected",
        ),
        ("schedule link for", "schedule link for", "email"),
        ("schedule link for jane", "schedule link for", "not an email"),
        ("schedule link for jane@@example.com", "schedule link for", "not an email"),
        ("schedule link for jane..x@example.com", "schedule link for", "not an email"),
        ("schedule link for jane@example.com <!channel>", "schedule link for", "cannot contain"),
        ("schedule link for jane@example.com " + "x" * 101, "schedule link for", "too long"),
        ("schedule link share now", "schedule link share", "Unexpected"),
        ("schedule connect please", "schedule connect", "Unexpected"),
        ("schedule candidate", "schedule candidate", "email"),
        ("schedule candidate jane@example.com bob@example.com", "schedule candidate", "Unexpected"),
        ("schedule alerts", "schedule alerts", "on or off"),
        ("schedule alerts maybe", "schedule alerts", "on or off"),
        ("schedule agenda maybe", "schedule agenda", "on or off"),
        ("schedule agenda on 25:00", "schedule agenda", "“25:00” is not a time of day"),
        ("schedule agenda on 8am", "schedule agenda", "HH:MM"),
        ("schedule agenda on 08:30 daily", "schedule agenda", "Unexpected"),
        ("schedule agenda off now", "schedule agenda", "Unexpected"),
        ("schedule reminders 0", "schedule reminders", "from 1 to 1440"),
        ("schedule reminders 1441", "schedule reminders", "from 1 to 1440"),
        ("schedule reminders 99999999999999999999", "schedule reminders", "from 1 to 1440"),
        ("schedule reminders -5", "schedule reminders", "or off"),
        ("schedule reminders 1.5", "schedule reminders", "or off"),
        ("schedule reminders soon", "schedule reminders", "or off"),
        ("schedule reminders \u0661\u0665", "schedule reminders", "or off"),
        ("schedule reminders 15 minutes", "schedule reminders", "Unexpected"),
        ("schedule reminders off now", "schedule reminders", "Unexpected"),
        ("cronofy setup now", "cronofy setup", "Unexpected"),
        ("cronofy alerts here meetings", "cronofy alerts", "Unknown alert kind"),
        ("cronofy alerts here ,,", "cronofy alerts", "at least one"),
        ("cronofy alerts <#C123|hiring>", "cronofy alerts", "here"),
        ("cronofy alerts #", "cronofy alerts", "not a channel"),
        ("cronofy alerts everywhere", "cronofy alerts", "here"),
        ("cronofy admins add", "cronofy admins", "Whom"),
        ("cronofy admins promote @U1", "cronofy admins", "add or remove"),
        # a bare word is never a user: only ids an adapter resolved (`@<id>`) are
        ("cronofy admins add nobody", "cronofy admins", "not a user"),
        ("cronofy admins add U024BE7LH", "cronofy admins", "not a user"),
        ("cronofy admins add <@U024BE7LH|sam>", "cronofy admins", "not a user"),
        ("cronofy admins add @U1 @U2", "cronofy admins", "Unexpected"),
        ("help me", "help", "no arguments"),
        ("x" * 3000, "help", "too long"),
    ],
)
def test_malformed_input_gets_its_usage_line(text: str, usage_key: str, problem: str) -> None:
    with pytest.raises(p.UsageError) as error:
        p.parse(text)
    assert error.value.usage == p.USAGE[usage_key]
    assert problem in error.value.problem


def test_control_characters_never_reach_a_command() -> None:
    parsed = p.parse("schedule link for jane@example.com Jane\x00\x1b[31m\u202eDoe")
    assert isinstance(parsed, p.LinkFor)
    assert all(ch.isprintable() for ch in parsed.name)
    assert p.parse("schedule\x00link") == p.Link()


# --- properties ---------------------------------------------------------------------------

words = st.sampled_from(
    [
        "schedule",
        "cronofy",
        "help",
        "link",
        "set",
        "for",
        "share",
        "alerts",
        "here",
        "off",
        "on",
        "admins",
        "add",
        "remove",
        "<#C123|x>",
        "#C123",
        "@U1",
        "<@U1>",
        "a@b.co",
        "https://app.cronofy.com/pls/x",
        "/",
        "<",
        ">",
        "|",
        "booked",
        "all",
        ",",
        "\x00",
        "\u202e",
        "é",
    ]
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(words, max_size=8).map(" ".join)))
def test_fuzz_any_text_parses_or_gets_a_usage_line(text: str) -> None:
    try:
        command = p.parse(text)
    except p.UsageError as error:
        assert error.usage in p.USAGE.values()
        assert len(error.problem) < 200
    else:
        assert isinstance(command, p.Command)  # type: ignore[arg-type]


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,15}\.[a-z]{2,6}", fullmatch=True),
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="<>"
        ),
        max_size=40,
    ),
)
def test_fuzz_link_for_round_trips_email_and_name(email: str, name: str) -> None:
    if (
        ".." in email
        or email.startswith(".")
        or "-." in email
        or email.split("@")[1].startswith("-")
    ):
        return
    try:
        command = p.parse(f"schedule link for {email.upper()} {name}")
    except p.UsageError:
        assert (
            not name.strip()
            or len(" ".join(name.split())) > p.MAX_NAME
            or any(not c.isprintable() for c in name)
        )
        return
    assert command == p.LinkFor(
        email, " ".join("".join(c if c.isprintable() else " " for c in name).split())
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.sampled_from([*ALERT_KINDS, "all"]), min_size=1, max_size=6))
def test_fuzz_alert_kinds_are_canonical(kinds: list[str]) -> None:
    command = p.parse("cronofy alerts here " + ",".join(kinds))
    assert isinstance(command, p.AlertsRoute)
    expected = ALERT_KINDS if "all" in kinds else tuple(k for k in ALERT_KINDS if k in kinds)
    assert command.kinds == expected


def test_usage_offers_a_channel_only_where_the_platform_can_name_one() -> None:
    with pytest.raises(p.UsageError) as error:
        p.parse("cronofy alerts everywhere")
    assert "#channel" not in error.value.usage_for(channel_mentions=False)
    assert "<#" not in error.value.usage_for(channel_mentions=False)
    assert "#channel" in error.value.usage_for(channel_mentions=True)
