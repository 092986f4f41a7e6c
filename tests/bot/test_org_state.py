"""An org's install state and last callback, outside its record; /cronofy status shows both."""

from __future__ import annotations

from typing import Any

from bot.chat import DeliveryTarget
from bot.org_state import (
    APP_UNINSTALLED,
    RELEASE_MAX_AGE,
    deactivate_org,
    last_callback_at,
    reactivate_org,
    record_callback,
    uninstalled,
)
from bot.outbox import notice_job
from bot.store.base import Store
from bot.store.records import CronofyConfig, Job, Org
from cards.model import Card, Header
from tests.bot.commands.turns import run_command
from tests.bot.cronofy.support import ORG_ID, Clock, actor, card_text, ctx, make_services

ADMIN = "U_ADMIN"


def _org(**fields: Any) -> Org:
    keys = CronofyConfig("cid_0123456789", "sealed", "us", ADMIN, 1.0)
    return Org(
        org_id=ORG_ID, platform="slack", org_key="k" * 20, cronofy=keys, admins=[ADMIN], **fields
    )


def _notice(created_at: float) -> Job:
    target = DeliveryTarget("slack", ORG_ID, "channel", conversation_id="C1")
    return notice_job(ORG_ID, target, Card(blocks=[Header("an alert")]), now=created_at)


async def test_status_says_the_app_is_uninstalled_and_shows_the_last_callback(
    store: Store,
) -> None:
    services = make_services(store, None)
    await store.put_org(_org())
    installed = card_text(
        (await run_command(ctx(services, actor(ADMIN)), "cronofy status"))[0].card
    )
    assert "uninstalled" not in installed and "none received yet" in installed

    await store.put_org(_org(active=False))
    await record_callback(store, ORG_ID, 1_800_000_000.0)
    [reply] = await run_command(ctx(services, actor(ADMIN)), "cronofy status")
    text = card_text(reply.card)
    assert "Slotbot is uninstalled here" in text and "held" in text
    assert reply.card.status == "attention"
    assert "none received yet" not in text, "the last callback is read from org_activity"


async def test_last_callback_falls_back_to_the_value_older_versions_kept_in_the_record(
    store: Store,
) -> None:
    org = _org(last_callback_at=123.0)
    assert await last_callback_at(store, org) == 123.0
    await record_callback(store, ORG_ID, 456.0)
    assert await last_callback_at(store, org) == 456.0


async def test_reinstall_releases_the_jobs_held_while_uninstalled_but_not_stale_ones(
    store: Store,
) -> None:
    clock = Clock()
    services = make_services(store, None, clock)
    await store.put_org(_org())
    recent, stale, failed = (
        _notice(clock.now - 60),
        _notice(clock.now - RELEASE_MAX_AGE - 60),
        _notice(clock.now - 60),
    )
    await store.enqueue([failed])
    await store.dead_letter_job(failed, "channel_not_found")
    await store.enqueue([recent, stale])

    assert await deactivate_org(services, ORG_ID) == 2
    org = await store.get_org(ORG_ID)
    assert org is not None and not org.active
    assert await store.outbox_depth() == 0
    reasons = {job.job_id: job.dead_reason for job in await store.list_dead_letters(ORG_ID)}
    assert reasons[recent.job_id] == reasons[stale.job_id] == APP_UNINSTALLED

    assert await reactivate_org(services, ORG_ID) == 1
    org = await store.get_org(ORG_ID)
    assert org is not None and org.active
    assert await store.outbox_depth() == 1
    left = {job.job_id for job in await store.list_dead_letters(ORG_ID)}
    assert left == {stale.job_id, failed.job_id}
    assert await reactivate_org(services, ORG_ID) is None, "an active org is left alone"


async def test_an_org_read_active_a_moment_ago_is_not_read_again_before_a_message(
    store: Store,
) -> None:
    services = make_services(store, None)
    await store.put_org(_org())
    reads: list[str] = []
    get_org = store.get_org

    async def counting_get(org_id: str) -> Org | None:
        reads.append(org_id)
        return await get_org(org_id)

    store.get_org = counting_get  # type: ignore[method-assign]
    assert not await uninstalled(services, ORG_ID)
    assert not await uninstalled(services, ORG_ID)
    assert reads == [ORG_ID]
    # an uninstall written in this process is seen by the very next message
    await deactivate_org(services, ORG_ID)
    assert await uninstalled(services, ORG_ID)
    assert await uninstalled(services, ORG_ID)  # an inactive org is read every time
    assert len(reads) == 4  # (deactivate_org's own read among them)
    assert not await uninstalled(services, "slack:TUNKNOWN")
