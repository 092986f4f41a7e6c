"""What the console reads off a card: a form's fields, the buttons to press, the links."""

from __future__ import annotations

from cards import actions
from cards.console import (
    FormField,
    connect_link,
    field_prompt,
    form_fields,
    form_problems,
    links,
    presses,
)
from cards.errors import error_not_connected
from cards.scheduling import connect_prompt, your_link
from cards.setup import setup_form


def test_the_setup_form_as_fields() -> None:
    fields = form_fields(setup_form(data_center="uk", client_id="abc"))
    assert [f.name for f in fields] == [
        actions.CLIENT_ID,
        actions.CLIENT_SECRET,
        actions.DATA_CENTER,
    ]
    client_id, secret, center = fields
    assert (client_id.value, client_id.secret) == ("abc", False)
    assert secret.secret and secret.value == ""
    assert center.value == "uk" and center.choices == ("us", "uk", "de", "au", "ca", "sg")
    assert field_prompt(center, "us") == "  Data center (us, uk, de, au, ca, sg) [us]: "
    assert "CRN_" not in field_prompt(secret, "CRN_shown_above_only")


def test_form_problems_name_the_fields_and_skip_the_whole_form_note() -> None:
    fields = [FormField(actions.CLIENT_ID, "Client ID")]
    problems = {actions.CLIENT_ID: "Not\nrecognised.", "form": "the card again"}
    assert form_problems(problems, fields) == "  ✗ Client ID: Not recognised."


def test_buttons_to_press_and_links() -> None:
    url = "https://app.cronofy.com/pls/abc?correlation_id=sb1&utm_source=console"
    card = your_link(url, candidate_email="jane@example.com", share_value="tracked:sb1")
    assert [(p.action_id, p.value) for p in presses(card)] == [(actions.SHARE_LINK, "tracked:sb1")]
    assert url in links(card)
    assert connect_link(card) is None
    assert presses(setup_form()) == []  # a form's submit is not a button to press


def test_the_connect_button_wherever_it_is() -> None:
    url = "http://127.0.0.1:9/oauth/authorize?state=s"
    assert connect_link(connect_prompt(url)) == url
    assert connect_link(error_not_connected(url)) == url
    assert links(connect_prompt("javascript:alert(1)")) == []
