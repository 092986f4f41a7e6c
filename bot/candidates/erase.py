"""Erasing a candidate: the one entry point `/cronofy candidate erase`, its Erase button and
the Erase button of a Cronofy data request all go through (`erase`).

Before the records go, each alert posted about the candidate's bookings is queued to be
changed in place to "(removed)" (one `alert_removed` job per stored message reference), in
the same store step as the erasure. Afterwards an audit entry records the candidate id, the
counts and who erased: nothing the candidate could be recognised by.

Webhooks: `erased_event_jobs` is the seam for the signed webhooks (built apart): it returns
the jobs telling each webhook of the org about the erasure (an `erased` event with the
candidate id, never the email), queued in the same step as the erasure. Until webhooks are
merged it returns none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import logs
from bot.outbox.kinds.alert_removed import removed_job
from bot.runtime import Services
from bot.store.erasure import ErasureCounts
from bot.store.records import AuditEntry, Job, Org
from bot.webhooks.events import webhook_jobs
from bot.webhooks.shape import erased_event

log = logging.getLogger(__name__)

AUDIT_ACTION = "candidate.erase"


@dataclass(frozen=True)
class Erasure:
    """What one erasure did: the candidate's id (the one thing left to name them by, for the
    `erased` webhook event), the counts, and how many posted alerts are being changed."""

    org_id: str
    candidate_id: str
    counts: ErasureCounts
    alerts_removed: int


def erased_event_jobs(org: Org | None, candidate_id: str, *, now: float) -> list[Job]:
    """The jobs telling the org's webhooks that `candidate_id` was erased: the id alone, which
    the receiver knows them by (`bot.webhooks.shape.erased_event`)."""
    if org is None:
        return []
    return webhook_jobs(org, erased_event(org.org_id, candidate_id, now=now), now=now)


async def erase(
    services: Services, org_id: str, candidate_id: str, *, actor: str
) -> Erasure | None:
    """Erase one candidate of the org; None when there is no such candidate (any more)."""
    store = services.store
    candidate = await store.get_candidate(org_id, candidate_id)
    if candidate is None:
        return None
    now = services.clock()
    jobs: list[Job] = []
    for booking in await store.list_bookings(org_id):
        if booking.candidate_id != candidate_id:
            continue
        refs = await store.get_message_refs(org_id, booking.booking_id)
        jobs += [removed_job(org_id, target, ref, now=now) for target, ref in refs.items()]
    alerts = len(jobs)
    jobs += erased_event_jobs(await store.get_org(org_id), candidate_id, now=now)
    counts = await store.erase_candidate(org_id, candidate_id, jobs=jobs)
    await store.append_audit(
        AuditEntry(
            org_id=org_id,
            actor=actor,
            action=AUDIT_ACTION,
            detail={"candidate_id": candidate_id, **counts.to_dict()},
            at=now,
        )
    )
    log.info(logs.CANDIDATE_ERASED, candidate_id, org_id, actor, counts.to_dict())
    return Erasure(org_id, candidate_id, counts, alerts)
