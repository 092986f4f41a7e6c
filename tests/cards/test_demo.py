"""`python -m bot cards --demo [--json]`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cards.demo import main, sample_cards

REPO = Path(__file__).resolve().parents[2]


def test_json_demo_has_every_card_for_every_renderer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == set(sample_cards())
    for name, rendered in data.items():
        assert set(rendered) == {"slack", "teams", "text"}, name
        assert set(rendered["slack"]) == {"blocks", "text"}
        assert rendered["teams"]["type"] == "AdaptiveCard"
        assert rendered["text"]


def test_text_demo_shows_every_card_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo"]) == 0
    out = capsys.readouterr().out
    for name in sample_cards():
        assert f"┌─ {name} " in out
    assert "Interview booked: Ada Lovelace" in out


def test_demo_can_pick_cards_and_rejects_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--json", "help"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == ["help"]
    assert main(["--demo", "nope"]) == 2
    assert "unknown card" in capsys.readouterr().err
    assert main([]) == 2


def test_cli_routes_cards_to_the_demo() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "cards", "--demo", "--json", "notice"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["notice"]["text"].startswith("Saved")
