"""bot.jsonio: orjson's speed, the standard library's answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

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


@dataclass
class _Inner:
    zone: str
    at: float


@dataclass
class _Record:
    name: str
    inner: _Inner
    tags: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _fields(value: object) -> dict[str, object]:
    if isinstance(value, _Record | _Inner):
        return dict(vars(value))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def test_dumps_sorted_sorts_the_fields_of_records_and_dicts_alike() -> None:
    record = _Record(
        "José", _Inner("Europe/London", 1796617425.2317238), ["b", "a"], {"y": 1, "x": 2}
    )
    text = jsonio.dumps_sorted(record, default=_fields)
    assert text == (
        '{"counts":{"x":2,"y":1},"inner":{"at":1796617425.2317238,"zone":"Europe/London"},'
        '"name":"José","tags":["b","a"]}'
    )
    assert json.loads(text) == json.loads(json.dumps(record, default=_fields))


def test_dumps_sorted_writes_what_orjson_refuses_as_json_would() -> None:
    big = {"big": 123456789012345678901234567890}
    assert json.loads(jsonio.dumps_sorted(big, default=_fields)) == big


def test_dumps_sorted_refuses_what_default_refuses() -> None:
    with pytest.raises(TypeError):
        jsonio.dumps_sorted({"when": object()}, default=_fields)


def test_dumps_is_compact_json_that_reads_back_the_same() -> None:
    value = {"data": [{"name": "José", "at": 1.5, "n": None}], "next": "c1", 3: True}
    text = jsonio.dumps(value)
    assert " " not in text.replace("José", "")
    assert json.loads(text) == json.loads(json.dumps(value))
    assert jsonio.dumps({"big": 2**70}) == '{"big":1180591620717411303424}'
