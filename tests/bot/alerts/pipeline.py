"""A running app with one configured org, a recording delivery adapter and helpers to post
signed Cronofy callbacks: shared by the alerts unit and scenario tests."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet

from bot.alerts.hmac import HEADER, compute_push_hmac
from bot.app import create_app
from bot.config import Settings
from bot.outbox.lifecycle import OUTBOX
from bot.outbox.worker import OutboxWorker
from bot.runtime import SERVICES, Services
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.records import (
    AlertRoute,
    Candidate,
    CronofyConfig,
    Member,
    Org,
    TrackedLink,
)
from tests.bot.alerts.recording import RecordingAdapter

ORG_ID = "slack:T0ALERTS"
ORG_KEY = "pushkey_0123456789abcdef"
CLIENT_SECRET = "CRN_test_client_secret_alerts_0001"
RECRUITER = "UREC0001"
ADMIN = "UADM0001"
CHANNEL = "C0HIRING"
CANDIDATE_ID = "cand0001"
CORRELATION_ID = "foobar"
PUSH_URL = f"/cronofy/push/{ORG_KEY}"
WAIT = 15.0  # an upper bound for waiting on the worker, never a timing assertion


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sign(body: bytes, secret: str = CLIENT_SECRET) -> dict[str, str]:
    return {
        HEADER: compute_push_hmac(secret, body),
        "Content-Type": "application/json; charset=utf-8",
    }


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


async def seed(store: Store, box: SecretBox, *, dm_alerts: bool = True) -> Org:
    org = Org(
        org_id=ORG_ID,
        platform="slack",
        name="Globex",
        org_key=ORG_KEY,
        cronofy=CronofyConfig(
            client_id="cid_alerts",
            client_secret_enc=box.encrypt(CLIENT_SECRET),
            data_center="us",
            configured_by=ADMIN,
            configured_at=1.0,
        ),
        admins=[ADMIN],
        routes=[AlertRoute(conversation_id=CHANNEL, name="hiring")],
    )
    await store.put_org(org)
    await store.put_member(
        Member(org_id=ORG_ID, user_id=RECRUITER, display_name="Rita Recruiter", dm_alerts=dm_alerts)
    )
    await store.put_candidate(
        Candidate(
            org_id=ORG_ID,
            candidate_id=CANDIDATE_ID,
            email="eb@example.com",
            name="Dr Emmet Brown",
            recruiter_id=RECRUITER,
        )
    )
    await store.put_tracked_link(
        TrackedLink(
            correlation_id=CORRELATION_ID,
            org_id=ORG_ID,
            member_id=RECRUITER,
            candidate_id=CANDIDATE_ID,
        )
    )
    return org


@dataclass
class Pipeline:
    client: TestClient[web.Request, web.Application]
    services: Services
    adapter: RecordingAdapter
    clock: Clock | None = None
    workers: list[OutboxWorker] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.services.store

    async def post(self, payload: Any, *, headers: dict[str, str] | None = None) -> Any:
        body = payload if isinstance(payload, bytes) else encode(payload)
        response = await self.client.post(
            PUSH_URL, data=body, headers=sign(body) if headers is None else headers
        )
        return response

    def worker(self, **options: Any) -> OutboxWorker:
        settings: dict[str, Any] = {
            "consumer": f"test-{len(self.workers)}",
            "poll_interval": 0.02,
            "base_delay": 1.0,
            "visibility_timeout": 30.0,
            "rng": lambda: 1.0,
        }
        settings.update(options)
        worker = OutboxWorker(self.services, **settings)
        self.workers.append(worker)
        return worker

    async def wait_sent(self, count: int) -> None:
        async def until() -> None:
            while len(self.adapter.sent) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(until(), WAIT)

    async def drain(self) -> None:
        """Wait until the outbox is empty (the in-app worker has finished everything)."""

        async def until() -> None:
            while await self.store.outbox_depth() > 0:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(until(), WAIT)


async def start_pipeline(
    aiohttp_client: Any,
    store: Store,
    *,
    run_worker: bool = True,
    clock: Clock | None = None,
    settings: dict[str, str] | None = None,
    dm_alerts: bool = True,
) -> Pipeline:
    box = SecretBox([Fernet.generate_key().decode()])
    await seed(store, box, dm_alerts=dm_alerts)
    app = create_app(
        Settings.from_env(settings or {}), store=store, secrets=box, run_worker=run_worker
    )
    app[OUTBOX].worker_options = {"poll_interval": 0.02, "base_delay": 0.05}
    services = app[SERVICES]
    if clock is not None:
        services.clock = clock
    adapter = RecordingAdapter("slack")
    services.delivery["slack"] = adapter
    client = await aiohttp_client(app)
    return Pipeline(client=client, services=services, adapter=adapter, clock=clock)
