"""Store records as the facts the cards take: timezone-aware datetimes, names instead of ids.

The cards themselves (`cards.*`) know nothing of the store; the command layer hands them
what this module makes of its records.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.outbox.jobs import job_target
from bot.store.records import AlertRoute, Booking, Candidate, Job, TimelineEntry
from bot.timeutil import parse_instant
from cards.admin import DeadLetterView, RouteView, dead_letter_target
from cards.candidates import CandidateView, TimelineView, UpcomingView


def _epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def candidate_view(candidate: Candidate, names: dict[str, str]) -> CandidateView:
    """`names` maps member ids to display names (ids are never shown)."""
    return CandidateView(
        email=candidate.email,
        name=candidate.name,
        recruiter_name=names.get(candidate.recruiter_id or "", ""),
        first_seen=_epoch(candidate.created_at) if candidate.created_at else None,
    )


def timeline_views(timeline: list[TimelineEntry], names: dict[str, str]) -> list[TimelineView]:
    return [
        TimelineView(
            kind=entry.kind,
            at=_epoch(entry.at),
            start=parse_instant(entry.start),
            end=parse_instant(entry.end),
            previous_start=parse_instant(entry.previous_start),
            recruiter_name=names.get(entry.recruiter_id or "", ""),
            meeting_url=entry.meeting_url,
            raw_type=entry.raw_type,
            note=entry.note,
            zone=entry.zone,
        )
        for entry in timeline
    ]


def upcoming_views(bookings: list[Booking], names: dict[str, str]) -> list[UpcomingView]:
    """`names` maps candidate ids to names; bookings without a readable start are left out."""
    items = []
    for booking in bookings:
        start = parse_instant(booking.start)
        if start is None:
            continue
        items.append(
            UpcomingView(
                candidate_name=names.get(booking.candidate_id or "", ""),
                start=start,
                end=parse_instant(booking.end),
                zone=booking.zone,
                meeting_url=booking.meeting_url,
                state=booking.state,
                candidate_id=booking.candidate_id,
            )
        )
    return items


def route_view(route: AlertRoute) -> RouteView:
    return RouteView(conversation_id=route.conversation_id, kinds=route.kinds, name=route.name)


def dead_letter_views(jobs: list[Job]) -> list[DeadLetterView]:
    return [
        DeadLetterView(
            job_id=job.job_id,
            kind=job.kind,
            failed_at=_epoch(job.created_at) if job.created_at else None,
            reason=job.dead_reason or job.last_error,
            target=_target_name(job),
        )
        for job in jobs
    ]


def epoch_time(value: float | None) -> datetime | None:
    return _epoch(value) if value else None


def _target_name(job: Job) -> str:
    target = job_target(job)
    if target is None:
        return ""
    return dead_letter_target(target.kind, target.conversation_id or "")
