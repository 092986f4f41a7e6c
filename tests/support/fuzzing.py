"""Generated cases for tests that send them over HTTP.

Hypothesis drives synchronous functions; an async test draws its cases first with `drawn()`
and sends them afterwards. SLOTBOT_FUZZ_EXAMPLES scales every fuzz test (`make fuzz` sets
10,000); the default keeps `make test` quick.
"""

from __future__ import annotations

import os
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

T = TypeVar("T")


def fuzz_examples(default: int) -> int:
    return int(os.environ.get("SLOTBOT_FUZZ_EXAMPLES", default))


def drawn(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` cases from `strategy`, shrinking and the example database left out."""
    cases: list[T] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case: T) -> None:
        cases.append(case)

    collect()
    return cases


# JSON values of any shape, small
JSON_VALUES: st.SearchStrategy[object] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
