"""Scheduling links: the recruiter's Cronofy public link, and links tied to one candidate.

No Cronofy API returns a user's public link, so the recruiter sets it once. A link for a
candidate carries `correlation_id` (opaque; a TrackedLink maps it to org + recruiter +
candidate), which Cronofy echoes back in its callbacks, and `utm_source` (slack|teams).
Without a public link, a connected recruiter gets a Real-Time Scheduling link instead,
whose event id is the correlation id.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.chat import Actor
from bot.cronofy.client import CronofyKeys, public_app_host
from bot.cronofy.connect import NotConnected, NotSetUp, authorize_url_for, call_as_member
from bot.cronofy.setup import cronofy_client
from bot.cronofy.urls import booked_url, push_url
from bot.errors import CommandError
from bot.runtime import Services
from bot.store.records import Candidate, Member, TimelineEntry, TrackedLink
from cards import scheduling

RTS_MINUTES = 30
RTS_WORKING_DAYS = 10
WORKDAY_START = time(9, 0)
WORKDAY_END = time(17, 0)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# what a Share button carries: which of the presser's links to post, never the link itself
SHARE_OWN_LINK = "own"
SHARE_TRACKED_PREFIX = "tracked:"
MAX_NAME = 100


class NeedsPublicLink(CommandError):
    """The recruiter has neither a public link nor a connection to make one."""

    def __init__(self, example: str) -> None:
        super().__init__(scheduling.SET_LINK_FIRST)
        self.example = example


def example_link(data_center: str) -> str:
    return f"https://{public_app_host(data_center)}/pls/XXXXXXXX"


def validate_public_link(url: str, data_center: str) -> str:
    """The link, normalised; CommandError with the expected form for anything else."""
    expected = example_link(data_center)
    problem = CommandError(scheduling.not_a_public_link(data_center, expected))
    if len(url) > 300:
        raise problem
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or parts.username or parts.password or parts.port:
        raise problem
    if (parts.hostname or "") != public_app_host(data_center) or parts.query or parts.fragment:
        raise problem
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) != 2 or segments[0] != "pls" or not _TOKEN.fullmatch(segments[1]):
        raise problem
    return f"https://{public_app_host(data_center)}/pls/{segments[1]}"


def with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def new_correlation_id() -> str:
    # opaque, letters and digits only, far below Cronofy's 128-character limit
    return "sb" + secrets.token_hex(16)


def working_day_periods(
    now: datetime, zone: str | None, days: int = RTS_WORKING_DAYS
) -> list[dict[str, str]]:
    """09:00-17:00 on the next `days` working days (Mon-Fri) in the recruiter's zone, from
    now on; UTC ISO times."""
    try:
        tz = ZoneInfo(zone) if zone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local_now = now.astimezone(tz)
    day: date = local_now.date()
    periods: list[dict[str, str]] = []
    while len(periods) < days:
        if day.weekday() < 5:
            start = datetime.combine(day, WORKDAY_START, tz)
            end = datetime.combine(day, WORKDAY_END, tz)
            start = max(start, local_now + timedelta(minutes=15))
            if end - start >= timedelta(minutes=RTS_MINUTES):
                periods.append({"start": _utc(start), "end": _utc(end)})
        day += timedelta(days=1)
    return periods


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CandidateLink:
    url: str
    candidate: Candidate
    correlation_id: str
    real_time: bool


async def _center_and_member(services: Services, actor: Actor) -> tuple[str, Member | None]:
    """The org's data center (NotSetUp without Cronofy set up) and the member, read
    together: one trip to the store."""
    org, member = await asyncio.gather(
        services.store.get_org(actor.org_id),
        services.store.get_member(actor.org_id, actor.user_id),
    )
    if org is None or org.cronofy is None:
        raise NotSetUp()
    return org.cronofy.data_center, member


async def set_public_link(services: Services, actor: Actor, url: str) -> str:
    center, member = await _center_and_member(services, actor)
    link = validate_public_link(url, center)
    if member is None:
        member = Member(org_id=actor.org_id, user_id=actor.user_id, display_name=actor.display_name)
    member.public_link = link
    member.updated_at = services.clock()
    await services.store.put_member(member)
    return link


async def own_link(services: Services, actor: Actor) -> str:
    """The recruiter's public link; NotConnected / NeedsPublicLink say what is missing."""
    center, member = await _center_and_member(services, actor)
    if member is not None and member.public_link:
        return member.public_link
    if member is None or not member.connected:
        raise NotConnected(await authorize_url_for(services, actor.org_id, actor.user_id))
    raise NeedsPublicLink(example_link(center))


async def link_for_candidate(
    services: Services, actor: Actor, email: str, name: str = ""
) -> CandidateLink:
    """Find or create the candidate, and hand out a link that Cronofy's callbacks can be
    matched back with. Nothing is stored when no link can be made."""
    _center, member = await _center_and_member(services, actor)
    email = email.strip().lower()
    name = name.strip()[:MAX_NAME]
    correlation_id = new_correlation_id()
    tracking = {"correlation_id": correlation_id, "utm_source": actor.platform}
    real_time = False
    if member is not None and member.public_link:
        url = with_params(member.public_link, tracking)
    elif member is not None and member.connected:
        url = with_params(
            await _real_time_link(services, actor, correlation_id, name or email), tracking
        )
        real_time = True
    else:
        raise NotConnected(await authorize_url_for(services, actor.org_id, actor.user_id))

    now = services.clock()
    candidate = await services.store.find_candidate_by_email(actor.org_id, email)
    if candidate is None:
        candidate = Candidate(
            org_id=actor.org_id,
            candidate_id="cand_" + secrets.token_urlsafe(12),
            email=email,
            name=name,
            recruiter_id=actor.user_id,
            created_at=now,
        )
    else:
        candidate.recruiter_id = actor.user_id
        if name:
            candidate.name = name
    await services.store.put_candidate(candidate)
    await services.store.put_tracked_link(
        TrackedLink(
            correlation_id=correlation_id,
            org_id=actor.org_id,
            member_id=actor.user_id,
            candidate_id=candidate.candidate_id,
            created_at=now,
            url=url,
        )
    )
    await services.store.append_timeline(
        actor.org_id,
        candidate.candidate_id,
        TimelineEntry(
            kind="link_sent",
            at=now,
            recruiter_id=actor.user_id,
            note=scheduling.NOTE_REAL_TIME_LINK if real_time else scheduling.NOTE_PUBLIC_LINK,
        ),
    )
    return CandidateLink(url, candidate, correlation_id, real_time)


def share_value_for(correlation_id: str) -> str:
    return SHARE_TRACKED_PREFIX + correlation_id


async def shareable_link(services: Services, actor: Actor, value: str) -> str:
    """The exact link a Share button may post for `actor`.

    `value` names the link: `own` (the actor's public link) or `tracked:<correlation_id>`
    (a link Slotbot made for one of the actor's candidates). Buttons sent before this form
    carried the URL itself; such a value is accepted only when it is exactly the link
    Slotbot would post. The link returned is always rebuilt from the store.
    """
    member = await services.store.get_member(actor.org_id, actor.user_id)
    if member is None:
        raise CommandError(scheduling.NOT_YOUR_LINK)
    if value == SHARE_OWN_LINK:
        if not member.public_link:
            raise CommandError(scheduling.NO_LINK_TO_SHARE)
        return member.public_link
    legacy_url = ""
    if value.startswith(SHARE_TRACKED_PREFIX):
        correlation_id = value[len(SHARE_TRACKED_PREFIX) :]
    else:
        legacy_url = value
        if member.public_link and value == member.public_link:
            return member.public_link
        ids = parse_qs(urlsplit(value).query).get("correlation_id", [])
        correlation_id = ids[0] if len(ids) == 1 else ""
    tracked = (
        await services.store.get_tracked_link(correlation_id)
        if _TOKEN.fullmatch(correlation_id)
        else None
    )
    if tracked is None or tracked.org_id != actor.org_id or tracked.member_id != actor.user_id:
        raise CommandError(scheduling.NOT_YOUR_LINK)
    url = tracked.url
    if not url and member.public_link:
        # links made before the link itself was stored: rebuilt the way they were made
        url = with_params(
            member.public_link, {"correlation_id": correlation_id, "utm_source": actor.platform}
        )
    if not url or (legacy_url and legacy_url != url):
        raise CommandError(scheduling.NOT_YOUR_LINK)
    return url


async def _real_time_link(services: Services, actor: Actor, correlation_id: str, who: str) -> str:
    org = await services.store.get_org(actor.org_id)
    if org is None or not org.org_key:
        raise NotSetUp()
    callback = push_url(services.settings, org.org_key)
    client = cronofy_client(services)

    async def create(keys: CronofyKeys, member: Member, token: str) -> str:
        info = await client.userinfo(keys, token)
        zone = member.zone or info.zone or "Etc/UTC"
        return await client.real_time_scheduling(
            keys,
            sub=info.sub,
            calendar_id=info.calendar_id,
            event_id=correlation_id,
            summary=f"Conversation with {who}"[:200],
            zone=zone,
            minutes=RTS_MINUTES,
            periods=working_day_periods(datetime.fromtimestamp(services.clock(), UTC), zone),
            callback_url=callback,
            redirect_uri=booked_url(services.settings),
        )

    return await call_as_member(services, actor.org_id, actor.user_id, create, client=client)
