"""Retrying Bot Connector calls that Teams throttles or drops.

botbuilder (msrest) retries nothing for Slotbot (`adapters.teams.connector` turns its own
retries off): a 429, 412, 502, 503 or 504 from the connector, a connection that fails, or a
call that times out surfaces here at once. Teams asks bots to retry throttling and gateway
errors with backoff and to honour Retry-After. We retry those, and a connection refused, in
place only while the wait is short and, inside an inbound turn, only while the turn's deadline
leaves time for another try (the turn hands what it could not send to the outbox); a call that
timed out is not tried again here, as the connector may have acted on it. A longer Retry-After
becomes `DeliveryError(retry_after=...)` so the outbox worker waits instead of holding a worker
slot, and the job survives a restart.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from botbuilder.schema import ErrorResponseException

from adapters.teams.connector import ConnectorTimeout, ConnectorUnreachable, time_left
from adapters.teams.errors import (
    RETRYABLE,
    delivery_error_from_connector,
    retry_after_of,
    status_of,
)
from bot.chat import DeliveryFailure
from bot.errors import DeliveryError

T = TypeVar("T")

IN_PLACE_ATTEMPTS = 3
IN_PLACE_MAX_WAIT = 5.0
BASE_DELAY = 0.5
# a retry is worth it only if it has at least this long to run after its wait
MIN_TRY_SECONDS = 0.5

Sleep = Callable[[float], Awaitable[None]]


def _transport_error(exc: Exception) -> DeliveryError:
    if isinstance(exc, ConnectorTimeout):
        return DeliveryError(
            "Teams did not answer in time.",
            failure=DeliveryFailure.TRANSIENT,
            reason="teams_timeout",
        )
    return DeliveryError(
        "Teams could not be reached.", failure=DeliveryFailure.TRANSIENT, reason="teams_unreachable"
    )


async def with_retry(
    op: Callable[[], Awaitable[T]],
    *,
    attempts: int = IN_PLACE_ATTEMPTS,
    max_wait: float = IN_PLACE_MAX_WAIT,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run `op`, retrying throttling, gateway and connection errors with backoff (Retry-After
    first), within the current deadline (`adapters.teams.connector.deadline`) if any.

    Raises:
        DeliveryError: the call failed for good, asks for a wait longer than `max_wait`, or
            no time is left for another try.
    """
    for attempt in range(attempts):
        try:
            return await op()
        except ErrorResponseException as exc:
            status = status_of(exc)
            if status not in RETRYABLE or attempt == attempts - 1:
                raise delivery_error_from_connector(exc) from None
            retry_after = retry_after_of(exc)
            error = delivery_error_from_connector(exc)
        except ConnectorTimeout as exc:
            # the connector may have acted on it: no second try here (the outbox decides)
            raise _transport_error(exc) from None
        except ConnectorUnreachable as exc:
            error = _transport_error(exc)
            if attempt == attempts - 1:
                raise error from None
            retry_after = None
        delay = retry_after if retry_after is not None else BASE_DELAY * 2**attempt
        left = time_left()
        if delay > max_wait or (left is not None and left < delay + MIN_TRY_SECONDS):
            raise error from None
        # jitter spreads out a burst of throttled sends so they do not retry in lockstep
        await sleep(delay + random.uniform(0, delay * 0.1))
    raise AssertionError("unreachable")  # pragma: no cover
