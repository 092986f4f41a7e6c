"""The verification snippet the README gives receivers, run against Slotbot's signature."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.webhooks.signing import signature

# kept word for word as in the README ("Webhooks: verifying a request")
SNIPPET = '''
import hashlib, hmac, time

def verify_slotbot(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """header: the Slotbot-Signature value; body: the raw request body, before parsing."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance:  # an old request replayed
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))
'''


def _verify() -> Callable[[str, bytes, str], bool]:
    namespace: dict[str, object] = {}
    exec(SNIPPET, namespace)  # our own constant: the README's text
    verify = namespace["verify_slotbot"]
    assert callable(verify)
    return verify  # type: ignore[return-value]


def test_the_readme_snippet_accepts_slotbots_signature_and_nothing_else() -> None:
    verify = _verify()
    body = b'{"id":"evt_1","type":"ping","version":1,"created":1,"org":"o","data":{}}'
    header = signature("whsec_abc", body, timestamp=int(time.time()))
    assert verify("whsec_abc", body, header)
    assert not verify("whsec_abc", body + b"\n", header)
    assert not verify("whsec_other", body, header)
    assert not verify("whsec_abc", body, signature("whsec_abc", body, timestamp=1_000_000_000))
