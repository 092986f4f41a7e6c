"""The running service's shared parts, handed to every feature and adapter."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.chat import DeliveryAdapter
from bot.config import Settings
from bot.secrets import SecretBox
from bot.store.base import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    secrets: SecretBox
    # platform name -> adapter; filled by the enabled adapters at start-up
    delivery: dict[str, DeliveryAdapter] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
