"""The neutral card model: what Slotbot shows a person, before any platform renders it.

A `Card` is a list of blocks (header, sections, facts, buttons, inputs, ...) plus a status
style and an optional notification text. Text in the model is plain, untrusted text: the
renderers escape it for their platform, so a candidate called `<!channel>` pings nobody.

Cards are stored as JSON by the outbox, so `card_to_dict` / `card_from_dict` round-trip
every card exactly; each element carries a `"type"` tag in its dict form.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

Status = Literal["good", "warning", "attention"]
Emphasis = Literal["normal", "strong", "subtle"]
ButtonKind = Literal["open_url", "action"]
ButtonStyle = Literal["primary", "danger"]
TimeShow = Literal["datetime", "date", "time"]

# URL schemes a link or an open-URL button may carry; anything else renders as plain text
SAFE_URL_SCHEMES = ("https://", "http://", "mailto:")


@dataclass(frozen=True)
class Strong:
    """Inline bold text."""

    text: str


@dataclass(frozen=True)
class TimeValue:
    """An instant (optionally an interval) that each reader sees in their own time zone.

    The instant is kept in UTC whatever offset it was given in. `zone` (an IANA name such
    as "Europe/London") is only used where the platform cannot localise for its reader,
    i.e. the plain-text rendering; UTC otherwise.
    """

    at: datetime
    end: datetime | None = None
    zone: str | None = None
    show: TimeShow = "datetime"

    def __post_init__(self) -> None:
        for name in ("at", "end"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, datetime):
                raise TypeError(f"TimeValue.{name} must be a datetime")
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"TimeValue.{name} must be timezone-aware, got {value!r}")
            # keep the instant in UTC: it stores and compares exactly (a zone's DST gaps and
            # folds make cross-zone comparisons unreliable); `zone` says how to show it
            object.__setattr__(self, name, value.astimezone(UTC))


@dataclass(frozen=True)
class Link:
    """An inline link. A URL with an unsafe scheme renders as its label only."""

    url: str
    label: str = ""


Inline: TypeAlias = str | Strong | TimeValue | Link


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Section:
    """A paragraph: plain text, or a list of inline parts (text, bold, times, links)."""

    content: Inline | list[Inline]
    emphasis: Emphasis = "normal"


@dataclass(frozen=True)
class Fact:
    label: str
    value: Inline | list[Inline]


@dataclass(frozen=True)
class Facts:
    """Label/value pairs, shown as a small table."""

    facts: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class Button:
    """`open_url` opens `url`; `action` sends `action_id` + `value` back to Slotbot.

    `submit=True` marks the button that submits the card's inputs: a Slack modal uses its
    own Submit button instead, Teams sends the inputs with it.
    """

    label: str
    kind: ButtonKind = "action"
    action_id: str = ""
    value: str = ""
    url: str = ""
    style: ButtonStyle | None = None
    submit: bool = False


@dataclass(frozen=True)
class Actions:
    """A row of buttons."""

    buttons: list[Button] = field(default_factory=list)


@dataclass(frozen=True)
class TextInput:
    """A text field; `secret` asks the platform to mask it where it can (Teams; not Slack)."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    hint: str = ""
    secret: bool = False
    required: bool = True
    multiline: bool = False
    max_length: int = 0  # the longest text the platform lets a member type (0: its own limit)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ChoiceInput:
    name: str
    label: str
    choices: list[Choice] = field(default_factory=list)
    value: str | None = None
    hint: str = ""
    required: bool = True


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Footer:
    """A small, quiet line at the end of a card."""

    content: Inline | list[Inline]


Element: TypeAlias = (
    Header | Section | Facts | Actions | TextInput | ChoiceInput | Divider | Footer | Link
)


@dataclass(frozen=True)
class Card:
    """One message. `fallback` is the notification / preview text; when empty the renderers
    derive it from the header and first section. `status` colours alerts: good (booked),
    warning (rescheduled), attention (cancelled / declined)."""

    blocks: list[Element] = field(default_factory=list)
    status: Status | None = None
    fallback: str = ""
    # a form's id: what its submission comes back as (a Slack modal's callback id)
    form_id: str = ""

    @property
    def inputs(self) -> list[TextInput | ChoiceInput]:
        return [b for b in self.blocks if isinstance(b, TextInput | ChoiceInput)]

    @property
    def buttons(self) -> list[Button]:
        return [btn for b in self.blocks if isinstance(b, Actions) for btn in b.buttons]

    @property
    def title(self) -> str:
        for block in self.blocks:
            if isinstance(block, Header):
                return block.text
        return ""


def parts(content: Inline | list[Inline]) -> list[Inline]:
    """A section's or fact's content as a list of inline parts."""
    return list(content) if isinstance(content, list) else [content]


# --- JSON form -------------------------------------------------------------------------

_TAGS: dict[str, type[Any]] = {
    "strong": Strong,
    "time": TimeValue,
    "link": Link,
    "header": Header,
    "section": Section,
    "fact": Fact,
    "facts": Facts,
    "button": Button,
    "actions": Actions,
    "text_input": TextInput,
    "choice": Choice,
    "choice_input": ChoiceInput,
    "divider": Divider,
    "footer": Footer,
}
_TAG_OF: dict[type[Any], str] = {cls: tag for tag, cls in _TAGS.items()}
FORMAT_VERSION = 1


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        # ISO-8601 keeps the instant and its UTC offset
        return {"type": "datetime", "iso": value.isoformat()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    tag = _TAG_OF.get(type(value))
    if tag is None:
        raise TypeError(f"cannot store {type(value).__name__} in a card")
    out: dict[str, Any] = {"type": tag}
    for f in dataclasses.fields(value):
        out[f.name] = _encode(getattr(value, f.name))
    return out


def _decode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        tag = value.get("type")
        if tag == "datetime":
            iso = value.get("iso")
            if not isinstance(iso, str):
                raise ValueError("datetime without an ISO value")
            return datetime.fromisoformat(iso)
        cls = _TAGS.get(tag) if isinstance(tag, str) else None
        if cls is None:
            raise ValueError(f"unknown card element type {tag!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: _decode(v) for k, v in value.items() if k != "type" and k in names}
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValueError(f"bad {tag} element: {exc}") from None
    raise ValueError(f"unexpected value in a card: {type(value).__name__}")


def card_to_dict(card: Card) -> dict[str, Any]:
    """JSON-safe dict of `card`; `card_from_dict` rebuilds an equal card."""
    data: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "status": card.status,
        "fallback": card.fallback,
        "blocks": [_encode(b) for b in card.blocks],
    }
    if card.form_id:
        data["form_id"] = card.form_id
    return data


def card_from_dict(data: dict[str, Any]) -> Card:
    """Rebuild a card stored by `card_to_dict`; raises ValueError on anything malformed."""
    if not isinstance(data, dict):
        raise ValueError("a card must be a JSON object")
    blocks = data.get("blocks", [])
    if not isinstance(blocks, list):
        raise ValueError("card blocks must be a list")
    status = data.get("status")
    if status not in (None, "good", "warning", "attention"):
        raise ValueError(f"unknown card status {status!r}")
    fallback = data.get("fallback", "")
    if not isinstance(fallback, str):
        raise ValueError("card fallback must be text")
    form_id = data.get("form_id", "")
    if not isinstance(form_id, str):
        raise ValueError("card form_id must be text")
    return Card(
        blocks=[_decode(b) for b in blocks], status=status, fallback=fallback, form_id=form_id
    )


__all__ = [
    "SAFE_URL_SCHEMES",
    "Actions",
    "Button",
    "Card",
    "Choice",
    "ChoiceInput",
    "Divider",
    "Element",
    "Emphasis",
    "Fact",
    "Facts",
    "Footer",
    "Header",
    "Inline",
    "Link",
    "Section",
    "Status",
    "Strong",
    "TextInput",
    "TimeValue",
    "card_from_dict",
    "card_to_dict",
    "parts",
]
