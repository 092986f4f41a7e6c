"""The push route's handling of the org record: an uninstalled org's callbacks are kept, and
the last-callback time never rewrites the record admins edit."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.org_state import APP_UNINSTALLED, last_callback_at
from bot.store.base import Store
from bot.store.records import Org
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import ORG_ID, Clock, start_pipeline

BOOKING_ID = "srq_80f7fece4f37897d62d86d80"


async def test_push_for_an_uninstalled_org_is_recorded_and_its_alerts_held(
    aiohttp_client: Any, store: Store
) -> None:
    p = await start_pipeline(aiohttp_client, store, run_worker=False)
    org = await store.get_org(ORG_ID)
    assert org is not None
    await store.put_org(dataclasses.replace(org, active=False))

    response = await p.post(payloads.time_chosen())
    assert response.status == 200, await response.text()
    assert await store.get_booking(ORG_ID, BOOKING_ID) is not None
    assert await store.outbox_depth() == 0, "nothing left for a worker to deliver"
    held = await store.list_dead_letters(ORG_ID)
    assert len(held) == 2 and {job.dead_reason for job in held} == {APP_UNINSTALLED}


async def test_a_push_during_a_reset_does_not_bring_the_keys_back(
    aiohttp_client: Any, store: Store
) -> None:
    clock = Clock()
    p = await start_pipeline(aiohttp_client, store, run_worker=False, clock=clock)
    committed = False
    reset_done = False
    commit_event = store.commit_event
    get_org = store.get_org

    async def reset() -> None:
        nonlocal reset_done
        org = await get_org(ORG_ID)
        assert org is not None
        await store.put_org(dataclasses.replace(org, cronofy=None))
        reset_done = True

    async def commit_then_note(write: Any) -> bool:
        nonlocal committed
        result = await commit_event(write)
        committed = True
        return result

    async def read_then_reset(org_id: str) -> Org | None:
        # an admin's /cronofy reset lands right after the push route has read the org
        org = await get_org(org_id)
        if committed and not reset_done:
            await reset()
        return org

    store.commit_event = commit_then_note  # type: ignore[method-assign]
    store.get_org = read_then_reset  # type: ignore[method-assign]
    try:
        assert (await p.post(payloads.time_chosen())).status == 200
    finally:
        store.commit_event = commit_event  # type: ignore[method-assign]
        store.get_org = get_org  # type: ignore[method-assign]
    if not reset_done:
        await reset()  # the push never read the org again: the reset lands after it

    org = await store.get_org(ORG_ID)
    assert org is not None and org.cronofy is None, "the removed keys stay removed"
    assert await last_callback_at(store, org) == clock.now
