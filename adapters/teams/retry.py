"""Retrying Bot Connector calls that Teams throttles or drops.

botbuilder (msrest) retries no POST: a 429, 412, 502 or 504 from the connector surfaces at
once as `ErrorResponseException`. Teams asks bots to retry exactly these with backoff and to
honour Retry-After. We retry in place only while the wait is short (a reply the user is
waiting for, or an outbox job that would otherwise sit out a full worker backoff); a longer
Retry-After becomes `DeliveryError(retry_after=...)` so the outbox worker waits instead of
holding a worker slot, and the job survives a restart.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from botbuilder.schema import ErrorResponseException

from adapters.teams.errors import (
    RETRYABLE,
    delivery_error_from_connector,
    retry_after_of,
    status_of,
)

T = TypeVar("T")

IN_PLACE_ATTEMPTS = 3
IN_PLACE_MAX_WAIT = 5.0
BASE_DELAY = 0.5

Sleep = Callable[[float], Awaitable[None]]


async def with_retry(
    op: Callable[[], Awaitable[T]],
    *,
    attempts: int = IN_PLACE_ATTEMPTS,
    max_wait: float = IN_PLACE_MAX_WAIT,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run `op`, retrying throttling and gateway errors with backoff (Retry-After first).

    Raises:
        DeliveryError: the call failed for good, or asks for a wait longer than `max_wait`.
    """
    for attempt in range(attempts):
        try:
            return await op()
        except ErrorResponseException as exc:
            status = status_of(exc)
            if status not in RETRYABLE or attempt == attempts - 1:
                raise delivery_error_from_connector(exc) from None
            retry_after = retry_after_of(exc)
            delay = retry_after if retry_after is not None else BASE_DELAY * 2**attempt
            if delay > max_wait:
                raise delivery_error_from_connector(exc) from None
            # jitter spreads out a burst of throttled sends so they do not retry in lockstep
            await sleep(delay + random.uniform(0, delay * 0.1))
    raise AssertionError("unreachable")  # pragma: no cover
