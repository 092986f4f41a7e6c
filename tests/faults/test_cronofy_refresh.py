"""Cronofy's token endpoint is down while a member's access token needs refreshing: the
member keeps their connection (no "please reconnect" message, tokens untouched), the command
says Cronofy could not be reached, and the next use refreshes again and works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.runtime import Services
from tests.bot.commands.turns import run_command
from tests.bot.cronofy.support import (
    ORG_ID,
    Clock,
    actor,
    card_text,
    ctx,
    pending_jobs,
)
from tests.bot.cronofy.test_connect import RECRUITER, connected_member, http, services_of
from tests.fakes.cronofy import FakeCronofy
from tests.support.secret_watch import register_secret

__all__ = ["http"]  # the app fixture, shared with the connect tests

LINK_COMMAND = "schedule link for jane@example.com Jane Doe"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def token_endpoint_down(kind: str) -> Callable[[FakeCronofy], None]:
    def apply(fake: FakeCronofy) -> None:
        if kind == "reset":
            fake.reset_connection("token", times=1000)
        elif kind == "slow":
            fake.slow("token", 3.0)  # beyond the client's timeout in these tests (0.5 s)
        else:
            fake.fail_for("token", 600, status=int(kind), retry_after=None)

    return apply


@pytest.mark.parametrize("kind", ["500", "503", "429", "reset", "slow"])
async def test_token_endpoint_down_during_refresh_keeps_the_member_connected_and_retries(
    http: TestClient[Any, Any], fake_cronofy: FakeCronofy, clock: Clock, kind: str
) -> None:
    services: Services = services_of(http)
    before = await connected_member(http, fake_cronofy)
    register_secret(
        "Cronofy token",
        services.secrets.decrypt(before.access_token_enc or ""),
        services.secrets.decrypt(before.refresh_token_enc or ""),
    )
    await pending_jobs(services.store)  # the "calendar connected" notice
    clock.now += 3600 - 60  # the access token is about to expire: the next use refreshes

    token_endpoint_down(kind)(fake_cronofy)
    replies = await run_command(ctx(services, actor(RECRUITER)), LINK_COMMAND)
    said = card_text(replies[0].card)
    assert "could not reach cronofy" in said.lower(), said
    assert "/oauth/authorize" not in said  # not told to reconnect
    assert fake_cronofy.token_requests("refresh_token"), "a refresh was attempted"

    during = await services.store.get_member(ORG_ID, RECRUITER)
    assert during is not None and during.connected
    assert during.access_token_enc == before.access_token_enc
    assert during.refresh_token_enc == before.refresh_token_enc
    assert await pending_jobs(services.store, now=clock.now + 10_000_000) == []  # no reconnect DM
    assert await services.store.find_candidate_by_email(ORG_ID, "jane@example.com") is None

    fake_cronofy.reset()  # the endpoint is back (grants kept)
    attempts = len(fake_cronofy.token_requests("refresh_token"))
    replies = await run_command(ctx(services, actor(RECRUITER)), LINK_COMMAND)
    said = card_text(replies[0].card)
    assert "Scheduling link for Jane Doe" in said, said
    assert len(fake_cronofy.token_requests("refresh_token")) == attempts + 1, "refreshed again"
    after = await services.store.get_member(ORG_ID, RECRUITER)
    assert after is not None and after.connected
    assert after.access_token_enc != before.access_token_enc
    assert after.token_expires_at is not None and after.token_expires_at > clock.now + 600
    register_secret("Cronofy token", services.secrets.decrypt(after.access_token_enc or ""))
