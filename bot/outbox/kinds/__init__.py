"""The kinds of outbox job: one module each, holding its payload, its handler and its `KIND`,
all named here, the one list the worker knows them by.

Adding a kind: write its module (payload dataclass, handler, `KIND = JobKind(...)`) and add it
to `KINDS` below. Nothing else changes: the worker never names a kind.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bot.outbox.jobs import JobKind
from bot.outbox.kinds import (
    agenda,
    alert,
    alert_removed,
    feedback,
    notice,
    profile_disconnected,
    reminder,
    retention,
    webhook,
)

KINDS: tuple[JobKind[Any], ...] = (
    alert.KIND,
    notice.KIND,
    profile_disconnected.KIND,
    agenda.KIND,
    feedback.KIND,
    reminder.KIND,
    alert_removed.KIND,
    retention.KIND,
    webhook.KIND,
)


@functools.cache
def job_kinds() -> Mapping[str, JobKind[Any]]:
    """Every kind, by the name its jobs are stored under."""
    kinds: dict[str, JobKind[Any]] = {}
    for kind in KINDS:
        if kind.name in kinds:
            raise ValueError(f"two modules define the job kind {kind.name!r}")
        kinds[kind.name] = kind
    return MappingProxyType(kinds)
