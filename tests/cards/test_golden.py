"""Golden renderings of representative cards, so a reviewer sees exactly what is sent.

Regenerate after an intended change with: SLOTBOT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/cards
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cards.demo import render_all, sample_cards
from cards.slack import to_slack_modal

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_CARDS = [
    "alert_booked_channel",
    "alert_rescheduled_dm",
    "alert_cancelled_channel",
    "your_link",
    "setup_form",
    "setup_result",
    "org_status",
    "error_not_connected",
]


def _rendering(name: str) -> dict[str, Any]:
    card = sample_cards()[name]
    out = render_all({name: card})[name]
    if name == "setup_form":
        out["slack_modal"] = to_slack_modal(card, "cronofy_setup", "Save")
    return out


@pytest.mark.parametrize("name", GOLDEN_CARDS)
def test_rendering_matches_golden_file(name: str) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    actual = _rendering(name)
    if os.environ.get("SLOTBOT_UPDATE_GOLDEN") == "1":
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.is_file(), f"missing {path}; run with SLOTBOT_UPDATE_GOLDEN=1 to create it"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected, (
        f"{name} changed; if intended, regenerate with SLOTBOT_UPDATE_GOLDEN=1"
    )
