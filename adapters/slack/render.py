"""Cards to Block Kit: messages, modals and the App Home tab."""

from __future__ import annotations

from typing import Any

from cards.model import Card
from cards.setup import SUBMIT_LABEL
from cards.slack import SlackMessage, base_action_id, to_slack, to_slack_home, to_slack_modal

__all__ = [
    "SlackMessage",
    "base_action_id",
    "modal_view",
    "render_home",
    "render_message",
]


def render_message(card: Card) -> SlackMessage:
    return to_slack(card)


def modal_view(
    card: Card, callback_id: str, submit_label: str = SUBMIT_LABEL, private_metadata: str = ""
) -> dict[str, Any]:
    return to_slack_modal(card, callback_id, submit_label, private_metadata=private_metadata)


def render_home(card: Card) -> dict[str, Any]:
    return to_slack_home(card)
