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

from bot.errors import DeliveryError

T = TypeVar("T")

RETRYABLE = frozenset({412, 429, 502, 503, 504})
PERMANENT = frozenset({400, 401, 403, 404})
IN_PLACE_ATTEMPTS = 3
IN_PLACE_MAX_WAIT = 5.0
BASE_DELAY = 0.5

Sleep = Callable[[float], Awaitable[None]]


def status_of(exc: ErrorResponseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def retry_after_of(exc: ErrorResponseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, value)


def as_delivery_error(exc: ErrorResponseException) -> DeliveryError:
    status = status_of(exc)
    if status in RETRYABLE:
        return DeliveryError(
            f"Teams answered {status}", retry_after=retry_after_of(exc), reason=f"teams_{status}"
        )
    if status in PERMANENT:
        return DeliveryError(f"Teams answered {status}", permanent=True, reason=f"teams_{status}")
    return DeliveryError(f"Teams answered {status}", reason=f"teams_{status}")


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
                raise as_delivery_error(exc) from None
            retry_after = retry_after_of(exc)
            delay = retry_after if retry_after is not None else BASE_DELAY * 2**attempt
            if delay > max_wait:
                raise as_delivery_error(exc) from None
            # jitter spreads out a burst of throttled sends so they do not retry in lockstep
            await sleep(delay + random.uniform(0, delay * 0.1))
    raise AssertionError("unreachable")  # pragma: no cover
