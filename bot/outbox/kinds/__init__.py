"""The kinds of outbox job: one module each, holding its payload, its handler and its `KIND`.

Adding a kind is adding a module to this package: the worker finds every module here
(`job_kinds`), so no list elsewhere has to name it.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bot.outbox.jobs import JobKind


@functools.cache
def job_kinds() -> Mapping[str, JobKind[Any]]:
    """Every kind, by the name its jobs are stored under."""
    kinds: dict[str, JobKind[Any]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        kind = getattr(module, "KIND", None)
        if not isinstance(kind, JobKind):
            raise TypeError(f"{module.__name__} defines no job kind (KIND)")
        if kind.name in kinds:
            raise ValueError(f"two modules define the job kind {kind.name!r}")
        kinds[kind.name] = kind
    return MappingProxyType(kinds)
