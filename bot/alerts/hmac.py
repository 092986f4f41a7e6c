"""Cronofy push authentication: `Cronofy-HMAC-SHA256` over the raw request body.

The header holds base64(HMAC-SHA256(client_secret, body)); while an application has several
active client secrets Cronofy sends one value per secret, separated by commas. The check runs
on the bytes as received: re-serialised JSON would not match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

HEADER = "Cronofy-HMAC-SHA256"
# a base64 SHA-256 digest is 44 characters; bound the work an attacker can ask for
_MAX_HEADER_VALUES = 8


def compute_push_hmac(secret: str, body: bytes) -> str:
    """The header value Cronofy sends for `body` under `secret`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_push_hmac(secret: str, body: bytes, header: str | None) -> bool:
    """True when any comma-separated value of `header` is the HMAC of `body` under `secret`."""
    if not header or not secret:
        return False
    expected = compute_push_hmac(secret, body).encode("ascii")
    matched = False
    for candidate in header.split(",")[:_MAX_HEADER_VALUES]:
        value = candidate.strip().encode("ascii", "replace")
        # compare every value (no early exit) so timing does not reveal which one matched
        matched |= hmac.compare_digest(value, expected)
    return matched
