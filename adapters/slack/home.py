"""The App Home tab: the member's connection and link, their next interviews, and for
admins the org's setup state and failed deliveries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.cronofy.connect import authorize_url_for
from bot.errors import SlotbotError
from bot.services import Services
from cards.model import (
    Actions,
    Button,
    Card,
    Divider,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Section,
    Strong,
    TimeValue,
)

log = logging.getLogger(__name__)

MAX_INTERVIEWS = 5
MAX_DEAD_LETTERS = 5


async def _connect_url(services: Services, org_id: str, user_id: str) -> str | None:
    """The recruiter's Cronofy connect link, when the org is set up for it."""
    try:
        return await authorize_url_for(services, org_id, user_id)
    except SlotbotError:
        return None


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def home_card(services: Services, org_id: str, user_id: str, *, is_admin: bool) -> Card:
    store = services.store
    member = await store.get_member(org_id, user_id)
    org = await store.get_org(org_id)
    blocks: list[Element] = [Header("Slotbot")]

    if member is not None and member.connected:
        who = member.email or member.name or "your calendar"
        blocks.append(Section(["✅ Calendar connected as ", Strong(who)]))
    else:
        blocks.append(Section("Your calendar is not connected yet."))
        url = None
        if org is not None and org.cronofy is not None:
            url = await _connect_url(services, org_id, user_id)
        if isinstance(url, str):
            blocks.append(
                Actions(
                    [Button("Connect your calendar", kind="open_url", url=url, style="primary")]
                )
            )
        elif org is None or org.cronofy is None:
            blocks.append(
                Footer("An admin needs to run /cronofy setup before calendars can be connected.")
            )
        else:
            blocks.append(Footer("Run /schedule connect to connect your calendar."))

    if member is not None and member.public_link:
        blocks.append(Section(["Your scheduling link: ", member.public_link]))
        blocks.append(
            Actions([Button("Share link", action_id="link.share", value=member.public_link)])
        )
    else:
        blocks.append(Footer("Set your scheduling link with /schedule link set <url>."))

    now_iso = datetime.fromtimestamp(services.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bookings = await store.list_bookings(org_id, recruiter_id=user_id, start_after=now_iso)
    blocks.append(Divider())
    blocks.append(Header("Your next interviews"))
    upcoming = [b for b in bookings if b.state in ("booked", "rescheduled")][:MAX_INTERVIEWS]
    if not upcoming:
        blocks.append(Section("No interviews booked."))
    facts: list[Fact] = []
    for booking in upcoming:
        start = _parse_time(booking.start)
        end = _parse_time(booking.end)
        label = "Interview"
        if booking.candidate_id:
            candidate = await store.get_candidate(org_id, booking.candidate_id)
            if candidate is not None:
                label = candidate.name or candidate.email
        if start is not None:
            facts.append(Fact(label, TimeValue(start, end=end, zone=booking.zone)))
        else:
            facts.append(Fact(label, booking.start or "time unknown"))
    if facts:
        blocks.append(Facts(facts))

    if is_admin:
        blocks.append(Divider())
        blocks.append(Header("Workspace setup"))
        if org is None or org.cronofy is None:
            blocks.append(Section("Cronofy is not set up. Run /cronofy setup."))
        else:
            public = services.settings.public_url
            setup_facts = [
                Fact("Data center", org.cronofy.data_center),
                Fact("Client ID", org.cronofy.client_id[:6] + "…"),
            ]
            if org.org_key:
                setup_facts.append(Fact("Push URL", f"{public}/cronofy/push/{org.org_key}"))
            routes = ", ".join(r.name or r.conversation_id for r in org.routes) or "none"
            setup_facts.append(Fact("Alert channels", routes))
            if org.last_callback_at:
                setup_facts.append(
                    Fact(
                        "Last callback",
                        TimeValue(datetime.fromtimestamp(org.last_callback_at, UTC)),
                    )
                )
            else:
                setup_facts.append(Fact("Last callback", "none yet"))
            blocks.append(Facts(setup_facts))
        dead = await store.list_dead_letters(org_id, limit=MAX_DEAD_LETTERS)
        if dead:
            blocks.append(Section(f"{len(dead)} failed deliveries (most recent):"))
            blocks.append(
                Facts(
                    [Fact(job.kind, job.dead_reason or job.last_error or "failed") for job in dead]
                )
            )
        else:
            blocks.append(Footer("No failed deliveries."))
    return Card(blocks=blocks, fallback="Slotbot home")
