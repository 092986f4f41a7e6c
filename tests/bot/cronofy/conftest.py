from __future__ import annotations

import pytest

from bot.runtime import Services
from bot.store.base import Store
from tests.bot.cronofy.support import Clock, make_services
from tests.fakes.cronofy import FakeCronofy


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(store: Store, fake_cronofy: FakeCronofy, clock: Clock) -> Services:
    return make_services(store, fake_cronofy, clock)
