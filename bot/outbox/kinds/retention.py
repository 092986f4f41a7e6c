"""The "retention" job: an org's daily sweep of timelines and bookings past its retention
(`bot.candidates.retention`).

A timer keyed `retention|<org>`. When it fires it reads the org's setting, erases what is
older (`Store.erase_older_than`), writes an audit entry with the counts when anything went,
and sets the next day's timer under the same key. Retention turned off since: nothing, and
no next timer. A sweep that runs late is still of use (it erases the same), so none is
dropped as late.

Stored payload: {"days": <the setting when it was set, for listings>}.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import logs
from bot.candidates import retention
from bot.chat import DeliveryTarget
from bot.outbox.jobs import BadJob, Delivered, JobKind
from bot.store.records import AuditEntry, Job, Org

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    days: int

    @property
    def target(self) -> DeliveryTarget | None:
        return None  # posts nowhere

    @property
    def seq(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sweep:
        days = data.get("days")
        if not isinstance(days, int) or isinstance(days, bool):
            raise BadJob("no retention days")
        return cls(days)


def sweep_timer(org: Org, *, due: float, now: float) -> Job | None:
    """The org's next sweep (None: retention is off)."""
    if org.retention_days is None:
        return None
    return KIND.timer(
        org.org_id,
        Sweep(org.retention_days),
        key=retention.retention_key(org.org_id),
        due=due,
        now=now,
    )


async def sweep(attempt: Attempt, job: Sweep) -> Delivered:
    store, now = attempt.services.store, attempt.services.clock()
    org_id = attempt.job.org_id
    org = await store.get_org(org_id)
    cutoff = retention.cutoff(org, now) if org is not None else None
    if org is None or cutoff is None:
        log.info(logs.RETENTION_STOPPED, org_id)
        return Delivered("-", "retention off")
    counts = await store.erase_older_than(org_id, cutoff)
    if counts.total:
        await store.append_audit(
            AuditEntry(
                org_id=org_id,
                actor="system",
                action="retention.sweep",
                detail={"days": org.retention_days, **counts.to_dict()},
                at=now,
            )
        )
    log.info(logs.RETENTION_SWEPT, org_id, org.retention_days, counts.to_dict())
    following = sweep_timer(
        org, due=retention.next_due(attempt.job.not_before or now, now), now=now
    )
    if following is not None:
        await attempt.enqueue([following])
    return Delivered("-", f"retention sweep: {counts.total} record(s) erased")


KIND = JobKind(name="retention", parse=Sweep.from_dict, deliver=sweep)
