"""The cards the Cronofy feature and the command layer show, built on the neutral card model.

Text here is plain: the platform renderers escape it, so a candidate's name cannot ping
anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.store.records import DATA_CENTERS, AlertRoute, Booking, Candidate, TimelineEntry
from cards.model import (
    Actions,
    Button,
    Card,
    Choice,
    ChoiceInput,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Inline,
    Link,
    Section,
    Strong,
    TextInput,
    TimeValue,
)

SHARE_ACTION = "link.share"
RESET_ACTION = "cronofy.reset.confirm"
CANCEL_ACTION = "cancel"


def notice(title: str, text: str, *, status: str | None = None) -> Card:
    return Card(
        blocks=[Header(title), Section(text)],
        status="attention" if status == "attention" else None,
        fallback=f"{title}: {text}",
    )


def error(text: str) -> Card:
    return notice("Slotbot", text, status="attention")


def usage(usage_line: str, problem: str) -> Card:
    return Card(
        blocks=[Section(problem), Section(["Usage: ", Strong(usage_line)])],
        fallback=f"{problem} Usage: {usage_line}",
    )


def confirm(question: str, action_id: str, value: str) -> Card:
    return Card(
        blocks=[
            Section(question),
            Actions(
                [
                    Button("Yes, do it", action_id=action_id, value=value, style="danger"),
                    Button("Cancel", action_id=CANCEL_ACTION, value=action_id),
                ]
            ),
        ],
        fallback=question,
    )


def connect_prompt(authorize_url: str, why: str = "") -> Card:
    text = why or "Connect your calendar to Cronofy so Slotbot can make scheduling links for you."
    return Card(
        blocks=[
            Header("Connect your calendar"),
            Section(text),
            Actions(
                [Button("Connect calendar", kind="open_url", url=authorize_url, style="primary")]
            ),
            Footer("The link works once and expires in 10 minutes."),
        ],
        fallback="Connect your calendar: " + authorize_url,
    )


def calendar_connected(shown: str) -> Card:
    return Card(
        blocks=[
            Header("Calendar connected"),
            Section(["Calendar connected as ", Strong(shown), "."]),
            Section(
                "Next: `/schedule link set <your Cronofy public link>`, then `/schedule link`."
            ),
        ],
        status="good",
        fallback=f"Calendar connected as {shown}",
    )


def reconnect_prompt(authorize_url: str | None, reason: str = "") -> Card:
    blocks: list[Element] = [
        Header("Please reconnect your calendar"),
        Section(
            "Cronofy no longer accepts Slotbot's connection to your calendar, so scheduling "
            "links that need it will not work until you reconnect."
        ),
    ]
    if authorize_url:
        blocks.append(
            Actions([Button("Reconnect", kind="open_url", url=authorize_url, style="primary")])
        )
        blocks.append(
            Footer("The link expires in 10 minutes; `/schedule connect` makes a new one.")
        )
    else:
        blocks.append(
            Section("Ask an admin to run `/cronofy setup`, then run `/schedule connect`.")
        )
    return Card(blocks=blocks, status="warning", fallback="Please reconnect your calendar")


def your_link(
    url: str, *, candidate_name: str | None = None, candidate_email: str | None = None
) -> Card:
    if candidate_email:
        who = candidate_name or candidate_email
        heading: list[Inline] = ["Scheduling link for ", Strong(who), ":"]
    else:
        heading = ["Your scheduling link:"]
    return Card(
        blocks=[
            Section(heading),
            Section(Link(url, url)),
            Actions(
                [
                    Button("Share here", action_id=SHARE_ACTION, value=url, style="primary"),
                    Button("Open", kind="open_url", url=url),
                ]
            ),
        ],
        fallback=f"Your scheduling link: {url}",
    )


def link_shared(url: str, recruiter_name: str) -> Card:
    who = recruiter_name or "a recruiter"
    return Card(
        blocks=[
            Section([f"Book a time with {who}: ", Link(url, url)]),
            Actions([Button("Book a time", kind="open_url", url=url, style="primary")]),
        ],
        fallback=f"Book a time with {who}: {url}",
    )


def link_saved(url: str) -> Card:
    return Card(
        blocks=[Section(["Saved your scheduling link: ", Link(url, url)])],
        status="good",
        fallback=f"Saved your scheduling link: {url}",
    )


def set_link_prompt(example: str) -> Card:
    return Card(
        blocks=[
            Header("Set your scheduling link"),
            Section(
                "Slotbot does not know your Cronofy public link yet. In Cronofy open "
                "Preferences → Public Link, copy it, then run:"
            ),
            Section(Strong(f"/schedule link set {example}")),
        ],
        fallback=f"Set your scheduling link: /schedule link set {example}",
    )


def setup_form(data_center: str | None = None, client_id: str | None = None) -> Card:
    return Card(
        blocks=[
            Header("Cronofy set-up"),
            Section(
                "Enter the keys of your Cronofy application (Developer → your app → "
                "Credentials) and the data center your Cronofy account lives in."
            ),
            TextInput("client_id", "Client ID", value=client_id or ""),
            TextInput("client_secret", "Client Secret", secret=True),
            ChoiceInput(
                "data_center",
                "Data center",
                [Choice(dc, dc.upper()) for dc in DATA_CENTERS],
                value=data_center or "us",
            ),
            Actions(
                [Button("Save", action_id="cronofy.setup.submit", submit=True, style="primary")]
            ),
        ],
        fallback="Cronofy set-up",
    )


def setup_result(
    push_url: str, data_center: str, *, became_admin: bool, checklist: Sequence[str]
) -> Card:
    blocks: list[Element] = [
        Header("Cronofy keys saved"),
        Section(["Cronofy recognised the keys (data center ", Strong(data_center.upper()), ")."]),
        Facts([Fact("Universal Push Notification URL", push_url)]),
        Section(Strong("Still to do in Cronofy:")),
    ]
    blocks.extend(Section(f"{n}. {step}") for n, step in enumerate(checklist, start=1))
    if became_admin:
        blocks.append(
            Footer("You are now this workspace's Slotbot admin (`/cronofy admins` to add others).")
        )
    return Card(blocks=blocks, status="good", fallback=f"Cronofy keys saved. Push URL: {push_url}")


def keys_rejected(reason: str) -> Card:
    return notice("Cronofy keys not saved", reason, status="attention")


def org_status(
    *,
    configured: bool,
    client_id: str,
    data_center: str,
    push_url: str,
    last_callback: datetime | None,
    members: int,
    connected: int,
    admins: list[str],
    routes: list[AlertRoute],
    dead_letters: list[tuple[str, str]],
) -> Card:
    if not configured:
        return notice("Cronofy status", "Cronofy is not set up: run `/cronofy setup`.")
    last: Inline = TimeValue(last_callback) if last_callback else "never"
    facts = [
        Fact("Client ID", client_id),
        Fact("Client Secret", "saved (hidden)"),
        Fact("Data center", data_center.upper()),
        Fact("Push URL", push_url),
        Fact("Last callback", last),
        Fact("Recruiters connected", f"{connected} of {members}"),
        Fact("Admins", ", ".join(admins) or "none"),
        Fact(
            "Alerts",
            "; ".join(f"{r.name or r.conversation_id}: {', '.join(r.kinds)}" for r in routes)
            or "no channel (`/cronofy alerts here`)",
        ),
        Fact("Failed deliveries", str(len(dead_letters))),
    ]
    blocks: list[Element] = [Header("Cronofy status"), Facts(facts)]
    for job_id, reason in dead_letters[:5]:
        blocks.append(Section(f"• {job_id[:8]}: {reason[:200]}", emphasis="subtle"))
    if dead_letters:
        blocks.append(Footer("Replay with `python -m bot deadletters replay`."))
    return Card(blocks=blocks, fallback="Cronofy status")


def member_status(
    *, connected: bool, email: str | None, public_link: str | None, dm_alerts: bool, org_ready: bool
) -> Card:
    facts = [
        Fact("Cronofy set up", "yes" if org_ready else "no (an admin runs `/cronofy setup`)"),
        Fact(
            "Calendar", f"connected as {email or 'your account'}" if connected else "not connected"
        ),
        Fact("Scheduling link", public_link or "not set (`/schedule link set <url>`)"),
        Fact("Direct-message alerts", "on" if dm_alerts else "off"),
    ]
    return Card(
        blocks=[Header("Your Slotbot status"), Facts(facts)], fallback="Your Slotbot status"
    )


def candidate_profile(candidate: Candidate, timeline: list[TimelineEntry]) -> Card:
    blocks: list[Element] = [
        Header(candidate.name or candidate.email),
        Facts([Fact("Email", candidate.email)]),
    ]
    if not timeline:
        blocks.append(Section("Nothing on the timeline yet."))
    for entry in timeline[-20:]:
        line: list[Inline] = [Strong(entry.kind.replace("_", " ")), " "]
        start = _parse_time(entry.start)
        if start is not None:
            line.extend(["for ", TimeValue(start, zone=entry.zone)])
        else:
            at = datetime.fromtimestamp(entry.at).astimezone()
            line.extend(["on ", TimeValue(at, show="date")])
        if entry.note:
            line.append(f" — {entry.note}")
        blocks.append(Section(line))
    return Card(blocks=blocks, fallback=f"Candidate {candidate.email}")


def upcoming(bookings: list[Booking], names: dict[str, str]) -> Card:
    if not bookings:
        return notice("Upcoming interviews", "No upcoming booked interviews.")
    blocks: list[Element] = [Header("Upcoming interviews")]
    for booking in bookings[:25]:
        start = _parse_time(booking.start)
        who = names.get(booking.candidate_id or "", "a candidate")
        line: list[Inline] = [Strong(who), " "]
        line.append(
            TimeValue(start, zone=booking.zone) if start else (booking.start or "time unknown")
        )
        if booking.state != "booked":
            line.append(f" ({booking.state})")
        blocks.append(Section(line))
    return Card(blocks=blocks, fallback="Upcoming interviews")


def help_card() -> Card:
    lines = [
        ("/schedule link", "your scheduling link, privately, with a Share button"),
        ("/schedule link share", "post your link here for everyone"),
        ("/schedule link set <url>", "save your Cronofy public link"),
        ("/schedule link for <email> [name]", "a link tied to that candidate"),
        ("/schedule connect · disconnect · status", "connect your calendar; revoke; your state"),
        ("/schedule candidate <email>", "a candidate's profile and timeline"),
        ("/schedule upcoming", "your upcoming booked interviews"),
        ("/schedule alerts on|off", "your direct-message alerts"),
        ("/cronofy setup", "admin: Cronofy keys and data center"),
        ("/cronofy status", "admin: keys, push URL, last callback, failed deliveries"),
        (
            "/cronofy alerts here|<#channel> [kinds] · alerts off",
            "admin: route alerts to a channel",
        ),
        ("/cronofy admins [add|remove <user>]", "admin: who may run /cronofy"),
        ("/cronofy reset", "admin: remove the Cronofy keys"),
    ]
    return Card(
        blocks=[Header("Slotbot commands"), Facts([Fact(cmd, what) for cmd, what in lines])],
        fallback="Slotbot commands",
    )


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
