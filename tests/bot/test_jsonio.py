"""bot.jsonio: orjson's speed, the standard library's answers."""

from __future__ import annotations

import json

import pytest

from bot import jsonio


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [true, false, null], "c": "é"}',
        '{"nan": NaN, "inf": -Infinity}',  # not JSON, but json.loads takes it
        '{"dup": 1, "dup": 2}',
        "[1.5e300]",
    ],
)
def test_same_value_as_json(text: str) -> None:
    expected = json.loads(text)
    for data in (text, text.encode()):
        got = jsonio.loads(data)
        assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("data", [b"{", b"", b"{'a': 1}", b"\xef\xbb\xbf{}", b"[1,]"])
def test_refused_as_json_refuses_it(data: bytes) -> None:
    with pytest.raises(ValueError):
        jsonio.loads(data)


def test_an_integer_beyond_64_bits_is_a_number_still() -> None:
    # the one documented difference: orjson gives a float where json gives an int
    assert jsonio.loads(b'{"big": 123456789012345678901234567890}')["big"] == pytest.approx(
        123456789012345678901234567890
    )


def test_bytes_that_are_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        jsonio.loads(b'{"a": "\xff"}')


def test_nested_too_deeply() -> None:
    with pytest.raises(RecursionError):
        jsonio.loads(b"[" * 100_000 + b"]" * 100_000)
