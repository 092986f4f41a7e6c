"""A candidate's own data, command side, on both stores: the parser's words, retention (the
setting, its daily sweep as a timer: old erased, new kept, the next day's set; off cancels
it), the export link (single use, ten minutes, admins only), and a Cronofy data request
that offers the erase when it names a known candidate."""

from __future__ import annotations

from typing import Any

import pytest

from bot.alerts.intake import build_write
from bot.alerts.parse import parse_notification
from bot.app import create_app
from bot.candidates import export
from bot.candidates.retention import DAY, retention_key
from bot.commands import parser as p
from bot.outbox.worker import OutboxWorker
from bot.runtime import SERVICES, Services
from bot.store.records import Booking, Candidate, Org, TimelineEntry
from cards import actions
from cards.model import card_from_dict
from tests.bot.alerts import payloads
from tests.bot.commands.test_dispatch import ADMIN, RECRUITER, org_ready, say
from tests.bot.cronofy.support import ORG_ID, Clock, card_text

__all__ = ["org_ready"]

EMAIL = "jane@example.com"


def test_parser_reads_the_new_commands() -> None:
    assert p.parse("cronofy candidate erase Jane@Example.com") == p.CandidateErase(EMAIL)
    assert p.parse("cronofy candidate export jane@example.com") == p.CandidateExport(EMAIL)
    assert p.parse("cronofy retention") == p.RetentionShow()
    assert p.parse("cronofy retention 30") == p.RetentionSet(30)
    assert p.parse("cronofy retention OFF") == p.RetentionSet(None)
    assert p.parse("cronofy retention 3650") == p.RetentionSet(3650)


@pytest.mark.parametrize(
    "text",
    [
        "cronofy candidate",
        "cronofy candidate erase",
        "cronofy candidate erase not-an-email",
        "cronofy candidate delete jane@example.com",
        "cronofy candidate erase jane@example.com now",
        "cronofy retention 0",
        "cronofy retention 3651",
        "cronofy retention -5",
        "cronofy retention ten",
        "cronofy retention 30 days",
    ],
)
def test_parser_refuses_with_the_usage(text: str) -> None:
    with pytest.raises(p.UsageError):
        p.parse(text)


@pytest.mark.parametrize(
    "text", ["cronofy retention", "cronofy retention 30", f"cronofy candidate export {EMAIL}"]
)
async def test_non_admins_are_refused(org_ready: Services, text: str) -> None:
    assert "Only Slotbot admins" in await say(org_ready, text, RECRUITER)
    org = await org_ready.store.get_org(ORG_ID)
    assert org is not None and org.retention_days is None


async def test_unknown_email_is_a_clear_answer(org_ready: Services) -> None:
    for verb in ("erase", "export"):
        answer = await say(org_ready, f"cronofy candidate {verb} who@example.com", ADMIN)
        assert "No candidate with the email who@example.com" in answer


async def _history(services: Services) -> None:
    """Jane: entries recorded 40, 20 and 1 days ago; a booking that ended 40 days ago and one
    next week."""
    store, now = services.store, services.clock()
    await store.put_candidate(Candidate(ORG_ID, "c1", EMAIL, "Jane Doe", RECRUITER))
    for days in (40, 20, 1):
        await store.append_timeline(ORG_ID, "c1", TimelineEntry("booked", at=now - days * DAY))

    def iso(epoch: float) -> str:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    for booking_id, at in (("old", now - 40 * DAY), ("next", now + 7 * DAY)):
        await store.put_booking(
            Booking(ORG_ID, booking_id, "c1", RECRUITER, start=iso(at), end=iso(at + 1800))
        )


async def run_jobs(services: Services) -> None:
    worker = OutboxWorker(services, consumer="retention", poll_interval=0.01)
    while await worker.run_once():
        pass


async def test_retention_sweeps_daily_erasing_old_keeping_new(
    org_ready: Services, clock: Clock
) -> None:
    store = org_ready.store
    await _history(org_ready)
    assert "Off" in await say(org_ready, "cronofy retention", ADMIN)
    assert "30 days" in await say(org_ready, "cronofy retention 30", ADMIN)
    assert "30 days" in await say(org_ready, "cronofy retention", ADMIN)
    timer = await store.get_timer(retention_key(ORG_ID))
    assert timer is not None and timer.not_before == clock.now
    first = clock.now

    await run_jobs(org_ready)
    assert len(await store.list_timeline(ORG_ID, "c1")) == 2  # 20 and 1 days ago
    assert [b.booking_id for b in await store.list_bookings(ORG_ID)] == ["next"]
    assert await store.find_candidate_by_email(ORG_ID, EMAIL) is not None
    [sweep] = [a for a in await store.list_audit(ORG_ID) if a.action == "retention.sweep"]
    assert sweep.detail["timeline"] == 1 and sweep.detail["bookings"] == 1
    assert EMAIL not in repr(sweep) and "Jane" not in repr(sweep)
    following = await store.get_timer(retention_key(ORG_ID))
    assert following is not None and following.not_before == first + DAY

    # eleven days later the entry of "20 days ago" is past 30 days too
    clock.now = first + 11 * DAY
    await run_jobs(org_ready)
    assert len(await store.list_timeline(ORG_ID, "c1")) == 1
    later = await store.get_timer(retention_key(ORG_ID))
    assert later is not None and later.not_before == first + 12 * DAY  # missed days skipped

    assert "off" in (await say(org_ready, "cronofy retention off", ADMIN)).lower()
    assert await store.get_timer(retention_key(ORG_ID)) is None


async def test_a_sweep_that_fires_after_retention_was_turned_off_erases_nothing(
    org_ready: Services, clock: Clock
) -> None:
    store = org_ready.store
    await _history(org_ready)
    await say(org_ready, "cronofy retention 30", ADMIN)
    org = await store.get_org(ORG_ID)
    assert org is not None
    org.retention_days = None  # changed behind the timer's back
    await store.put_org(org)
    await run_jobs(org_ready)
    assert len(await store.list_timeline(ORG_ID, "c1")) == 3
    assert await store.get_timer(retention_key(ORG_ID)) is None


async def test_export_link_serves_the_json_once_within_ten_minutes(
    aiohttp_client: Any, org_ready: Services, clock: Clock
) -> None:
    app = create_app(
        org_ready.settings,
        platforms=[],
        features=[export.setup],
        store=org_ready.store,
        secrets=org_ready.secrets,
        run_worker=False,
    )
    app[SERVICES].clock = clock
    client = await aiohttp_client(app)
    await _history(org_ready)

    async def link() -> str:
        answer = await say(org_ready, f"cronofy candidate export {EMAIL}", ADMIN)
        url = next(w for w in answer.split() if "/exports/" in w).strip("()<>'\",")
        return url[url.index("/exports/") :]

    path = await link()
    response = await client.get(path)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    document = await response.json()
    assert document["email"] == EMAIL and document["name"] == "Jane Doe"
    assert len(document["timeline"]) == 3 and len(document["bookings"]) == 2
    assert (await client.get(path)).status == 404  # single use

    late = await link()
    clock.now += export.LINK_TTL + 1
    assert (await client.get(late)).status == 410
    assert (await client.get("/exports/" + "x" * 43)).status == 404
    assert (await client.get("/exports/short")).status == 404
    # the store keeps the token's hash, never the token
    gone = await link()
    token = gone.rsplit("/", 1)[1]
    assert await org_ready.store.consume_oauth_state(token) is None


async def test_a_data_request_naming_a_known_candidate_offers_the_erase(
    org_ready: Services,
) -> None:
    store = org_ready.store
    await store.put_candidate(Candidate(ORG_ID, "c1", EMAIL, "Jane Doe"))
    org = await store.get_org(ORG_ID)
    assert isinstance(org, Org)

    async def card_for(**notification: str) -> str:
        note = parse_notification(payloads.channel("gdpr_requested", **notification))
        write = await build_write(store, org, note, b"{}", now=1.0)
        [job] = write.jobs
        card = card_from_dict(job.payload["card"])
        text = card_text(card)
        assert EMAIL not in text and "Jane" not in text  # it stays in chat after the erase
        return text

    named = await card_for(email="JANE@example.com")
    assert actions.ERASE_CONFIRM in named and "'c1'" in named
    for unknown in ({}, {"email": "who@example.com"}):
        text = await card_for(**unknown)
        assert actions.ERASE_CONFIRM not in text
        assert "/cronofy candidate erase" in text
