"""Cards to Block Kit, and the small cards only the Slack adapter shows."""

from __future__ import annotations

from typing import Any

from cards.model import Card, Section
from cards.slack import SlackMessage, base_action_id, to_slack, to_slack_home, to_slack_modal

__all__ = [
    "SlackMessage",
    "base_action_id",
    "modal_view",
    "note_card",
    "render_home",
    "render_message",
]


def render_message(card: Card) -> SlackMessage:
    return to_slack(card)


def modal_view(
    card: Card, callback_id: str, submit_label: str = "Save", private_metadata: str = ""
) -> dict[str, Any]:
    return to_slack_modal(card, callback_id, submit_label, private_metadata=private_metadata)


def render_home(card: Card) -> dict[str, Any]:
    return to_slack_home(card)


def note_card(text: str) -> Card:
    """A one-paragraph card for the adapter's own short answers."""
    return Card(blocks=[Section(text)], fallback=text)
