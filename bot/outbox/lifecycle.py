"""The outbox worker running with the app: started with it, stopped with it, woken by whoever
enqueues work.

`serve` runs one worker in the serving process; `python -m bot worker` runs the app with no
listening port, for this worker alone. Either way the worker stops with the app and finishes
the job in hand first (see `worker_lifecycle`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot import logs
from bot.outbox.worker import OutboxWorker
from bot.runtime import METRICS, RUN_WORKER, SERVICES

log = logging.getLogger(__name__)

WORKER_STOP_TIMEOUT = 10.0


@dataclass
class OutboxState:
    """The app's outbox worker, while it runs."""

    worker: OutboxWorker | None = None
    # options for the in-process worker (tests shorten the timings)
    worker_options: dict[str, Any] = field(default_factory=dict)


OUTBOX = web.AppKey("outbox", OutboxState)


def consumer_name() -> str:
    """Unique per process: a restarted worker must not inherit its predecessor's claims."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def make_worker(app: web.Application, **options: Any) -> OutboxWorker:
    metrics = app[METRICS]

    def observe(platform: str, result: str) -> None:
        metrics.deliveries.labels(platform, result).inc()

    config = app[SERVICES].settings
    settings = {
        "consumer": consumer_name(),
        "on_delivery": observe,
        "visibility_timeout": config.outbox_visibility_timeout,
        "lanes": config.outbox_lanes,
        # enough jobs per claim to keep every lane busy until the batch's last one is done
        # (a batch ends with its longest lane): ~8 per lane measured 10% more messages per
        # second than ~2 (bench/delivery.py), each conversation's lease taken once for them
        "batch_size": max(10, 8 * config.outbox_lanes),
        **options,
    }
    return OutboxWorker(app[SERVICES], **settings)


def wake_worker(app: web.Application) -> None:
    """Jobs were enqueued: this process's worker, if it runs one, looks now rather than at its
    next poll (a worker elsewhere finds them at its own)."""
    state = app.get(OUTBOX)
    if state is not None and state.worker is not None:
        state.worker.wake()


async def worker_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Run the outbox worker with the app; on shutdown let it finish the job in hand."""
    state = app[OUTBOX]
    if not app[RUN_WORKER]:
        yield
        return
    worker = make_worker(app, **state.worker_options)
    state.worker = worker
    task = asyncio.create_task(worker.run(), name="outbox-worker")
    try:
        yield
    finally:
        worker.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), WORKER_STOP_TIMEOUT)
        except TimeoutError:
            log.warning(logs.WORKER_STOP_TIMEOUT, worker.consumer, WORKER_STOP_TIMEOUT)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        state.worker = None


def setup(app: web.Application) -> None:
    """Run the outbox worker with the app (unless the app was made with run_worker=False).

    A feature of the core like the others: the store, opened before every feature, closes
    only after the worker has stopped."""
    app[OUTBOX] = OutboxState()
    app.cleanup_ctx.append(worker_lifecycle)
