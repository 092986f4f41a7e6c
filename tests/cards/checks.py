"""Validators for rendered cards: Block Kit limits via slack_sdk, Adaptive Card 1.5 schema."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import jsonschema
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.support.schemas import adaptive_card_validator

FUZZ_EXAMPLES = int(os.environ.get("SLOTBOT_FUZZ_EXAMPLES", "30"))

# our own markup inside Slack mrkdwn: date tokens and links
_SLACK_DATE = re.compile(r"<!date\^\d+\^\{[a-z_]+\}(?: \{time\})?\|[^<>|]*>")
_SLACK_LINK = re.compile(r"<(?:https?://|mailto:)[^<>|\s]*(?:\|[^<>]*)?>")
_TEAMS_TIME = re.compile(
    r"\{\{(?:DATE\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, SHORT\)|TIME\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\))\}\}"
)


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every dict in a JSON tree."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def check_teams(card: dict[str, Any]) -> None:
    """Valid Adaptive Card 1.5 (schema, offline) plus what Teams needs beyond the schema."""
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card.get("msteams", {"width": "Full"}) == {"width": "Full"}
    without_msteams = {k: v for k, v in card.items() if k != "msteams"}
    errors = list(adaptive_card_validator().iter_errors(without_msteams))
    assert not errors, str(jsonschema.exceptions.best_match(errors))
    assert len(json.dumps(card)) < 28_000, "Teams rejects cards over ~28 KB"
    ids = [n["id"] for n in _walk(card["body"]) if str(n.get("type", "")).startswith("Input.")]
    assert len(ids) == len(set(ids))
    for node in _walk(card):
        if node.get("type") == "Action.Execute":
            assert node["verb"] == node["data"]["action_id"]
            assert set(node["data"]) == {"action_id", "value"}
            assert node["fallback"]["type"] == "Action.Submit"
            assert node["fallback"]["data"] == node["data"]
        if node.get("type") == "Action.OpenUrl":
            assert node["url"].startswith(("https://", "http://", "mailto:"))


def teams_texts(card: dict[str, Any]) -> list[str]:
    """All markdown-bearing strings in a card: TextBlock texts and fact titles/values."""
    texts: list[str] = []
    for node in _walk(card["body"]):
        if node.get("type") == "TextBlock":
            texts.append(node["text"])
        if "title" in node and "value" in node and "type" not in node:
            texts += [node["title"], node["value"]]
    return texts


def assert_teams_inert(card: dict[str, Any]) -> None:
    """No template expression, mention tag or binding that we did not put there."""
    for text in teams_texts(card):
        rest = _TEAMS_TIME.sub("", text)
        assert "{{" not in rest, text
        assert "${" not in rest, text
        assert "<at" not in rest.lower(), text


def check_slack_blocks(blocks: list[dict[str, Any]], *, max_blocks: int = 50) -> None:
    """Parses with slack_sdk, round-trips unchanged, and keeps every Block Kit limit."""
    parsed = Block.parse_all(blocks)
    assert None not in parsed
    assert [b.to_dict() for b in parsed] == blocks  # to_dict validates nested limits too
    assert len(blocks) <= max_blocks
    action_ids: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        if kind == "section":
            if "text" in block:
                assert 0 < len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(0 < len(f["text"]) <= 2000 for f in fields)
        if kind == "actions":
            assert 0 < len(block["elements"]) <= 25
        if kind == "context":
            assert 0 < len(block["elements"]) <= 10
    for node in _walk(blocks):
        if node.get("type") in ("plain_text", "mrkdwn"):
            assert node["text"].replace("\u200b", "").strip(), f"Slack refuses blank text: {node}"
        if node.get("type") == "button":
            assert 0 < len(node["text"]["text"]) <= 75
            assert len(node.get("url", "")) <= 3000
            assert len(node.get("value", "")) <= 2000
        if "action_id" in node:
            action_ids.append(node["action_id"])
    assert len(action_ids) == len(set(action_ids)), "action_id must be unique per message"


def check_slack_view(view: dict[str, Any]) -> None:
    built = View(**view)
    built.validate_json()
    assert built.to_dict() == view
    check_slack_blocks(view["blocks"], max_blocks=100)


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [n["text"] for n in _walk(blocks) if n.get("type") == "mrkdwn"]


def assert_slack_inert(blocks: list[dict[str, Any]], text: str) -> None:
    """No raw <, > or bare & in mrkdwn except our own date tokens and links: nothing
    pings (<!channel>, <@U123>) and nothing breaks out of a link."""
    for value in [*mrkdwn_texts(blocks), text]:
        rest = _SLACK_LINK.sub("", _SLACK_DATE.sub("", value))
        assert "<" not in rest and ">" not in rest, value
        assert re.search(r"&(?!amp;|lt;|gt;)", rest) is None, value
        assert re.search(r"@(here|channel|everyone)\b", rest, re.IGNORECASE) is None, value
