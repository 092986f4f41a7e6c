"""Render a card as a Microsoft Teams Adaptive Card (version 1.5). Pure; no Bot Framework SDK.

TextBlock text is markdown (a subset) and also goes through Adaptive Card template
functions, so untrusted text is escaped: markdown marks get a backslash, `{{` and `<`
(Teams' `<at>` mentions) are broken up with a zero-width space. Times are emitted as
`{{DATE(...)}} {{TIME(...)}}` with an ISO-8601 UTC value, so Teams shows each reader
their own zone. Action buttons are `Action.Execute` (verb = action_id) with an
`Action.Submit` fallback for clients without Universal Actions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cards._text import DASH, clean, fallback_text, iso_utc, one_line, safe_url, truncate
from cards.model import (
    Actions,
    Button,
    Card,
    ChoiceInput,
    Divider,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Inline,
    Link,
    Section,
    Strong,
    TextInput,
    TimeValue,
    parts,
)

SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
# no hard per-element limits in Teams, but a whole card must stay under ~28 KB
MAX_TEXT = 3000
MAX_FACT_TITLE = 200
MAX_FACT_VALUE = 1000
MAX_BUTTON_TEXT = 75
MAX_FALLBACK = 500
MAX_CARD_BYTES = 24_000  # under Teams' ~28 KB message limit, leaving room for the envelope
STATUS_COLOR = {"good": "good", "warning": "warning", "attention": "attention"}
ACTION_STYLE = {"primary": "positive", "danger": "destructive"}

_ZWSP = "\u200b"
_LINE_START_MARK = re.compile(r"^(\s*)([-+>#])(?=\s|$)", re.MULTILINE)
_LINE_START_NUMBER = re.compile(r"^(\s*\d+)\.(?=\s|$)", re.MULTILINE)
_MARKS = set("\\*_~`[]")


def escape_markdown(text: str) -> str:
    """Untrusted text made inert inside an Adaptive Card TextBlock (markdown + templates)."""
    text = clean(text)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _MARKS:
            before = text[i - 1] if i > 0 else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            if ch == "_" and before.isalnum() and after.isalnum():
                out.append(ch)  # intraword underscores (john_doe) never format
            else:
                out.append("\\" + ch)
        elif ch == "<":
            out.append("<" + _ZWSP)  # breaks <at>…</at> and any other tag
        elif ch == "{" and i + 1 < len(text) and text[i + 1] == "{":
            out.append("{" + _ZWSP)  # breaks {{template}} expressions
        elif ch == "$" and i + 1 < len(text) and text[i + 1] == "{":
            out.append("$" + _ZWSP)  # ${binding} in templated hosts
        else:
            out.append(ch)
    escaped = "".join(out)
    # a line starting with "- ", "1. ", "> " or "# " would become a list / quote / heading
    escaped = _LINE_START_MARK.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return _LINE_START_NUMBER.sub(lambda m: m.group(1) + "\\.", escaped)


def time_expression(tv: TimeValue) -> str:
    """`{{DATE(...)}} {{TIME(...)}}`: Teams localises these to each reader."""
    start = iso_utc(tv.at)
    if tv.show == "date":
        return f"{{{{DATE({start}, SHORT)}}}}"
    text = (
        f"{{{{TIME({start})}}}}"
        if tv.show == "time"
        else f"{{{{DATE({start}, SHORT)}}}} {{{{TIME({start})}}}}"
    )
    if tv.end is not None:
        end = iso_utc(tv.end)
        long_gap = (tv.end - tv.at).total_seconds() >= 86400
        text += (
            f" {DASH} {{{{DATE({end}, SHORT)}}}} {{{{TIME({end})}}}}"
            if long_gap
            else f"{DASH}{{{{TIME({end})}}}}"
        )
    return text


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _inline(part: Inline, budget: list[int], *, bold: bool = False) -> str:
    """One inline part as TextBlock markdown; `budget` is the source characters left."""
    if isinstance(part, TimeValue):
        return time_expression(part)
    if isinstance(part, Link):
        url = safe_url(part.url)
        label = one_line(part.label)
        if url is None:
            return _inline(label or part.url, budget, bold=bold)
        shown = escape_markdown(truncate(label, 200)) if label else escape_markdown(url)
        return f"[{shown}]({_md_url(url)})"
    text = part.text if isinstance(part, Strong) else part
    text = truncate(clean(text), budget[0]) if len(text) > budget[0] else clean(text)
    budget[0] = max(budget[0] - len(text), 1)
    if isinstance(part, Strong) or bold:
        return "\n".join(_bold_line(line) for line in text.split("\n"))
    return escape_markdown(text)


def _bold_line(line: str) -> str:
    core = line.strip()
    if not core:
        return line
    lead = line[: len(line) - len(line.lstrip())]
    trail = line[len(line.rstrip()) :]
    return f"{lead}**{escape_markdown(core)}**{trail}"


def _markdown(content: Inline | list[Inline], limit: int, *, bold: bool = False) -> str:
    budget = [limit]
    return "".join(_inline(p, budget, bold=bold) for p in parts(content))


def _text_block(text: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def _has_time(fact: Fact) -> bool:
    return any(isinstance(p, TimeValue) for p in parts(fact.value))


@dataclass(frozen=True)
class _Limits:
    """Per-element text caps; scaled down when a card would be too big for Teams."""

    scale: float = 1.0

    def cap(self, limit: int) -> int:
        return max(20, int(limit * self.scale))


def _facts(block: Facts, lim: _Limits) -> list[dict[str, Any]]:
    if not block.facts:
        return []
    if not any(_has_time(f) for f in block.facts):
        facts = [
            {
                "title": escape_markdown(truncate(one_line(f.label), lim.cap(MAX_FACT_TITLE))),
                "value": _markdown(f.value, lim.cap(MAX_FACT_VALUE)) or " ",
            }
            for f in block.facts
        ]
        return [{"type": "FactSet", "facts": facts}]
    # DATE()/TIME() are only guaranteed inside TextBlocks, so a fact list with times is a
    # two-column table of TextBlocks instead of a FactSet
    rows = []
    for f in block.facts:
        rows.append(
            {
                "type": "ColumnSet",
                "spacing": "Small",
                "columns": [
                    {
                        "type": "Column",
                        "width": 1,
                        "items": [
                            _text_block(
                                escape_markdown(
                                    truncate(one_line(f.label), lim.cap(MAX_FACT_TITLE))
                                ),
                                weight="Bolder",
                            )
                        ],
                    },
                    {
                        "type": "Column",
                        "width": 2,
                        "items": [_text_block(_markdown(f.value, lim.cap(MAX_FACT_VALUE)) or " ")],
                    },
                ],
            }
        )
    return [{"type": "Container", "items": rows}]


def _action(button: Button) -> dict[str, Any] | None:
    title = truncate(one_line(button.label), MAX_BUTTON_TEXT) or "Open"
    out: dict[str, Any]
    if button.kind == "open_url":
        url = safe_url(button.url)
        if url is None:
            return None
        out = {"type": "Action.OpenUrl", "title": title, "url": url}
    else:
        data = {"action_id": button.action_id, "value": button.value}
        submit: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": dict(data)}
        out = {"type": "Action.Execute", "title": title, "verb": button.action_id, "data": data}
        if button.submit:
            out["associatedInputs"] = "auto"
            submit["associatedInputs"] = "auto"
        else:
            out["associatedInputs"] = "none"
            submit["associatedInputs"] = "none"
        out["fallback"] = submit
    if button.style in ACTION_STYLE:
        out["style"] = ACTION_STYLE[button.style]
        if "fallback" in out:
            out["fallback"]["style"] = ACTION_STYLE[button.style]
    return out


def _input(block: TextInput | ChoiceInput, lim: _Limits) -> list[dict[str, Any]]:
    label = truncate(one_line(block.label), 200)
    out: dict[str, Any]
    if isinstance(block, TextInput):
        out = {"type": "Input.Text", "id": block.name, "label": label}
        if block.secret:
            out["style"] = "password"
        if block.multiline:
            out["isMultiline"] = True
        if block.max_length > 0:
            out["maxLength"] = block.max_length
        if block.placeholder:
            out["placeholder"] = truncate(one_line(block.placeholder), 150)
        if block.value:
            out["value"] = clean(block.value)[:3000]
    else:
        out = {
            "type": "Input.ChoiceSet",
            "id": block.name,
            "label": label,
            "style": "compact",
            "choices": [
                {"title": truncate(one_line(c.label), 200), "value": c.value} for c in block.choices
            ],
        }
        if block.value is not None:
            out["value"] = block.value
    if block.required:
        out["isRequired"] = True
        out["errorMessage"] = f"{label} is required"
    rendered = [out]
    if block.hint:
        rendered.append(
            _text_block(
                escape_markdown(truncate(clean(block.hint), lim.cap(MAX_TEXT))),
                isSubtle=True,
                size="Small",
                spacing="None",
            )
        )
    return rendered


def _element(block: Element, card: Card, first_header: bool, lim: _Limits) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        text = escape_markdown(truncate(one_line(block.text), lim.cap(300)))
        if not text:
            return []
        heading = _text_block(text, size="Large", weight="Bolder", style="heading")
        if first_header and card.status in STATUS_COLOR:
            heading["color"] = STATUS_COLOR[card.status]
            return [{"type": "Container", "style": card.status, "bleed": True, "items": [heading]}]
        return [heading]
    if isinstance(block, Section):
        props: dict[str, Any] = {}
        if block.emphasis == "strong":
            props["weight"] = "Bolder"
        elif block.emphasis == "subtle":
            props["isSubtle"] = True
        return [_text_block(_markdown(block.content, lim.cap(MAX_TEXT)) or " ", **props)]
    if isinstance(block, Facts):
        return _facts(block, lim)
    if isinstance(block, Link):
        return [_text_block(_markdown(block, lim.cap(MAX_TEXT)) or " ")]
    if isinstance(block, Actions):
        actions = [a for a in (_action(b) for b in block.buttons) if a is not None]
        return [{"type": "ActionSet", "actions": actions}] if actions else []
    if isinstance(block, TextInput | ChoiceInput):
        return _input(block, lim)
    if isinstance(block, Footer):
        return [
            _text_block(
                _markdown(block.content, lim.cap(MAX_TEXT)) or " ",
                isSubtle=True,
                size="Small",
                separator=True,
            )
        ]
    return []


def _size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def to_teams(card: Card) -> dict[str, Any]:
    """The Adaptive Card (the `content` of an `application/vnd.microsoft.card.adaptive`
    attachment). Inputs' `id` is the input's name; action buttons carry
    `data: {"action_id": ..., "value": ...}` and `verb` = action_id."""
    rendered = _render(card, _Limits())
    for scale in (0.5, 0.25, 0.1, 0.05):
        if _size(rendered) <= MAX_CARD_BYTES:
            break
        rendered = _render(card, _Limits(scale))
    return rendered


def _render(card: Card, lim: _Limits) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    separate_next = False
    first_header = True
    for block in card.blocks:
        if isinstance(block, Divider):
            separate_next = True
            continue
        rendered = _element(block, card, first_header, lim)
        if isinstance(block, Header):
            first_header = False
        if rendered and separate_next:
            rendered[0]["separator"] = True
            separate_next = False
        body.extend(rendered)
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": VERSION,
        "body": body,
        # plain text, but shown by hosts we do not control: keep tags and templates inert too
        "fallbackText": fallback_text(card, MAX_FALLBACK)
        .replace("<", "<" + _ZWSP)
        .replace("{{", "{" + _ZWSP + "{"),
        "msteams": {"width": "Full"},
    }
