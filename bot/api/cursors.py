"""Opaque cursors: a store's position (`bot.store.feeds`) with what it is a position in,
base64url-encoded so clients keep it as a whole and do not build their own. A cursor of one
feed is refused by another (`BadCursor`), and so is anything Slotbot never gave out."""

from __future__ import annotations

import base64
import binascii

MAX_CURSOR = 200


class BadCursor(ValueError):
    """Not a cursor of this feed."""


def encode(feed: str, position: str) -> str:
    raw = f"{feed}:{position}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(feed: str, cursor: str | None) -> str | None:
    """The position in `cursor` (None for no cursor: from the start)."""
    if cursor is None:
        return None
    if not cursor or len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise BadCursor(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise BadCursor(cursor) from None
    prefix = feed + ":"
    if not raw.startswith(prefix) or len(raw) == len(prefix):
        raise BadCursor(cursor)
    return raw[len(prefix) :]
