"""Render a card as plain text: for notification previews, logs and the terminal.

Times are shown in the time value's zone when it names one, else in UTC, always with the
zone written out, because plain text cannot localise for its reader.
"""

from __future__ import annotations

from cards._text import clean, format_time, inline_plain, one_line, safe_url, truncate
from cards.model import (
    Actions,
    Card,
    ChoiceInput,
    Divider,
    Facts,
    Footer,
    Header,
    Inline,
    Link,
    Section,
    TextInput,
    parts,
)

MAX_TEXT = 3000
MAX_LINE = 500
STATUS_MARK = {"good": "✅", "warning": "🟠", "attention": "🔴"}
RULE = "─" * 40


def _inline_text(content: Inline | list[Inline], limit: int = MAX_TEXT) -> str:
    return truncate("".join(inline_plain(p) for p in parts(content)), limit)


def _value(content: Inline | list[Inline]) -> str:
    return one_line(_inline_text(content, MAX_LINE))


def to_text(card: Card) -> str:
    """The card as readable plain text (no markup)."""
    lines: list[str] = []
    first_header = True
    for block in card.blocks:
        if isinstance(block, Header):
            title = truncate(one_line(block.text), MAX_LINE)
            if first_header and card.status in STATUS_MARK:
                title = f"{STATUS_MARK[card.status]} {title}"
            first_header = False
            lines += [title, "═" * min(max(len(title), 8), 60)]
        elif isinstance(block, Section):
            text = _inline_text(block.content)
            lines.append(f"  ({one_line(text)})" if block.emphasis == "subtle" else text)
        elif isinstance(block, Facts):
            labels = [truncate(one_line(f.label), 40) for f in block.facts]
            width = max((len(label) for label in labels), default=0) + 1
            for label, fact in zip(labels, block.facts, strict=True):
                lines.append(f"  {label + ':':<{width}} {_value(fact.value)}")
        elif isinstance(block, Link):
            lines.append(_inline_text(block))
        elif isinstance(block, Actions):
            for button in block.buttons:
                label = truncate(one_line(button.label), 75)
                if button.kind == "open_url":
                    url = safe_url(button.url)
                    if url:
                        lines.append(f"  [{label}] {url}")
                else:
                    lines.append(f"  [{label}]")
        elif isinstance(block, TextInput):
            shown = "••••••" if block.secret and block.value else one_line(block.value)
            note = "" if block.required else " (optional)"
            lines.append(f"  {one_line(block.label)}{note}: {shown or '________'}")
            if block.hint:
                lines.append(f"      {truncate(one_line(block.hint), MAX_LINE)}")
        elif isinstance(block, ChoiceInput):
            options = " / ".join(
                ("(•) " if c.value == block.value else "( ) ") + one_line(c.label)
                for c in block.choices
            )
            lines.append(f"  {one_line(block.label)}: {options}")
            if block.hint:
                lines.append(f"      {truncate(one_line(block.hint), MAX_LINE)}")
        elif isinstance(block, Divider):
            lines.append(RULE)
        elif isinstance(block, Footer):
            lines += ["", f"— {one_line(_inline_text(block.content, MAX_LINE))}"]
    return clean("\n".join(lines)).strip("\n")


__all__ = ["format_time", "to_text"]
