import base64
import hashlib
import hmac as std_hmac

import pytest

from bot.alerts.hmac import compute_push_hmac, verify_push_hmac

BODY = b'{"example":"well-known"}'
# Cronofy's published vectors (docs push-notifications/authentication, hookdeck references)
VECTORS = [
    ("pDY0Oi7TJSP2hfNmZNkm5", "6r2/HjBkqymGegX0wOfifieeUXbbHwtV/LohHS+jv6c="),
    (
        "CRN_NggYusqPGLxwjw5FHOJYOqSrTPNXy8WQf14OID",
        "5DxentQi5YSXODEzTVv06sRwJ3pULIz1KrYv20qxEK0=",
    ),
    (
        "CRN_nGlYDFXwfSXgB9rvGNBJyfE454GGPtWIbNuPwr",
        "BmQmWVuZ70ILWjr1CAt5oC7YOolgnku4WZtlrKfx/6k=",
    ),
]


@pytest.mark.parametrize(("secret", "expected"), VECTORS)
def test_published_vectors(secret: str, expected: str) -> None:
    assert compute_push_hmac(secret, BODY) == expected
    assert verify_push_hmac(secret, BODY, expected)


@pytest.mark.parametrize(("secret", "expected"), VECTORS)
def test_other_secrets_value_does_not_verify(secret: str, expected: str) -> None:
    others = [value for s, value in VECTORS if s != secret]
    assert not verify_push_hmac(secret, BODY, ",".join(others))


def test_any_of_comma_separated_values_with_spaces() -> None:
    secret, good = VECTORS[0]
    _, other = VECTORS[1]
    assert verify_push_hmac(secret, BODY, f"{other},{good}")
    assert verify_push_hmac(secret, BODY, f"{other} , {good} ")
    assert verify_push_hmac(secret, BODY, f"  {good}")


@pytest.mark.parametrize(
    "header", [None, "", " ", ",", "not-base64", "6r2/HjBkqymGegX0wOfifieeUXbbHwtV/LohHS+jv6c"]
)
def test_missing_or_wrong_header(header: str | None) -> None:
    assert not verify_push_hmac(VECTORS[0][0], BODY, header)


def test_raw_bytes_not_reserialised_json() -> None:
    secret, good = VECTORS[0]
    assert not verify_push_hmac(secret, b'{"example": "well-known"}', good)
    assert not verify_push_hmac(secret, BODY + b"\n", good)


def test_empty_secret_never_verifies() -> None:
    value = base64.b64encode(std_hmac.new(b"", BODY, hashlib.sha256).digest()).decode()
    assert not verify_push_hmac("", BODY, value)


def test_non_ascii_header_is_rejected_not_raised() -> None:
    assert not verify_push_hmac(VECTORS[0][0], BODY, "é,☃")
