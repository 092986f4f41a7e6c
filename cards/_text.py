"""Text helpers shared by the renderers: cleaning untrusted text, truncation, URLs, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cards.model import SAFE_URL_SCHEMES, Card, Facts, Header, Link, Section, Strong, TimeValue
from cards.model import parts as inline_parts

ELLIPSIS = "…"
DASH = "\u2013"  # en dash between the ends of a time range

# C0/C1 controls (but not tab/newline) and the bidi embedding/override/isolate controls:
# an unbalanced right-to-left override in a name would flip the rest of the message.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def clean(text: str) -> str:
    """Untrusted text made safe to show anywhere: no control or bidi-override characters."""
    return _UNSAFE_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str) -> str:
    """`clean` and fold all whitespace runs (newlines too) into single spaces."""
    return " ".join(clean(text).split())


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def safe_url(url: str) -> str | None:
    """The URL if it is one we are willing to link to (http(s)/mailto, no whitespace)."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url) or _UNSAFE_CHARS.search(url):
        return None
    if not url.lower().startswith(SAFE_URL_SCHEMES):
        return None
    return url


# --- times -----------------------------------------------------------------------------


def to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as Adaptive Card DATE()/TIME() expect."""
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(name: str | None) -> tuple[ZoneInfo | None, str]:
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return None, "UTC"


def _date_text(value: datetime) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def format_time(tv: TimeValue) -> str:
    """Readable time for plain text: in `tv.zone` when it is a known zone, else UTC,
    always with the zone named (e.g. "Tue 3 Dec 2026, 10:00-10:45 CET (Europe/Paris)")."""
    zone, zone_name = _zone(tv.zone)
    start = tv.at.astimezone(zone) if zone else to_utc(tv.at)
    end = None
    if tv.end is not None:
        end = tv.end.astimezone(zone) if zone else to_utc(tv.end)
    abbrev = start.tzname() or zone_name
    label = "UTC" if zone is None else f"{abbrev} ({zone_name})" if abbrev != zone_name else abbrev
    if tv.show == "date":
        return _date_text(start)
    clock = f"{start:%H:%M}"
    if end is not None:
        clock += (
            f"{DASH}{end:%H:%M}"
            if end.date() == start.date()
            else f" {DASH} {_date_text(end)}, {end:%H:%M}"
        )
    if tv.show == "time":
        return f"{clock} {label}"
    return f"{_date_text(start)}, {clock} {label}"


def utc_fallback(value: datetime, show: str = "datetime") -> str:
    """The UTC text Slack shows where it cannot render a date token."""
    utc = to_utc(value)
    if show == "date":
        return _date_text(utc)
    if show == "time":
        return f"{utc:%H:%M} UTC"
    return f"{_date_text(utc)}, {utc:%H:%M} UTC"


# --- fallback (notification) text ----------------------------------------------------


def inline_plain(part: str | Strong | TimeValue | Link) -> str:
    """An inline part as plain text (times in UTC / their zone, links as 'label (url)')."""
    if isinstance(part, str):
        return clean(part)
    if isinstance(part, Strong):
        return clean(part.text)
    if isinstance(part, TimeValue):
        return format_time(part)
    url = safe_url(part.url)
    label = clean(part.label)
    if url is None:
        return label
    if not label or label == url or url.lower() == f"mailto:{label.lower()}":
        return label or url
    return f"{label} ({url})"


def fallback_text(card: Card, limit: int = 300) -> str:
    """The card's notification / preview text: its own `fallback`, else header + first line."""
    if card.fallback.strip():
        return truncate(one_line(card.fallback), limit)
    pieces: list[str] = []
    for block in card.blocks:
        if isinstance(block, Header):
            pieces.append(one_line(block.text))
        elif isinstance(block, Section):
            pieces.append(one_line("".join(inline_plain(p) for p in inline_parts(block.content))))
        elif isinstance(block, Facts) and block.facts:
            fact = block.facts[0]
            value = "".join(inline_plain(p) for p in inline_parts(fact.value))
            pieces.append(one_line(f"{fact.label}: {value}"))
        if len(pieces) >= 2:
            break
    text = " — ".join(p for p in pieces if p)
    return truncate(text, limit) or "Slotbot"
