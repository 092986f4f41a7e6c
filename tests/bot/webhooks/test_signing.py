"""The Slotbot-Signature header, against a vector computed here with hmac itself."""

from __future__ import annotations

import hashlib
import hmac

from bot.webhooks.signing import signature, verify

SECRET = "whsec_test_secret"
BODY = b'{"id":"evt_1","type":"ping"}'
T = 1_800_000_000
# hmac.new(b"whsec_test_secret", b"1800000000." + BODY, sha256).hexdigest(), computed once
VECTOR = "9b9e97aa9fb4fd5f6a4cc800dc23ac65671502fe3993269a2ec07e49a21dbd19"


def test_the_signature_is_hmac_sha256_of_t_dot_body() -> None:
    independent = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert independent == VECTOR
    assert signature(SECRET, BODY, timestamp=T) == f"t={T},v1={VECTOR}"


def test_the_timestamp_is_the_clock_given() -> None:
    assert signature(SECRET, BODY, timestamp=T + 1).startswith(f"t={T + 1},v1=")
    assert signature(SECRET, BODY, timestamp=T + 1) != signature(SECRET, BODY, timestamp=T)


def test_verify_accepts_the_header_and_refuses_changes_and_old_ones() -> None:
    header = f"t={T},v1={VECTOR}"
    assert verify(SECRET, BODY, header, now=T + 10)
    assert not verify(SECRET, BODY + b" ", header, now=T)
    assert not verify("whsec_other", BODY, header, now=T)
    assert not verify(SECRET, BODY, header, now=T + 301)  # a replay, too late
    assert not verify(SECRET, BODY, f"t={T + 1},v1={VECTOR}", now=T)  # t is signed too
    assert not verify(SECRET, BODY, "garbage", now=T)
