"""The cards the Cronofy feature and the command layer show.

Most come straight from `cards.library`; this module turns store records into the
library's views (timezone-aware datetimes, names instead of ids) and adds the few small
cards the library does not have.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.outbox.jobs import job_target
from bot.store.records import AlertRoute, Booking, Candidate, Job, TimelineEntry
from bot.timeutil import parse_instant as _iso
from cards import library
from cards.library import (
    CandidateView,
    DeadLetterView,
    TimelineView,
    UpcomingView,
    admins_list,
    alerts_off,
    alerts_routed,
    calendar_connected,
    confirm,
    connect_prompt,
    disconnected,
    dm_alerts_set,
    error_cronofy_unreachable,
    error_keys_rejected,
    error_not_admin,
    error_not_connected,
    error_setup_required,
    error_usage,
    help_card,
    link_set,
    link_shared,
    notice,
    set_link_prompt,
    setup_form,
    setup_result,
    status_for_member,
    your_link,
)
from cards.model import Card, Header, Section

SHARE_ACTION = library.ACTION_SHARE_LINK
CANDIDATE_PROFILE_ACTION = library.ACTION_CANDIDATE_PROFILE
RESET_ACTION = "cronofy.reset.confirm"
CANCEL_ACTIONS = (library.ACTION_CONFIRM_CANCEL, "cancel")
SETUP_OPEN_ACTIONS = (library.ACTION_OPEN_SETUP, "cronofy.setup.open")

__all__ = [
    "CANCEL_ACTIONS",
    "CANDIDATE_PROFILE_ACTION",
    "RESET_ACTION",
    "SETUP_OPEN_ACTIONS",
    "SHARE_ACTION",
    "admins_list",
    "alerts_off",
    "alerts_routed",
    "calendar_connected",
    "candidate_profile",
    "confirm",
    "connect_prompt",
    "disconnected",
    "dm_alerts_set",
    "error",
    "error_cronofy_unreachable",
    "error_keys_rejected",
    "error_not_admin",
    "error_not_connected",
    "error_setup_required",
    "error_usage",
    "help_card",
    "link_set",
    "link_shared",
    "notice",
    "org_status",
    "reconnect_prompt",
    "set_link_prompt",
    "setup_form",
    "setup_result",
    "status_for_member",
    "upcoming",
    "your_link",
]


def error(text: str, title: str = "That did not work") -> Card:
    """A short problem the person can act on (the message says what to do)."""
    return Card(
        blocks=[Header(title), Section(text)], status="attention", fallback=f"{title}: {text}"
    )


def reconnect_prompt(authorize_url: str | None) -> Card:
    if authorize_url:
        return library.reconnect_prompt(authorize_url)
    return Card(
        blocks=[
            Header("Your calendar connection stopped working"),
            Section(
                "Cronofy no longer accepts Slotbot's access to your calendar. Ask an admin to run "
                "/cronofy setup, then reconnect with /schedule connect."
            ),
        ],
        status="warning",
        fallback="Your calendar connection stopped working",
    )


def _epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def candidate_profile(
    candidate: Candidate, timeline: list[TimelineEntry], names: dict[str, str]
) -> Card:
    """`names` maps member ids to display names (ids are never shown)."""
    view = CandidateView(
        email=candidate.email,
        name=candidate.name,
        recruiter_name=names.get(candidate.recruiter_id or "", ""),
        first_seen=_epoch(candidate.created_at) if candidate.created_at else None,
    )
    entries = [
        TimelineView(
            kind=entry.kind,
            at=_epoch(entry.at),
            start=_iso(entry.start),
            end=_iso(entry.end),
            previous_start=_iso(entry.previous_start),
            recruiter_name=names.get(entry.recruiter_id or "", ""),
            meeting_url=entry.meeting_url,
            raw_type=entry.raw_type,
            note=entry.note,
            zone=entry.zone,
        )
        for entry in timeline
    ]
    return library.candidate_profile(view, entries)


def upcoming(bookings: list[Booking], names: dict[str, str]) -> Card:
    items = []
    for booking in bookings:
        start = _iso(booking.start)
        if start is None:
            continue
        items.append(
            UpcomingView(
                candidate_name=names.get(booking.candidate_id or "", ""),
                start=start,
                end=_iso(booking.end),
                zone=booking.zone,
                meeting_url=booking.meeting_url,
                state=booking.state,
                candidate_id=booking.candidate_id,
            )
        )
    return library.upcoming(items)


def org_status(
    *,
    client_id: str,
    data_center: str,
    push_url: str,
    last_callback_at: float | None,
    counts: dict[str, int],
    admins: list[str],
    routes: list[AlertRoute],
    dead_letters: list[Job],
    installed: bool = True,
) -> Card:
    return library.org_status(
        configured=True,
        installed=installed,
        client_id=client_id,
        data_center=data_center,
        push_url=push_url,
        last_callback_at=_epoch(last_callback_at) if last_callback_at else None,
        counts=counts,
        admins=admins,
        routes=[f"{r.name or r.conversation_id} ({', '.join(r.kinds)})" for r in routes],
        dead_letters=[
            DeadLetterView(
                job_id=job.job_id,
                kind=job.kind,
                failed_at=_epoch(job.created_at) if job.created_at else None,
                reason=job.dead_reason or job.last_error,
                target=_target_name(job),
            )
            for job in dead_letters
        ],
    )


def org_not_configured() -> Card:
    return library.org_status(configured=False)


def _target_name(job: Job) -> str:
    target = job_target(job)
    if target is None:
        return ""
    if target.kind == "dm":
        return "a direct message"
    return target.conversation_id or ""
