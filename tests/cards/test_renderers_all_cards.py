"""Every library card renders validly for Slack, Teams and plain text."""

from __future__ import annotations

import pytest

from cards.alerts import AlertView, alert
from cards.demo import sample_cards
from cards.model import Card
from cards.scheduling import your_link
from cards.setup import setup_form
from cards.slack import to_slack, to_slack_home, to_slack_modal
from cards.teams import to_teams
from cards.text import to_text
from tests.cards.checks import (
    assert_slack_inert,
    assert_teams_inert,
    check_slack_blocks,
    check_slack_view,
    check_teams,
)
from tests.support.schemas import SCHEMAS

CARDS = sample_cards()


def test_the_schemas_ship_with_the_repository() -> None:
    assert (SCHEMAS / "adaptive-card-1.5.json").is_file()


@pytest.mark.parametrize("name", sorted(CARDS))
def test_teams_rendering_is_a_valid_adaptive_card_1_5(name: str) -> None:
    rendered = to_teams(CARDS[name])
    check_teams(rendered)
    assert_teams_inert(rendered)


@pytest.mark.parametrize("name", sorted(CARDS))
def test_slack_rendering_keeps_block_kit_rules(name: str) -> None:
    message = to_slack(CARDS[name])
    check_slack_blocks(message.blocks)
    assert message.text.strip()
    assert_slack_inert(message.blocks, message.text)


@pytest.mark.parametrize("name", sorted(CARDS))
def test_text_rendering_is_readable(name: str) -> None:
    text = to_text(CARDS[name])
    assert text.strip()
    assert CARDS[name].title.split(":")[0] in text
    assert "{{" not in text and "<!" not in text


@pytest.mark.parametrize("name", sorted(CARDS))
def test_slack_home_view_is_valid(name: str) -> None:
    check_slack_view(to_slack_home(CARDS[name]))


def test_setup_form_as_a_slack_modal_reads_back_by_input_name() -> None:
    view = to_slack_modal(setup_form(data_center="de", client_id="abc"), "cronofy_setup", "Save")
    check_slack_view(view)
    assert view["callback_id"] == "cronofy_setup"
    assert view["title"]["text"] == "Cronofy setup"
    assert view["submit"]["text"] == "Save"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert set(inputs) == {"client_id", "client_secret", "data_center"}
    for name, block in inputs.items():
        assert block["element"]["action_id"] == name
    assert inputs["client_id"]["element"]["initial_value"] == "abc"
    select = inputs["data_center"]["element"]
    assert select["type"] == "static_select"
    assert [o["value"] for o in select["options"]] == ["us", "uk", "de", "au", "ca", "sg"]
    assert select["initial_option"]["value"] == "de"
    assert select["options"][0]["text"]["text"] == "United States (us)"
    # the card's own submit button is replaced by the modal's Submit
    assert not any(b["type"] == "actions" for b in view["blocks"])


def test_setup_form_for_teams_submits_inputs_with_execute_and_masks_the_secret() -> None:
    card = to_teams(setup_form())
    inputs = {n["id"]: n for n in card["body"] if str(n.get("type", "")).startswith("Input.")}
    assert set(inputs) == {"client_id", "client_secret", "data_center"}
    assert inputs["client_secret"]["style"] == "password"
    assert "style" not in inputs["client_id"]
    assert inputs["data_center"]["value"] == "us"
    assert {"title": "Canada (ca)", "value": "ca"} in inputs["data_center"]["choices"]
    (action_set,) = [n for n in card["body"] if n["type"] == "ActionSet"]
    (submit,) = action_set["actions"]
    assert submit["type"] == "Action.Execute"
    assert submit["verb"] == "setup.submit"
    assert submit["associatedInputs"] == "auto"
    assert submit["fallback"]["type"] == "Action.Submit"
    assert submit["fallback"]["associatedInputs"] == "auto"


def test_your_link_has_share_and_open_on_both_platforms() -> None:
    url = "https://app.cronofy.com/pls/Q5-ZDPM8?a=1&b=2"
    card = your_link(url)
    slack_buttons = [
        e for b in to_slack(card).blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert slack_buttons[0]["action_id"] == "link.share"
    assert slack_buttons[0]["value"] == url
    assert slack_buttons[1]["url"] == url
    teams_actions = [
        a for n in to_teams(card)["body"] if n["type"] == "ActionSet" for a in n["actions"]
    ]
    assert teams_actions[0]["data"] == {"action_id": "link.share", "value": url}
    assert teams_actions[1] == {"type": "Action.OpenUrl", "title": "Open", "url": url}
    # the link itself survives Slack escaping (& becomes &amp; inside <...>)
    assert any("<https://app.cronofy.com/pls/Q5-ZDPM8?a=1&amp;b=2|" in t for t in _mrkdwn(card))


def _mrkdwn(card: Card) -> list[str]:
    from tests.cards.checks import mrkdwn_texts

    return mrkdwn_texts(to_slack(card).blocks)


def test_status_colours_the_teams_header_and_prefixes_slack_and_text() -> None:
    for kind, style in [
        ("booked", "good"),
        ("rescheduled", "warning"),
        ("cancelled", "attention"),
        ("declined", "attention"),
    ]:
        card = alert(kind, AlertView(candidate_name="Ada"), audience="channel")
        assert card.status == style
        header = to_teams(card)["body"][0]
        assert header["type"] == "Container" and header["style"] == style
        assert header["items"][0]["color"] == style
        slack_header = to_slack(card).blocks[0]["text"]["text"]
        assert slack_header.split(" ", 1)[0] in ("✅", "🟠", "🔴")
    other = alert("other", AlertView(candidate_name="Ada"), audience="channel")
    assert other.status is None
    assert to_teams(other)["body"][0]["type"] == "TextBlock"


def test_modal_private_metadata_is_kept_whole_or_refused() -> None:
    view = to_slack_modal(setup_form(), "cb", "Save", private_metadata='{"channel": "C1"}')
    assert view["private_metadata"] == '{"channel": "C1"}'
    with pytest.raises(ValueError, match="3000"):
        to_slack_modal(setup_form(), "cb", "Save", private_metadata="x" * 3001)
