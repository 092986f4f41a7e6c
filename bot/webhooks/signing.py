"""The `Slotbot-Signature` header every webhook request carries.

    Slotbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes with the
webhook's signing secret, compares it in constant time, and refuses a `t` too far from its
own clock (a replayed request). `v1` names the scheme, so a later one can be sent beside it.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Slotbot-Signature"


def signature(secret: str, body: bytes, *, timestamp: int) -> str:
    """The header's value for `body` sent at `timestamp` (the caller's clock, injected)."""
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (Slotbot's own tests and the README's snippet do the same)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
