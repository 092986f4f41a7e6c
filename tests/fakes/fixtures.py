"""Pytest fixtures: one fresh fake upstream per test, started before and stopped after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.botframework import FakeConnector
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """Slack Web API at ``fake_slack.api_url`` (``<url>/api/``); response URLs via ``response_url()``."""
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def fake_connector() -> AsyncIterator[FakeConnector]:
    """Bot Framework connector at ``fake_connector.service_url``; OpenID metadata + JWKS too."""
    fake = FakeConnector()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def fake_cronofy() -> AsyncIterator[FakeCronofy]:
    """Cronofy API and app host at ``fake_cronofy.url``; default app ``client_id``/``client_secret``."""
    fake = FakeCronofy()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
