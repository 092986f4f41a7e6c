"""The card model's JSON form round-trips exactly; bad input is refused clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cards.demo import sample_cards
from cards.model import (
    Actions,
    Button,
    Card,
    Choice,
    ChoiceInput,
    Divider,
    Fact,
    Facts,
    Footer,
    Header,
    Link,
    Section,
    Strong,
    TextInput,
    TimeValue,
    card_from_dict,
    card_to_dict,
)
from tests.cards.checks import FUZZ_EXAMPLES


def _json_round_trip(card: Card) -> Card:
    return card_from_dict(json.loads(json.dumps(card_to_dict(card))))


@pytest.mark.parametrize("name", sorted(sample_cards()))
def test_every_library_card_round_trips_through_json(name: str) -> None:
    card = sample_cards()[name]
    assert _json_round_trip(card) == card


def test_every_element_type_round_trips_with_its_fields() -> None:
    paris = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Paris"))
    card = Card(
        blocks=[
            Header("Title"),
            Section(
                [
                    "a ",
                    Strong("b"),
                    TimeValue(paris, paris + timedelta(hours=1), "Europe/Paris"),
                    Link("https://x.test", "x"),
                ],
                emphasis="strong",
            ),
            Section("plain", emphasis="subtle"),
            Facts([Fact("When", TimeValue(paris, show="date")), Fact("Who", "Ada")]),
            Link("mailto:a@b.test"),
            Actions(
                [
                    Button("Go", kind="open_url", url="https://x.test", style="danger"),
                    Button("Do", action_id="a.b", value="v", submit=True),
                ]
            ),
            TextInput(
                "secret",
                "Secret",
                secret=True,
                required=False,
                multiline=True,
                hint="h",
                placeholder="p",
                value="v",
            ),
            ChoiceInput("dc", "DC", [Choice("us", "US")], value="us", hint="h", required=False),
            Divider(),
            Footer([Strong("f"), " g"]),
        ],
        status="attention",
        fallback="fb",
    )
    data = card_to_dict(card)
    assert [b["type"] for b in data["blocks"]] == [
        "header",
        "section",
        "section",
        "facts",
        "link",
        "actions",
        "text_input",
        "choice_input",
        "divider",
        "footer",
    ]
    back = _json_round_trip(card)
    assert back == card
    # the instant survives, kept in UTC whatever offset it was given in
    time_value = back.blocks[1].content[2]  # type: ignore[union-attr,index]
    assert time_value.at == paris and time_value.at.utcoffset() == timedelta(0)


def test_time_values_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeValue(datetime(2026, 1, 1, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        TimeValue(datetime(2026, 1, 1, 9, 0, tzinfo=UTC), end=datetime(2026, 1, 1, 10, 0))


@pytest.mark.parametrize(
    "data",
    [
        {"blocks": [{"type": "marquee", "text": "hi"}]},
        {"blocks": "nope"},
        {"blocks": [], "status": "purple"},
        {"blocks": [{"type": "time", "at": {"type": "datetime", "iso": "2026-01-01T09:00:00"}}]},
        {"blocks": [{"type": "header"}]},
        [],
    ],
)
def test_malformed_stored_cards_raise_value_error(data: object) -> None:
    with pytest.raises(ValueError):
        card_from_dict(data)  # type: ignore[arg-type]


def test_unknown_keys_from_a_newer_format_are_ignored() -> None:
    data = card_to_dict(Card([Header("x")]))
    data["blocks"][0]["colour"] = "red"
    data["added_later"] = 1
    assert card_from_dict(data) == Card([Header("x")])


_aware = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), ZoneInfo("America/New_York")]
    ),
)
_inline = st.one_of(
    st.text(),
    st.builds(Strong, st.text()),
    st.builds(TimeValue, _aware, st.none() | _aware, st.none() | st.text()),
    st.builds(Link, st.text(), st.text()),
)
_content = st.one_of(_inline, st.lists(_inline, max_size=4))
_element = st.one_of(
    st.builds(Header, st.text()),
    st.builds(Section, _content, st.sampled_from(["normal", "strong", "subtle"])),
    st.builds(Facts, st.lists(st.builds(Fact, st.text(), _content), max_size=3)),
    st.builds(
        Actions,
        st.lists(
            st.builds(
                Button,
                st.text(),
                st.sampled_from(["open_url", "action"]),
                st.text(),
                st.text(),
                st.text(),
            ),
            max_size=3,
        ),
    ),
    st.builds(TextInput, st.text(), st.text(), st.text(), secret=st.booleans()),
    st.builds(
        ChoiceInput,
        st.text(),
        st.text(),
        st.lists(st.builds(Choice, st.text(), st.text()), max_size=3),
        st.none() | st.text(),
    ),
    st.just(Divider()),
    st.builds(Footer, _content),
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.builds(
        Card,
        st.lists(_element, max_size=6),
        st.sampled_from([None, "good", "warning", "attention"]),
        st.text(),
    )
)
def test_any_card_round_trips_through_json(card: Card) -> None:
    assert _json_round_trip(card) == card
