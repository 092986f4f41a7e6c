"""The neutral card model (placeholder until the card model lands)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Card:
    title: str = ""
    blocks: list[Any] = field(default_factory=list)


def card_to_dict(card: Card) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(card)


def card_from_dict(data: dict[str, Any]) -> Card:
    return Card(**data)
