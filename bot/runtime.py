"""What every part of a running Slotbot shares, in a module nobody imports the app for:
the services handed to features and platforms, and the keys they are kept under on the
aiohttp application."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.chat import DeliveryAdapter
from bot.config import Settings
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.secrets import SecretBox
from bot.store.base import Store
from bot.store.orgcache import RecentlyActive
from bot.webhooks.addresses import HostResolver, system_resolve


@dataclass
class Services:
    settings: Settings
    store: Store
    secrets: SecretBox
    # platform name -> adapter; filled by the enabled adapters at start-up
    delivery: dict[str, DeliveryAdapter] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    # how webhook hosts are resolved (checked before each send): tests answer for themselves
    resolve_host: HostResolver = system_resolve
    # orgs read as active a moment ago: a chat request from one needs no read to reactivate it
    active_orgs: RecentlyActive = field(default_factory=RecentlyActive)


SERVICES = web.AppKey("services", Services)
METRICS = web.AppKey("metrics", Metrics)
READINESS = web.AppKey("readiness", dict[str, bool])
RUN_WORKER = web.AppKey("run_worker", bool)
# the rate limit of the routes anyone can reach (bot.ratelimit); absent: no limit
PAGE_LIMITER = web.AppKey("page_limiter", RateLimiter)
