"""A recruiter's own cards: connecting the calendar, their scheduling link, their status.

Also the words of the connection and link problems the Cronofy feature raises.
"""

from __future__ import annotations

from cards import actions
from cards._shared import name as _name
from cards.errors import notice
from cards.model import (
    Actions,
    Button,
    Card,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Link,
    Section,
    Strong,
)

# --- connecting a calendar ----------------------------------------------------------------


def connect_prompt(authorize_url: str) -> Card:
    return Card(
        blocks=[
            Header("Connect your calendar"),
            Section(
                "Slotbot needs your Cronofy calendar connection to make scheduling links and to "
                "tell you about your bookings."
            ),
            Actions(
                [
                    Button(
                        "Connect calendar",
                        kind="open_url",
                        url=authorize_url,
                        action_id=actions.CONNECT,
                        style="primary",
                    )
                ]
            ),
            Footer(
                "The button works once and expires in 10 minutes. Run /schedule connect for a new one."
            ),
        ],
        fallback="Connect your calendar to use Slotbot",
    )


def reconnect_prompt(authorize_url: str | None) -> Card:
    """Sent when Cronofy stops accepting a member's connection; without a connect link
    (the org's keys are gone) it says how to get one."""
    if not authorize_url:
        return Card(
            blocks=[
                Header("Your calendar connection stopped working"),
                Section(
                    "Cronofy no longer accepts Slotbot's access to your calendar. Ask an admin to "
                    "run /cronofy setup, then reconnect with /schedule connect."
                ),
            ],
            status="warning",
            fallback="Your calendar connection stopped working",
        )
    return Card(
        blocks=[
            Header("Your calendar connection stopped working"),
            Section(
                "Cronofy no longer accepts Slotbot's access to your calendar (it may have been "
                "revoked or expired). Reconnect to keep your links and alerts working."
            ),
            Actions(
                [
                    Button(
                        "Reconnect calendar",
                        kind="open_url",
                        url=authorize_url,
                        action_id=actions.CONNECT,
                        style="primary",
                    )
                ]
            ),
            Footer("The button works once and expires in 10 minutes."),
        ],
        status="warning",
        fallback="Your calendar connection stopped working: reconnect it",
    )


def calendar_connected(email: str, name: str | None = None) -> Card:
    who = _name(name, "") or _name(email, "your account")
    return Card(
        blocks=[
            Header("Calendar connected"),
            Section(["Slotbot is connected to the Cronofy calendar of ", Strong(who), "."]),
            Facts([Fact("Account", _name(email, "unknown"))]),
            Section(
                "Next: save your public link with /schedule link set <url>, then share it with /schedule link."
            ),
        ],
        status="good",
        fallback="Calendar connected",
    )


def disconnected() -> Card:
    return Card(
        blocks=[
            Header("Calendar disconnected"),
            Section(
                "Slotbot has revoked its access to your Cronofy calendar and forgotten your tokens. "
                "Your saved link and your candidates' history stay until an admin removes them."
            ),
            Footer("Connect again any time with /schedule connect."),
        ],
        fallback="Calendar disconnected",
    )


def not_connected() -> Card:
    """/schedule disconnect when there was nothing to disconnect."""
    return notice("Not connected", "Your calendar was not connected.")


def account_label(email: str | None, name: str | None) -> str:
    """How a connected Cronofy account is named to its owner."""
    return email or name or "your Cronofy account"


# --- scheduling links ---------------------------------------------------------------------


def your_link(
    url: str,
    *,
    candidate_name: str | None = None,
    candidate_email: str | None = None,
    share_value: str | None = None,
) -> Card:
    """A recruiter's link, shown only to them, with Share (post it here) and Open.

    `share_value` is what the Share button sends back: a name for the link that the command
    layer looks up (the link itself, when not given)."""
    blocks: list[Element] = []
    if candidate_name or candidate_email:
        who = _name(candidate_name, "") or _name(candidate_email, "this candidate")
        blocks.append(Header(f"Scheduling link for {who}"))
        details = [Fact("Candidate", _name(candidate_name, "not given"))]
        if candidate_email:
            details.append(Fact("Email", _name(candidate_email, "")))
        blocks += [
            Section(
                "This link is tracked: when the candidate books through it, the booking lands on their profile."
            ),
            Facts(details),
        ]
    else:
        blocks += [
            Header("Your scheduling link"),
            Section("Candidates pick a time that suits both of you."),
        ]
    blocks += [
        Link(url, url),
        Actions(
            [
                Button(
                    "Share",
                    action_id=actions.SHARE_LINK,
                    value=share_value if share_value is not None else url,
                    style="primary",
                ),
                Button("Open", kind="open_url", url=url, action_id=actions.OPEN_LINK),
            ]
        ),
        Footer("Only you can see this. Share posts the link to this conversation."),
    ]
    return Card(blocks=blocks, fallback="Your scheduling link")


def link_shared(url: str, recruiter_name: str) -> Card:
    who = _name(recruiter_name, "your recruiter")
    return Card(
        blocks=[
            Header(f"Book a time with {who}"),
            Section("Pick any free slot; you get a calendar invitation straight away."),
            Link(url, url),
            Actions(
                [
                    Button(
                        "Pick a time",
                        kind="open_url",
                        url=url,
                        action_id=actions.OPEN_LINK,
                        style="primary",
                    )
                ]
            ),
        ],
        fallback=f"Book a time with {who}",
    )


def link_set(url: str) -> Card:
    return Card(
        blocks=[
            Header("Scheduling link saved"),
            Link(url, url),
            Section("Get it any time with /schedule link; share it with /schedule link share."),
        ],
        status="good",
        fallback="Scheduling link saved",
    )


def set_link_prompt(example: str) -> Card:
    return Card(
        blocks=[
            Header("Save your scheduling link first"),
            Section(
                "Cronofy does not tell Slotbot your public link, so save it once: in Cronofy "
                "Scheduler open Preferences → Public Link, copy it, and run"
            ),
            Section(Strong(f"/schedule link set {example}")),
        ],
        fallback="Save your scheduling link with /schedule link set <url>",
    )


# --- the member's status ------------------------------------------------------------------


def status_for_member(
    *,
    connected: bool,
    email: str | None = None,
    name: str | None = None,
    link: str | None = None,
    dm_alerts: bool = True,
    zone: str | None = None,
    reminder_minutes: int | None = 15,
) -> Card:
    facts = [
        Fact(
            "Calendar",
            f"connected as {_name(name, '') or _name(email, 'you')}"
            if connected
            else "not connected",
        ),
    ]
    if connected and email and name:
        facts.append(Fact("Account", _name(email, "")))
    facts.append(
        Fact("Scheduling link", Link(link, link) if link else "not set (/schedule link set <url>)")
    )
    facts.append(Fact("Direct-message alerts", "on" if dm_alerts else "off"))
    facts.append(
        Fact(
            "Interview reminders",
            f"{reminder_minutes} min before" if reminder_minutes is not None else "off",
        )
    )
    if zone:
        facts.append(Fact("Time zone", _name(zone, "")))
    next_step = (
        "Run /schedule connect to connect your calendar."
        if not connected
        else "Save your link with /schedule link set <url>."
        if not link
        else "All set: share your link with /schedule link."
    )
    return Card(
        blocks=[Header("Your Slotbot status"), Facts(facts), Section(next_step)],
        status="good" if connected and link else None,
        fallback="Your Slotbot status",
    )


def dm_alerts_set(on: bool) -> Card:
    text = (
        "You will get a direct message when your candidates book, reschedule, cancel or decline."
        if on
        else "You will no longer get direct messages about your bookings. Channel alerts are not affected."
    )
    return notice("Direct-message alerts on" if on else "Direct-message alerts off", text)


# --- what connection and link problems say ------------------------------------------------

NOT_SET_UP = "Cronofy is not set up for this workspace yet: an admin needs to run /cronofy setup."
KEYS_UNREADABLE = (
    "The stored Cronofy keys can no longer be read: an admin needs to run /cronofy setup again."
)
CONNECT_FIRST = "Connect your calendar first with /schedule connect."
CALENDAR_NOT_CONNECTED = "Your calendar is not connected."
CONNECTION_UNREADABLE = "Your calendar connection can no longer be read."
CONNECTION_EXPIRED = "Your calendar connection has expired."
CONNECTION_NOT_ACCEPTED = "Cronofy no longer accepts your calendar connection: please reconnect."
CONNECTION_REFUSED = "Cronofy refused your calendar connection."

SET_LINK_FIRST = "Set your scheduling link first."
NOT_YOUR_LINK = "Only the recruiter a scheduling link belongs to can share it."
NO_LINK_TO_SHARE = "You have no scheduling link to share yet: set it with /schedule link set <url>."

# how a link sent to a candidate is noted on their timeline
NOTE_REAL_TIME_LINK = "real-time scheduling link"
NOTE_PUBLIC_LINK = "public link"


def not_a_public_link(data_center: str, expected: str) -> str:
    return (
        f"That is not a Cronofy public link for your data center ({data_center.upper()}). "
        f"Expected: {expected}"
    )
