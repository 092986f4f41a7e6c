"""Our neutral cards as Teams message activities (Adaptive Card attachment + summary)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from cards.model import Card
from cards.teams import to_teams

SUMMARY_LIMIT = 250


def card_content(card: Card) -> dict[str, Any]:
    return to_teams(card)


def card_activity(content: dict[str, Any], summary: str | None = None) -> Activity:
    """A message carrying one Adaptive Card; the summary (notification and preview text)
    defaults to the card's own fallback text."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(content))
    text = summary if summary is not None else str(content.get("fallbackText") or "")
    activity.summary = text[:SUMMARY_LIMIT]
    return activity


def render(card: Card) -> Activity:
    return card_activity(card_content(card))


def with_errors(content: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The same card with the problems listed at the top (what a form re-sent after a bad
    submission shows)."""
    blocks: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message, "color": "Attention", "wrap": True}
        for _field, message in sorted(errors.items())
    ]
    out = dict(content)
    out["body"] = blocks + list(content.get("body", []))
    return out


def tag_actions(content: dict[str, Any], extra: dict[str, str]) -> dict[str, Any]:
    """Add `extra` to the data of every submit/execute action (including fallbacks), so a
    button pressed in a 1:1 chat still knows which conversation the card was meant for."""

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            copy = {k: visit(v) for k, v in node.items()}
            if copy.get("type") in ("Action.Submit", "Action.Execute"):
                data = copy.get("data")
                merged = dict(data) if isinstance(data, dict) else {}
                merged.update(extra)
                copy["data"] = merged
            return copy
        if isinstance(node, list):
            return [visit(item) for item in node]
        return node

    result: dict[str, Any] = visit(content)
    return result
