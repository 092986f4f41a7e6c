"""Who hears about a booking event: the org's alert routes, and in their direct messages the
recruiter and every other connected member on the booking's panel (`bot.lifecycle.panel`),
each unless they turned direct-message alerts off."""

from __future__ import annotations

from bot.alerts.parse import Notification
from bot.alerts.profiles import Resolution
from bot.alerts.render import AlertFacts, Audience
from bot.chat import DeliveryTarget
from bot.outbox.kinds import alert
from bot.store.base import Store
from bot.store.records import Job, Member, Org


def alert_job(
    org: Org,
    target: DeliveryTarget,
    facts: AlertFacts,
    *,
    now: float,
    target_name: str = "",
    seq: int = 0,
) -> Job:
    """An "alert" job: the worker renders `facts` for the target's audience (a channel gets
    the candidate's name only; only that much is stored) when it delivers, and uses
    `booking_id` to update the message it posted for the same booking earlier. `seq` is the
    booking version the event produced: a job older than what a message shows leaves it be."""
    audience: Audience = "channel" if target.kind == "channel" else "dm"
    payload = alert.Alert(
        target=target, facts=facts.for_audience(audience), seq=seq, target_name=target_name
    )
    return alert.KIND.job(org.org_id, payload, now=now)


def facts_for(note: Notification, resolution: Resolution, recruiter: Member | None) -> AlertFacts:
    candidate = resolution.candidate
    booking = resolution.booking
    timeline = resolution.timeline
    return AlertFacts(
        kind=resolution.kind,
        booking_id=note.booking_id,
        candidate_id=candidate.candidate_id if candidate else None,
        candidate_name=(candidate.name if candidate else "")
        or next((r.name for r in note.recipients if r.name), None)
        or "",
        candidate_email=candidate.email if candidate else None,
        candidate_phone=note.phone,
        notes=note.notes,
        recruiter_id=resolution.recruiter_id,
        recruiter_name=(recruiter.display_name or recruiter.name or "") if recruiter else "",
        summary=note.summary,
        start=timeline.start,
        end=timeline.end,
        zone=timeline.zone,
        previous_start=resolution.previous_start,
        previous_end=resolution.previous_end,
        meeting_url=timeline.meeting_url,
        reschedule_url=note.reschedule_url or (booking.reschedule_url if booking else None),
        decline_url=note.decline_url or (booking.decline_url if booking else None),
        raw_type=note.raw_type,
    )


async def route_alert(
    store: Store,
    org: Org,
    note: Notification,
    resolution: Resolution,
    *,
    now: float,
    interviewers: list[Member] | None = None,
    members: list[Member] | None = None,
) -> list[Job]:
    """One job per matching channel route, plus a DM to the recruiter and to each other
    member of `interviewers` (the booking's panel, `bot.lifecycle.panel`), unless turned off.

    The recruiter is told even before connecting a calendar (as always); the rest of the
    panel are connected members matched by their Cronofy profile or email. `members`, the
    org's members when the caller has read them, spares reading the recruiter again."""
    if not resolution.alert:
        return []
    recruiter: Member | None = None
    if resolution.recruiter_id and members is not None:
        recruiter = next((m for m in members if m.user_id == resolution.recruiter_id), None)
    elif resolution.recruiter_id:
        recruiter = await store.get_member(org.org_id, resolution.recruiter_id)
    facts = facts_for(note, resolution, recruiter)
    jobs: list[Job] = []
    seen: set[str] = set()
    for route in org.routes:
        if resolution.kind not in route.kinds or route.conversation_id in seen:
            continue
        seen.add(route.conversation_id)
        target = DeliveryTarget(
            org.platform, org.org_id, "channel", conversation_id=route.conversation_id
        )
        jobs.append(
            alert_job(org, target, facts, now=now, target_name=route.name, seq=resolution.seq)
        )
    if resolution.recruiter_id and (recruiter is None or recruiter.dm_alerts):
        target = DeliveryTarget(org.platform, org.org_id, "dm", user_id=resolution.recruiter_id)
        jobs.append(alert_job(org, target, facts, now=now, seq=resolution.seq))
    for member in interviewers or []:
        if member.user_id == resolution.recruiter_id or not member.dm_alerts:
            continue
        target = DeliveryTarget(org.platform, org.org_id, "dm", user_id=member.user_id)
        jobs.append(alert_job(org, target, facts, now=now, seq=resolution.seq))
    return jobs
