"""A lease handed on through a kv document (`Store.take_lease`): the outbox keeps the order
of a conversation's messages with one (bot.outbox.worker)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lease:
    """The document as the last holder left it, and whether this caller now holds the lease
    of its generation."""

    doc: dict[str, object] = field(default_factory=dict)
    taken: bool = False

    @property
    def gen(self) -> int:
        return generation(self.doc)


def generation(doc: dict[str, object]) -> int:
    """The document's generation: its integer "gen", 0 when it has none."""
    gen = doc.get("gen")
    return gen if isinstance(gen, int) and not isinstance(gen, bool) else 0


def claim_key(namespace: str, key: str, gen: int) -> str:
    """The dedupe claim that holds generation `gen` of the lease."""
    return f"{claim_prefix(namespace, key)}{gen}"


def claim_prefix(namespace: str, key: str) -> str:
    """The claims of the lease's generations: this, then the generation."""
    return f"{namespace}:{key}:"
