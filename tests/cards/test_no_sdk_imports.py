"""`cards/` is pure: it imports no chat or calendar SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import cards

FORBIDDEN = (
    "slack_sdk",
    "slack_bolt",
    "botbuilder",
    "botframework",
    "pycronofy",
    "aiohttp",
    "bot",
    "adapters",
)


def test_cards_imports_no_sdk() -> None:
    package = Path(cards.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert len(sources) >= 6
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{source.name} imports {name}"
