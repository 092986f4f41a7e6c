"""Render a card as Slack Block Kit: a message, a modal (`views.open`) or the App Home tab.

Pure functions over plain dicts; no Slack SDK. Untrusted text goes into `plain_text`
objects where it can, and is escaped (`&`, `<`, `>`, mention words, formatting marks)
where it has to share a `mrkdwn` object with links or date tokens. Every Block Kit limit
is enforced here by truncation, so no card can make Slack reject the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cards._text import (
    DASH,
    ELLIPSIS,
    clean,
    fallback_text,
    one_line,
    safe_url,
    truncate,
    utc_fallback,
)
from cards.model import (
    Actions,
    Button,
    Card,
    ChoiceInput,
    Divider,
    Element,
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

# Block Kit limits (https://docs.slack.dev/reference/block-kit)
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_ACTIONS = 25
MAX_URL = 3000
MAX_VALUE = 2000
MAX_ACTION_ID = 255
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_VIEW_TITLE = 24
MAX_FALLBACK = 3000
STATUS_EMOJI = {"good": "✅", "warning": "🟠", "attention": "🔴"}

_ZWSP = "\u200b"
# words Slack may turn into a broadcast even without <!...> (defence in depth)
_BROADCAST = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)
_MARKS = "*_~`"


@dataclass
class SlackMessage:
    """What `chat.postMessage` / `respond` take: `blocks` and the notification `text`."""

    blocks: list[dict[str, Any]]
    text: str


def _escape_chunks(text: str) -> list[str]:
    """One escaped chunk per source character, so escaped text can be cut between chunks."""
    text = clean(text)
    text = _BROADCAST.sub("@" + _ZWSP, text)
    chunks: list[str] = []
    for i, ch in enumerate(text):
        if ch == "&":
            chunks.append("&amp;")
        elif ch == "<":
            chunks.append("&lt;")
        elif ch == ">":
            chunks.append("&gt;")
        elif ch in _MARKS:
            before = text[i - 1] if i > 0 else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            # a mark between two letters (john_doe) never formats; elsewhere a zero-width
            # space in front stops it from opening or closing bold/italic/strike/code
            if ch == "_" and before.isalnum() and after.isalnum():
                chunks.append(ch)
            else:
                chunks.append(_ZWSP + ch)
        else:
            chunks.append(ch)
    return chunks


def escape_mrkdwn(text: str) -> str:
    """Untrusted text made inert inside a Slack `mrkdwn` object."""
    return "".join(_escape_chunks(text))


class _Mrkdwn:
    """Builds one mrkdwn string under a length limit, never cutting inside an escape/token."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.out: list[str] = []
        self.size = 0
        self.full = False

    def _room(self) -> int:
        return self.limit - self.size - len(ELLIPSIS)

    def _stop(self) -> None:
        if not self.full:
            self.full = True
            self.out.append(ELLIPSIS)
            self.size += len(ELLIPSIS)

    def raw(self, markup: str) -> None:
        if self.full:
            return
        if len(markup) > self._room():
            self._stop()
            return
        self.out.append(markup)
        self.size += len(markup)

    def text(self, text: str) -> None:
        for chunk in _escape_chunks(text):
            if self.full:
                return
            if len(chunk) > self._room():
                self._stop()
                return
            self.out.append(chunk)
            self.size += len(chunk)

    def strong(self, text: str) -> None:
        lines = clean(text).split("\n")
        for n, line in enumerate(lines):
            if n:
                self.raw("\n")
            core = line.strip()
            if not core:
                self.text(line)
                continue
            lead = line[: len(line) - len(line.lstrip())]
            trail = line[len(line.rstrip()) :]
            self.text(lead)
            if self.full or self._room() < 3:
                self._stop()
                return
            self.out.append("*")
            self.size += 1
            self.limit -= 1  # keep room for the closing mark: bold never stays open
            self.text(core)
            self.limit += 1
            self.out.append("*")
            self.size += 1
            self.text(trail)

    def time(self, tv: TimeValue) -> None:
        self.raw(time_token(tv))

    def link(self, link: Link) -> None:
        url = safe_url(link.url)
        label = one_line(link.label)
        if url is None or len(url) > MAX_URL:
            self.text(label or link.url)
            return
        target = _link_target(url)
        if not label:
            self.raw(f"<{target}>")
            return
        escaped_label = escape_mrkdwn(truncate(label, 200)).replace("|", "¦")
        self.raw(f"<{target}|{escaped_label}>")

    def inline(self, part: Inline, *, bold: bool = False) -> None:
        if isinstance(part, str):
            if bold:
                self.strong(part)
            else:
                self.text(part)
        elif isinstance(part, Strong):
            self.strong(part.text)
        elif isinstance(part, TimeValue):
            self.time(part)
        else:
            self.link(part)

    def result(self) -> str:
        return "".join(self.out)


def _link_target(url: str) -> str:
    # inside <...> a '|' ends the URL and '<' / '>' end the link; '&' is an entity there
    return url.replace("&", "&amp;").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def _date_token(epoch: int, fmt: str, fallback: str) -> str:
    return f"<!date^{epoch}^{fmt}|{fallback}>"


def time_token(tv: TimeValue) -> str:
    """Slack date token(s): every reader sees the time in their own zone and locale."""
    start = int(tv.at.timestamp())
    if tv.show == "date":
        return _date_token(start, "{date_short_pretty}", utc_fallback(tv.at, "date"))
    if tv.show == "time":
        text = _date_token(start, "{time}", utc_fallback(tv.at, "time"))
    else:
        text = _date_token(start, "{date_short_pretty} {time}", utc_fallback(tv.at))
    if tv.end is not None:
        end = int(tv.end.timestamp())
        same_day = tv.end.astimezone(tv.at.tzinfo).date() == tv.at.date() and end - start < 86400
        fmt = "{time}" if same_day else "{date_short_pretty} {time}"
        text += DASH + _date_token(
            end, fmt, utc_fallback(tv.end, "time" if same_day else "datetime")
        )
    return text


def _mrkdwn(content: Inline | list[Inline], limit: int, *, bold: bool = False) -> str:
    builder = _Mrkdwn(limit)
    for part in parts(content):
        builder.inline(part, bold=bold)
    return builder.result()


def _plain(
    text: str, limit: int, *, single_line: bool = False, default: str = "—"
) -> dict[str, Any]:
    value = truncate(one_line(text) if single_line else clean(text).strip("\n"), limit)
    # Slack rejects empty (and blank) text objects
    return {"type": "plain_text", "text": value if value.strip() else default, "emoji": True}


def _blank(text: str) -> bool:
    return not text.replace(_ZWSP, "").strip()


def _is_plain(content: Inline | list[Inline]) -> bool:
    return all(isinstance(p, str) for p in parts(content))


def _section(block: Section | Link) -> list[dict[str, Any]]:
    """A section block, or nothing when the text is blank (Slack refuses blank text)."""
    if isinstance(block, Link):
        content: Inline | list[Inline] = block
        emphasis = "normal"
    else:
        content, emphasis = block.content, block.emphasis
    if emphasis == "subtle":
        return _context(content)
    if emphasis == "normal" and _is_plain(content):
        text = "".join(p for p in parts(content) if isinstance(p, str))
        if _blank(clean(text)):
            return []
        return [{"type": "section", "text": _plain(text, MAX_SECTION_TEXT)}]
    text = _mrkdwn(content, MAX_SECTION_TEXT, bold=emphasis == "strong")
    if _blank(text):
        return []
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def _context(content: Inline | list[Inline]) -> list[dict[str, Any]]:
    text = _mrkdwn(content, MAX_CONTEXT_TEXT)
    if _blank(text):
        return []
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def _facts(block: Facts) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    fields: list[dict[str, Any]] = []
    for fact in block.facts:
        builder = _Mrkdwn(MAX_FIELD_TEXT)
        label = truncate(one_line(fact.label), 200)
        if label:
            builder.strong(label)
            builder.raw("\n")
        before = builder.size
        for part in parts(fact.value):
            builder.inline(part)
        if _blank(builder.result()[before:] if builder.size > before else ""):
            builder.raw("—")
        fields.append({"type": "mrkdwn", "text": builder.result()})
        if len(fields) == MAX_FIELDS:
            out.append({"type": "section", "fields": fields})
            fields = []
    if fields:
        out.append({"type": "section", "fields": fields})
    return out


class _ActionIds:
    """Hands out action_ids that are unique within one message (Slack rejects duplicates)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.count = 0

    def take(self, wanted: str, kind: str) -> str:
        self.count += 1
        base = (
            clean(wanted)[: MAX_ACTION_ID - 8]
            or f"{'url' if kind == 'open_url' else 'action'}.{self.count}"
        )
        candidate, n = base, 1
        while candidate in self.seen:
            n += 1
            candidate = f"{base}~{n}"  # adapters strip "~n" before dispatching
        self.seen.add(candidate)
        return candidate


def base_action_id(action_id: str) -> str:
    """The card's action_id from a Slack one (undoes the "~n" added to keep ids unique)."""
    head, sep, tail = action_id.rpartition("~")
    return head if sep and tail.isdigit() else action_id


def _button(button: Button, ids: _ActionIds) -> dict[str, Any] | None:
    out: dict[str, Any] = {
        "type": "button",
        "text": _plain(button.label, MAX_BUTTON_TEXT, single_line=True, default="Open"),
        "action_id": ids.take(button.action_id, button.kind),
    }
    if button.kind == "open_url":
        url = safe_url(button.url)
        if url is None or len(url) > MAX_URL:
            return None  # a button that cannot open anything is worse than none
        out["url"] = url
    if button.value:
        if len(button.value) > MAX_VALUE:
            return None
        out["value"] = button.value
    if button.style in ("primary", "danger"):
        out["style"] = button.style
    return out


def _actions(block: Actions, ids: _ActionIds, *, in_modal: bool) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    for button in block.buttons:
        if in_modal and button.submit:
            continue  # the modal's own Submit button sends the inputs
        rendered = _button(button, ids)
        if rendered is not None:
            elements.append(rendered)
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS]}
        for i in range(0, len(elements), MAX_ACTIONS)
    ]


def _input(block: TextInput | ChoiceInput) -> dict[str, Any]:
    element: dict[str, Any]
    if isinstance(block, TextInput):
        element = {"type": "plain_text_input", "action_id": block.name}
        if block.multiline:
            element["multiline"] = True
        if 0 < block.max_length <= 3000:  # Slack's own cap on a plain_text_input
            element["max_length"] = block.max_length
        if block.value:
            element["initial_value"] = clean(block.value)[:3000]
        if not _blank(one_line(block.placeholder)):
            element["placeholder"] = _plain(block.placeholder, MAX_PLACEHOLDER, single_line=True)
    else:
        options = [
            {
                "text": _plain(
                    choice.label, MAX_OPTION_TEXT, single_line=True, default=choice.value or "—"
                ),
                "value": choice.value[:MAX_OPTION_VALUE],
            }
            for choice in block.choices[:MAX_OPTIONS]
        ]
        element = {"type": "static_select", "action_id": block.name, "options": options}
        for option in options:
            if block.value is not None and option["value"] == block.value:
                element["initial_option"] = option
        element["placeholder"] = _plain("Choose…", MAX_PLACEHOLDER)
    out: dict[str, Any] = {
        "type": "input",
        "block_id": block.name,
        "label": _plain(block.label, MAX_LABEL, single_line=True, default=block.name or "—"),
        "element": element,
        "optional": not block.required,
    }
    if not _blank(clean(block.hint)):
        out["hint"] = _plain(block.hint, MAX_LABEL)
    return out


def _header_text(text: str, status: str | None) -> str:
    prefix = f"{STATUS_EMOJI[status]} " if status in STATUS_EMOJI else ""
    return prefix + one_line(text)


def _render_blocks(
    card: Card, *, in_modal: bool = False, skip_first_header: bool = False
) -> list[dict[str, Any]]:
    ids = _ActionIds()
    out: list[dict[str, Any]] = []
    first_header = True
    for block in card.blocks:
        out.extend(_render_block(block, card, ids, in_modal, first_header, skip_first_header))
        if isinstance(block, Header):
            first_header = False
    return out


def _render_block(
    block: Element,
    card: Card,
    ids: _ActionIds,
    in_modal: bool,
    first_header: bool,
    skip_first_header: bool,
) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        if first_header and skip_first_header:
            return []
        text = _header_text(block.text, card.status if first_header else None)
        if not text.strip():
            return []
        return [{"type": "header", "text": _plain(text, MAX_HEADER, single_line=True)}]
    if isinstance(block, Section | Link):
        return _section(block)
    if isinstance(block, Facts):
        return _facts(block)
    if isinstance(block, Actions):
        return _actions(block, ids, in_modal=in_modal)
    if isinstance(block, TextInput | ChoiceInput):
        return [_input(block)]
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Footer):
        return _context(block.content)
    return []


def _cap(blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    if len(blocks) <= limit:
        return blocks
    hidden = len(blocks) - (limit - 1)
    note = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"…and {hidden} more not shown."}],
    }
    return [*blocks[: limit - 1], note]


def _fallback(card: Card) -> str:
    return escape_mrkdwn(fallback_text(card, MAX_FALLBACK // 6))


def to_slack(card: Card) -> SlackMessage:
    """A Slack message: Block Kit `blocks` plus the notification `text`."""
    return SlackMessage(blocks=_cap(_render_blocks(card), MAX_MESSAGE_BLOCKS), text=_fallback(card))


def to_slack_modal(
    card: Card, callback_id: str, submit_label: str, *, private_metadata: str = ""
) -> dict[str, Any]:
    """A `views.open` modal. Inputs get block_id = action_id = the input's name, so a
    submission reads `view["state"]["values"][name][name]`."""
    title = one_line(card.title) or "Slotbot"
    fits = len(title) <= MAX_VIEW_TITLE
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title, MAX_VIEW_TITLE, single_line=True),
        # a form is cancelled; a result (nothing to submit) is only closed
        "close": _plain("Cancel" if card.inputs else "Close", MAX_VIEW_TITLE),
        "blocks": _cap(
            _render_blocks(card, in_modal=True, skip_first_header=fits), MAX_VIEW_BLOCKS
        ),
    }
    if card.inputs:
        view["submit"] = _plain(submit_label, MAX_VIEW_TITLE, single_line=True)
    if private_metadata:
        if len(private_metadata) > 3000:
            # cutting it would hand back corrupt context on submit; the caller must keep it small
            raise ValueError("private_metadata is limited to 3000 characters by Slack")
        view["private_metadata"] = private_metadata
    return view


def to_slack_home(card: Card) -> dict[str, Any]:
    """An App Home tab view for `views.publish`."""
    return {"type": "home", "blocks": _cap(_render_blocks(card), MAX_VIEW_BLOCKS)}
