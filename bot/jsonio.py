"""JSON for request bodies: orjson where it is installed, with the standard library's answer
for anything orjson refuses, so what is accepted and why a body is refused stay as they were.

orjson parses a callback body several times faster than `json`. Where it refuses what
`json` takes (NaN and Infinity, nesting deeper than 1024 levels) the body is handed to `json`,
which decides, so a refusal still says what `json` says. Two corners differ, neither of which
a callback uses: an integer beyond 64 bits comes back as a float, and nesting up to 1024 levels
is taken where `json` may give up a little earlier (RecursionError, depending on how deep the
caller's stack is). Bytes are UTF-8: anything else raises UnicodeDecodeError.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; the standard library still works
    orjson = None  # type: ignore[assignment]


def loads(data: bytes | str) -> Any:
    """The JSON value of `data`; raises ValueError (not JSON), UnicodeDecodeError (bytes that
    are not UTF-8) or RecursionError (nested too deeply), as `json.loads` would."""
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json decides, and says why
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


def dumps(value: Any) -> str:
    """Compact JSON text of `value` (plain data: dicts, lists, strings, numbers), non-ASCII
    characters as they are; orjson where installed, `json` deciding what orjson refuses."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


if orjson is not None:
    # dataclasses go through `default` like any other object, so their fields are sorted too
    _SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps_sorted(value: Any, *, default: Callable[[Any], Any]) -> str:
    """Compact JSON text of `value` with its keys sorted, what is not JSON handed to `default`
    (which returns something that is, or raises TypeError); non-ASCII characters as they are.
    orjson where installed, several times faster; `json` decides what orjson refuses (an
    integer beyond 64 bits), so what can be written stays as it was."""
    if orjson is not None:
        try:
            return orjson.dumps(value, default=default, option=_SORTED).decode("utf-8")
        except orjson.JSONEncodeError:
            pass
    return json.dumps(
        value, default=default, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )
