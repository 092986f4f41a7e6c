"""Every message Slotbot shows, one function each, as neutral cards.

Callers pass plain values (names, URLs, timezone-aware datetimes); the renderers take care
of escaping, limits and time zones. Alerts come in two privacy variants: `channel` (the
candidate's name only) and `dm` (everything the recruiter needs, contact details included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cards._text import format_time, one_line, truncate
from cards.model import (
    Actions,
    Button,
    Card,
    Choice,
    ChoiceInput,
    Divider,
    Element,
    Fact,
    Facts,
    Footer,
    Header,
    Inline,
    Link,
    Section,
    Status,
    Strong,
    TextInput,
    TimeValue,
)

Audience = Literal["channel", "dm"]

# names are shortened here so headers and sentences stay readable; renderers enforce the
# platforms' hard limits on top of this
MAX_NAME = 80
MAX_REASON = 500
MAX_UPCOMING = 20
MAX_TIMELINE = 15
MAX_DEAD_LETTERS = 10

DATA_CENTER_NAMES: dict[str, str] = {
    "us": "United States",
    "uk": "United Kingdom",
    "de": "Germany",
    "au": "Australia",
    "ca": "Canada",
    "sg": "Singapore",
}

# action_ids handled by the command layer (bot.commands.run_action)
ACTION_SHARE_LINK = "link.share"
ACTION_SETUP_SUBMIT = "setup.submit"
ACTION_OPEN_SETUP = "setup.open"
ACTION_CANDIDATE_PROFILE = "candidate.profile"
ACTION_CONFIRM_CANCEL = "confirm.cancel"
ACTION_CONNECT = "connect.open"


@dataclass(frozen=True)
class AlertView:
    """What an alert shows about one booking event. Times must be timezone-aware."""

    candidate_name: str = ""
    candidate_email: str | None = None
    candidate_phone: str | None = None
    notes: str | None = None
    recruiter_name: str = ""
    start: datetime | None = None
    end: datetime | None = None
    zone: str | None = None  # the recruiter's zone, for plain text
    previous_start: datetime | None = None
    previous_end: datetime | None = None
    meeting_url: str | None = None
    profile_url: str | None = None
    candidate_id: str | None = None  # opaque; the profile button's value (never the email)
    reschedule_url: str | None = None
    decline_url: str | None = None
    booking_id: str | None = None
    raw_type: str | None = None  # notification.type as Cronofy sent it


@dataclass(frozen=True)
class CandidateView:
    email: str
    name: str = ""
    phone: str | None = None
    notes: str | None = None
    recruiter_name: str = ""
    first_seen: datetime | None = None
    zone: str | None = None


@dataclass(frozen=True)
class TimelineView:
    kind: str  # booked / rescheduled / cancelled / declined / other / link_sent / ...
    at: datetime  # when Slotbot recorded it
    start: datetime | None = None
    end: datetime | None = None
    previous_start: datetime | None = None
    recruiter_name: str = ""
    meeting_url: str | None = None
    raw_type: str | None = None
    note: str = ""
    zone: str | None = None


@dataclass(frozen=True)
class UpcomingView:
    candidate_name: str
    start: datetime
    end: datetime | None = None
    zone: str | None = None
    meeting_url: str | None = None
    state: str = "booked"  # booked / rescheduled
    candidate_id: str | None = None


@dataclass(frozen=True)
class DeadLetterView:
    job_id: str
    kind: str
    failed_at: datetime | None = None
    reason: str = ""
    target: str = ""  # "#hiring", "DM to Bob": a name, never a secret


def _name(value: str | None, fallback: str) -> str:
    text = one_line(value or "")
    return truncate(text, MAX_NAME) if text else fallback


def _when(start: datetime | None, end: datetime | None, zone: str | None) -> Inline:
    if start is None:
        return "time not given"
    return TimeValue(at=start, end=end, zone=zone)


def data_center_label(code: str) -> str:
    name = DATA_CENTER_NAMES.get(code)
    return f"{name} ({code})" if name else code


def cronofy_app_url(data_center: str) -> str:
    """Cronofy's web app for a data center (where the developer dashboard lives)."""
    return (
        "https://app.cronofy.com"
        if data_center in ("", "us")
        else f"https://app-{data_center}.cronofy.com"
    )


def mask(secret: str, *, keep: int = 4) -> str:
    """A key shown just enough to recognise it: `abcd…wxyz`; short values are fully hidden."""
    secret = one_line(secret)
    if len(secret) <= keep * 3:
        return "•" * 8
    return f"{secret[:keep]}…{secret[-keep:]}"


# --- help, links and connecting ----------------------------------------------------------


# how each platform's members reach Slotbot, said in their help only
_HELP_HINT = {
    "slack": "Type the commands in any channel or in Slotbot's App Home; replies only you "
    "should see stay private.",
    "teams": "Type the same words to the bot (the leading / is optional); in a channel, "
    "@mention Slotbot first.",
}


def help_card(platform: str = "") -> Card:
    """Every command; `platform` ("slack"/"teams") adds how its members type them."""
    recruiters = Facts(
        [
            Fact("/schedule link", "Your scheduling link, privately, with a Share button"),
            Fact("/schedule link share", "Post your link here for everyone"),
            Fact(
                "/schedule link set <url>",
                "Save your Cronofy public link (https://app.cronofy.com/pls/…)",
            ),
            Fact(
                "/schedule link for <email> [name]",
                "A link tied to one candidate; their bookings land on their profile",
            ),
            Fact(
                "/schedule connect · disconnect · status",
                "Connect your calendar, forget it, or see your state",
            ),
            Fact("/schedule candidate <email>", "A candidate's profile and timeline, privately"),
            Fact("/schedule upcoming", "Your upcoming interviews"),
            Fact("/schedule alerts on|off", "Direct-message alerts about your bookings"),
        ]
    )
    admins = Facts(
        [
            Fact("/cronofy setup", "Enter the Cronofy Client ID, Client Secret and data center"),
            Fact("/cronofy status", "Keys, push URL, last callback and failed deliveries"),
            Fact(
                "/cronofy alerts here [kinds]",
                "Send booked / rescheduled / cancelled / declined / other alerts to this channel",
            ),
            Fact("/cronofy alerts off", "Stop alerts in this channel"),
            Fact("/cronofy admins [add|remove <user>]", "Who may run /cronofy"),
        ]
    )
    return Card(
        blocks=[
            Header("Slotbot: interview scheduling with Cronofy"),
            Section(
                "Share your scheduling link with candidates; when they book, reschedule, cancel or "
                "decline, the hiring team hears about it here."
            ),
            Section(Strong("For recruiters")),
            recruiters,
            Section(Strong("For admins")),
            admins,
            *([Footer(_HELP_HINT[platform])] if platform in _HELP_HINT else []),
        ],
        fallback="Slotbot help: /schedule link, /schedule connect, /cronofy setup and more",
    )


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
                        action_id=ACTION_CONNECT,
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


def reconnect_prompt(authorize_url: str) -> Card:
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
                        action_id=ACTION_CONNECT,
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
                    action_id=ACTION_SHARE_LINK,
                    value=share_value if share_value is not None else url,
                    style="primary",
                ),
                Button("Open", kind="open_url", url=url, action_id="link.open"),
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
                        action_id="link.open",
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


def status_for_member(
    *,
    connected: bool,
    email: str | None = None,
    name: str | None = None,
    link: str | None = None,
    dm_alerts: bool = True,
    zone: str | None = None,
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


# --- setup and org status (admins) ------------------------------------------------------


def setup_form(data_center: str | None = None, client_id: str | None = None) -> Card:
    """The form behind /cronofy setup. Input names: client_id, client_secret, data_center."""
    return Card(
        blocks=[
            Header("Cronofy setup"),
            Section(
                "Enter the keys of your Cronofy internal application (Cronofy developer dashboard → "
                "your app → Credentials). Slotbot checks them with Cronofy before saving."
            ),
            TextInput(
                "client_id", "Client ID", value=client_id or "", placeholder="e.g. 2rVm6cNx…"
            ),
            TextInput(
                "client_secret",
                "Client Secret",
                secret=True,
                placeholder="paste the client secret",
                hint="Stored encrypted and never shown again.",
            ),
            ChoiceInput(
                "data_center",
                "Data center",
                [Choice(code, data_center_label(code)) for code in DATA_CENTER_NAMES],
                value=data_center if data_center in DATA_CENTER_NAMES else "us",
                hint="Where your Cronofy account lives: app.cronofy.com is us, app-uk.cronofy.com is uk, …",
            ),
            Actions(
                [
                    Button(
                        "Save and check",
                        action_id=ACTION_SETUP_SUBMIT,
                        style="primary",
                        submit=True,
                    )
                ]
            ),
        ],
        fallback="Cronofy setup: enter your Client ID, Client Secret and data center",
    )


def setup_checklist(
    push_url: str, data_center: str, *, url_shown_above: bool = False
) -> list[Element]:
    """The Cronofy-side steps; the push URL is repeated at step 4 unless the card already
    shows it above."""
    app_url = cronofy_app_url(data_center)
    if url_shown_above:
        step_four: list[Element] = [
            Section(
                "4. Set the application's Universal Push Notification URL to the push URL above."
            )
        ]
    else:
        step_four = [
            Section(
                "4. Set the application's Universal Push Notification URL to the push URL below."
            ),
            Facts([Fact("Universal Push Notification URL", Link(push_url, push_url))]),
        ]
    return [
        Section(Strong("Now, in Cronofy:")),
        Section(
            [
                "1. Open the developer dashboard at ",
                Link(app_url, app_url),
                ' (if Developer is missing, turn on "Show the Developer Dashboard" on your profile page).',
            ]
        ),
        Section(
            "2. Use an internal application in the Organizational Unit your recruiters schedule from (the one whose keys you just entered)."
        ),
        Section(
            "3. In Scheduler → Workflows, add a callback step for each event Slotbot should hear "
            "about: booked (time chosen), rescheduled, doesn't suit (declined) and cancelled."
        ),
        *step_four,
    ]


def setup_result(push_url: str, data_center: str, *, became_admin: bool) -> Card:
    blocks: list[Element] = [
        Header("Cronofy keys saved"),
        Section("Cronofy accepted the keys; the secret is stored encrypted."),
        Facts(
            [
                Fact("Data center", data_center_label(data_center)),
                Fact("Push URL", Link(push_url, push_url)),
            ]
        ),
    ]
    if became_admin:
        blocks.append(
            Section(
                "You are now a Slotbot admin here (the first person to set it up). Add others with /cronofy admins add <user>."
            )
        )
    blocks += [
        Divider(),
        *setup_checklist(push_url, data_center, url_shown_above=True),
        Divider(),
        Section("Then choose where alerts go: run /cronofy alerts here in the hiring channel."),
        Footer("Check the connection any time with /cronofy status."),
    ]
    return Card(
        blocks=blocks, status="good", fallback="Cronofy keys saved: finish the set-up in Cronofy"
    )


def org_status(
    *,
    configured: bool,
    client_id: str | None = None,
    data_center: str | None = None,
    push_url: str | None = None,
    last_callback_at: datetime | None = None,
    counts: Mapping[str, int] | None = None,
    dead_letters: Sequence[DeadLetterView] = (),
    routes: Sequence[str] = (),
    admins: Sequence[str] = (),
    zone: str | None = None,
    installed: bool = True,
) -> Card:
    """/cronofy status: keys (masked), data center, push URL, last callback, counts, failures.
    `installed=False`: the chat app was uninstalled, so alerts are held."""
    if not configured:
        return Card(
            blocks=[
                Header("Cronofy is not set up"),
                Section(
                    "Run /cronofy setup to enter the Cronofy Client ID, Client Secret and data center."
                ),
            ],
            status="warning",
            fallback="Cronofy is not set up",
        )
    facts = [
        Fact("Client ID", mask(client_id or "")),
        Fact("Client Secret", "stored encrypted"),
        Fact("Data center", data_center_label(data_center or "us")),
        Fact("Push URL", Link(push_url, push_url) if push_url else "not made yet"),
        Fact(
            "Last callback",
            TimeValue(last_callback_at, zone=zone) if last_callback_at else "none received yet",
        ),
        Fact(
            "Alerts go to",
            ", ".join(_name(r, "?") for r in routes[:10])
            if routes
            else "nowhere yet (/cronofy alerts here)",
        ),
    ]
    if admins:
        facts.append(Fact("Admins", ", ".join(_name(a, "?") for a in admins[:10])))
    blocks: list[Element] = [Header("Cronofy status"), Facts(facts)]
    if not installed:
        blocks.insert(
            1,
            Section(
                [
                    Strong("Slotbot is uninstalled here. "),
                    "Cronofy's callbacks are still recorded; their alerts are held (listed "
                    "under failed deliveries) and go out when Slotbot is installed again.",
                ]
            ),
        )
    if counts:
        blocks += [
            Section(Strong("Counts")),
            Facts([Fact(_name(k, "?"), str(v)) for k, v in list(counts.items())[:10]]),
        ]
    if dead_letters:
        blocks += [Divider(), Section(Strong(f"Failed deliveries ({len(dead_letters)})"))]
        for dead in list(dead_letters)[:MAX_DEAD_LETTERS]:
            line: list[Inline] = [f"• {_name(dead.kind, 'job')} to {_name(dead.target, 'unknown')}"]
            if dead.failed_at:
                line += [", failed ", TimeValue(dead.failed_at, zone=zone)]
            if dead.reason:
                line.append(f": {truncate(one_line(dead.reason), 200)}")
            line.append(f" (job {_name(dead.job_id, '?')})")
            blocks.append(Section(line))
        if len(dead_letters) > MAX_DEAD_LETTERS:
            blocks.append(
                Section(f"…and {len(dead_letters) - MAX_DEAD_LETTERS} more.", emphasis="subtle")
            )
        blocks.append(Footer("Replay them with: python -m bot deadletters replay <job id>"))
    status: Status | None = "warning" if dead_letters or last_callback_at is None else "good"
    if not installed:
        status = "attention"
    return Card(blocks=blocks, status=status, fallback="Cronofy status")


def admins_list(admins: Sequence[str]) -> Card:
    names = [_name(a, "?") for a in admins]
    return Card(
        blocks=[
            Header("Slotbot admins"),
            Section(
                ", ".join(names)
                if names
                else "Nobody yet: the first person to run /cronofy setup becomes an admin."
            ),
            Footer("Add or remove with /cronofy admins add|remove <user>."),
        ],
        fallback="Slotbot admins",
    )


def alerts_routed(
    channel_name: str,
    kinds: Sequence[str],
    *,
    dropped: Sequence[str] = (),
    all_kinds: Sequence[str] = (),
) -> Card:
    """The kinds named replace what the channel got before: `dropped` are the kinds it got
    until now and no longer does; `all_kinds`, when given, lets the card say which kinds it
    does not get."""
    where = _name(channel_name, "this conversation")
    what = ", ".join(_name(k, "?") for k in kinds) if kinds else "all"
    said: list[Element] = [
        Section([Strong(where), " now gets alerts about: ", Strong(what), "."]),
    ]
    if dropped:
        gone = ", ".join(_name(k, "?") for k in dropped)
        said.append(Section(["It no longer gets: ", Strong(gone), "."]))
    others = [k for k in all_kinds if k not in kinds]
    if others:
        said.append(
            Section(
                f"Other kinds ({', '.join(_name(k, '?') for k in others)}) do not go there; "
                f"name every kind you want there, or say all."
            )
        )
    return Card(
        blocks=[
            Header("Alerts routed"),
            *said,
            Section(
                "Channel alerts show the candidate's name only; recruiters get the details privately."
            ),
        ],
        status="good",
        fallback=f"{where} now gets alerts about: {what}",
    )


def alerts_off(channel_name: str) -> Card:
    where = _name(channel_name, "this conversation")
    return notice("Alerts stopped", f"{where} no longer gets booking alerts.")


def gdpr_note() -> Card:
    return Card(
        blocks=[
            Header("What Slotbot keeps about candidates"),
            Section(
                "Name and email, the bookings made through your links (times, meeting link, "
                "status) and when they changed. Channel alerts show names only; contact details "
                "go to the recruiter's direct messages."
            ),
            Section(
                "To erase a candidate, ask an admin; Cronofy keeps its own copy under your Cronofy agreement."
            ),
        ],
        fallback="What Slotbot keeps about candidates",
    )


# --- alerts -------------------------------------------------------------------------------

_ALERT_TITLES: dict[str, tuple[str, Status | None]] = {
    "booked": ("Interview booked", "good"),
    "rescheduled": ("Interview rescheduled", "warning"),
    "cancelled": ("Interview cancelled", "attention"),
    "declined": ("Candidate declined the times", "attention"),
    "other": ("Scheduling update", None),
}


def _alert_sentence(kind: str, who: str, recruiter: str, event: AlertView) -> list[Inline]:
    with_whom = f" with {recruiter}" if recruiter else ""
    if kind == "booked":
        return [Strong(who), f" booked an interview{with_whom}."]
    if kind == "rescheduled":
        return [Strong(who), f" moved their interview{with_whom}."]
    if kind == "cancelled":
        return [Strong(who), f"'s interview{with_whom} was cancelled."]
    if kind == "declined":
        return [Strong(who), " said none of the offered times suit them."]
    raw = one_line(event.raw_type or "")
    what = f"a \u201c{truncate(raw, 60)}\u201d update" if raw else "an update"
    return ["Cronofy sent ", what, " about ", Strong(who), "."]


def alert(kind: str, event: AlertView, *, audience: Audience) -> Card:
    """A booking alert. `channel`: candidate's name only (no email, phone or notes, no
    reschedule/decline links); `dm`: full details for the recruiter."""
    kind = kind if kind in _ALERT_TITLES else "other"
    title, status = _ALERT_TITLES[kind]
    dm = audience == "dm"
    who = (
        _name(event.candidate_name, "")
        or (_name(event.candidate_email, "") if dm else "")
        or "A candidate"
    )
    recruiter = _name(event.recruiter_name, "")

    facts: list[Fact] = [Fact("Candidate", who)]
    if dm and event.candidate_email:
        facts.append(
            Fact(
                "Email",
                Link(f"mailto:{one_line(event.candidate_email)}", one_line(event.candidate_email)),
            )
        )
    if dm and event.candidate_phone:
        facts.append(Fact("Phone", _name(event.candidate_phone, "")))
    if recruiter:
        facts.append(Fact("Recruiter", recruiter))
    if kind == "rescheduled":
        if event.previous_start is not None:
            facts.append(
                Fact("Was", TimeValue(event.previous_start, event.previous_end, event.zone))
            )
        facts.append(Fact("Now", _when(event.start, event.end, event.zone)))
    elif kind in ("cancelled", "declined"):
        if event.start is not None:
            facts.append(
                Fact(
                    "Was booked for" if kind == "cancelled" else "Time",
                    _when(event.start, event.end, event.zone),
                )
            )
    else:
        facts.append(Fact("When", _when(event.start, event.end, event.zone)))
    if event.meeting_url and kind not in ("cancelled", "declined"):
        facts.append(Fact("Meeting", Link(event.meeting_url, "Join the meeting")))
    if dm and event.notes:
        facts.append(Fact("Notes", truncate(one_line(event.notes), MAX_REASON)))

    header = f"{title}: {who}" if who != "A candidate" else title
    blocks: list[Element] = [
        Header(header),
        Section(_alert_sentence(kind, who, recruiter, event)),
        Facts(facts),
    ]

    buttons: list[Button] = []
    if event.meeting_url and kind not in ("cancelled", "declined"):
        buttons.append(
            Button(
                "Join meeting", kind="open_url", url=event.meeting_url, action_id="alert.meeting"
            )
        )
    if event.candidate_id:
        buttons.append(
            Button(
                "Candidate profile", action_id=ACTION_CANDIDATE_PROFILE, value=event.candidate_id
            )
        )
    elif event.profile_url:
        buttons.append(
            Button(
                "Candidate profile",
                kind="open_url",
                url=event.profile_url,
                action_id="alert.profile",
            )
        )
    if dm and event.reschedule_url and kind not in ("cancelled", "declined"):
        buttons.append(
            Button(
                "Reschedule",
                kind="open_url",
                url=event.reschedule_url,
                action_id="alert.reschedule",
            )
        )
    if dm and event.decline_url and kind not in ("cancelled", "declined"):
        buttons.append(
            Button(
                "Decline",
                kind="open_url",
                url=event.decline_url,
                action_id="alert.decline",
                style="danger",
            )
        )
    if buttons:
        blocks.append(Actions(buttons))

    footer: list[str] = []
    if dm:
        footer.append(
            "Sent to you privately because this is your candidate. Turn these off with /schedule alerts off."
        )
    else:
        footer.append("Contact details go to the recruiter privately.")
    if kind == "other" and event.raw_type:
        footer.append(f"Cronofy type: {truncate(one_line(event.raw_type), 60)}.")
    if dm and event.booking_id:
        footer.append(f"Booking {truncate(one_line(event.booking_id), 60)}.")
    blocks.append(Footer(" ".join(footer)))

    when = ""
    if event.start is not None and kind != "declined":
        when = f", {format_time(TimeValue(event.start, None, event.zone))}"
    return Card(blocks=blocks, status=status, fallback=f"{title}: {who}{when}")


# --- candidates and upcoming ----------------------------------------------------------------

_KIND_WORDS: dict[str, str] = {
    "booked": "Booked",
    "rescheduled": "Rescheduled",
    "cancelled": "Cancelled",
    "declined": "Declined the times",
    "other": "Update",
    "link_sent": "Link sent",
}


def candidate_profile(candidate: CandidateView, timeline: Sequence[TimelineView]) -> Card:
    """A candidate's profile with their timeline, newest first (shown privately)."""
    name = _name(candidate.name, "") or _name(candidate.email, "Candidate")
    facts = [
        Fact(
            "Email",
            Link(f"mailto:{one_line(candidate.email)}", one_line(candidate.email))
            if candidate.email
            else "not known",
        ),
    ]
    if candidate.phone:
        facts.append(Fact("Phone", _name(candidate.phone, "")))
    if candidate.recruiter_name:
        facts.append(Fact("Recruiter", _name(candidate.recruiter_name, "")))
    if candidate.first_seen:
        facts.append(
            Fact("First seen", TimeValue(candidate.first_seen, zone=candidate.zone, show="date"))
        )
    if candidate.notes:
        facts.append(Fact("Notes", truncate(one_line(candidate.notes), MAX_REASON)))
    blocks: list[Element] = [Header(name), Facts(facts), Divider(), Section(Strong("Timeline"))]
    entries = sorted(timeline, key=lambda t: t.at, reverse=True)
    if not entries:
        blocks.append(Section("Nothing yet: send them a link with /schedule link for <email>."))
    for entry in entries[:MAX_TIMELINE]:
        line: list[Inline] = ["• ", Strong(_KIND_WORDS.get(entry.kind, _name(entry.kind, "Event")))]
        if entry.kind == "rescheduled" and entry.previous_start is not None:
            line += [": ", TimeValue(entry.previous_start, zone=entry.zone), " → "]
            line.append(_when(entry.start, entry.end, entry.zone))
        elif entry.start is not None:
            line += [": ", TimeValue(entry.start, entry.end, entry.zone)]
        if entry.recruiter_name:
            by = "by" if entry.kind == "link_sent" else "with"
            line.append(f" {by} {_name(entry.recruiter_name, '')}")
        if entry.meeting_url and entry.kind in ("booked", "rescheduled"):
            line += [" · ", Link(entry.meeting_url, "meeting")]
        if entry.note:
            line.append(f" · {truncate(one_line(entry.note), 200)}")
        if entry.kind == "other" and entry.raw_type:
            line.append(f" ({truncate(one_line(entry.raw_type), 60)})")
        blocks.append(Section(line))
        blocks.append(
            Section(["recorded ", TimeValue(entry.at, zone=entry.zone)], emphasis="subtle")
        )
    if len(entries) > MAX_TIMELINE:
        blocks.append(
            Section(f"…and {len(entries) - MAX_TIMELINE} earlier events.", emphasis="subtle")
        )
    blocks.append(Footer("Only you can see this."))
    return Card(blocks=blocks, fallback=f"Candidate profile: {name}")


def upcoming(items: Sequence[UpcomingView]) -> Card:
    """The recruiter's upcoming interviews, soonest first."""
    ordered = sorted(items, key=lambda i: i.start)
    blocks: list[Element] = [Header("Your upcoming interviews")]
    if not ordered:
        blocks.append(Section("Nothing booked yet. Share your link with /schedule link."))
    for item in ordered[:MAX_UPCOMING]:
        line: list[Inline] = [
            "• ",
            TimeValue(item.start, item.end, item.zone),
            " · ",
            Strong(_name(item.candidate_name, "A candidate")),
        ]
        if item.state == "rescheduled":
            line.append(" (rescheduled)")
        if item.meeting_url:
            line += [" · ", Link(item.meeting_url, "join")]
        blocks.append(Section(line))
    if len(ordered) > MAX_UPCOMING:
        blocks.append(Section(f"…and {len(ordered) - MAX_UPCOMING} more.", emphasis="subtle"))
    count = len(ordered)
    return Card(
        blocks=blocks, fallback=f"You have {count} upcoming interview{'s' if count != 1 else ''}"
    )


# --- errors, notices and confirmations ------------------------------------------------------


def _error(
    title: str, text: Inline | list[Inline], next_step: str, *, extra: Sequence[Element] = ()
) -> Card:
    return Card(
        blocks=[Header(title), Section(text), Section([Strong("What to do: "), next_step]), *extra],
        status="attention",
        fallback=f"{title}. {next_step[:1].upper()}{next_step[1:]}",
    )


def error_not_admin() -> Card:
    return _error(
        "Only Slotbot admins can do that",
        "/cronofy commands change the Cronofy set-up for everyone here.",
        "ask an admin to run it, or to add you with /cronofy admins add <you>. /cronofy admins shows who they are.",
    )


def error_not_connected(authorize_url: str) -> Card:
    return _error(
        "Connect your calendar first",
        "That needs your Cronofy calendar connection.",
        "connect with the button below, then try again.",
        extra=[
            Actions(
                [
                    Button(
                        "Connect calendar",
                        kind="open_url",
                        url=authorize_url,
                        action_id=ACTION_CONNECT,
                        style="primary",
                    )
                ]
            )
        ],
    )


def error_keys_rejected(reason: str) -> Card:
    return _error(
        "Cronofy rejected those keys",
        ["Cronofy said: ", truncate(one_line(reason), MAX_REASON) or "the keys are not valid."],
        "check the Client ID, Client Secret and data center of your internal application in the Cronofy developer dashboard, then run /cronofy setup again. Nothing was saved.",
    )


def error_cronofy_unreachable() -> Card:
    return _error(
        "Cronofy is not answering",
        "Slotbot could not reach Cronofy just now; nothing was changed.",
        "try again in a minute. If it keeps happening, check Cronofy's status page and that the data center is right (/cronofy status).",
    )


def error_invite_bot(channel_name: str, platform: str = "") -> Card:
    """`platform` ("slack"/"teams") picks how to add Slotbot there."""
    where = _name(channel_name, "this channel")
    how = {
        "slack": f"invite it (type /invite @Slotbot in {where}), then try again.",
        "teams": "add the Slotbot app to the team that has this channel, then try again.",
    }.get(platform, f"add Slotbot to {where}, then try again.")
    return _error(
        f"Slotbot is not in {where}",
        "Slotbot can only post where it has been added.",
        how,
    )


def error_usage(usage: str, problem: str) -> Card:
    return _error(
        "That command needs a fix",
        truncate(one_line(problem), MAX_REASON) or "The command was not understood.",
        "use it like this:",
        extra=[Section(Strong(truncate(one_line(usage), 300)))],
    )


def error_setup_required() -> Card:
    return _error(
        "Slotbot is not set up here yet",
        "An admin needs to enter the Cronofy keys before links and alerts work.",
        "ask an admin to run /cronofy setup.",
    )


def error_unexpected(reference: str) -> Card:
    return _error(
        "Something went wrong on our side",
        "Slotbot hit an unexpected problem; nothing was half-done.",
        f"try again. If it happens again, give your admin this reference: {truncate(one_line(reference), 60)}",
    )


def notice(title: str, text: str) -> Card:
    return Card(
        blocks=[Header(title), Section(text)], fallback=f"{one_line(title)}: {one_line(text)}"
    )


def confirm(question: str, action_id: str, value: str) -> Card:
    """A yes/no question (e.g. /cronofy reset). Yes sends `action_id` + `value`; Cancel
    sends `confirm.cancel`."""
    return Card(
        blocks=[
            Header("Please confirm"),
            Section(question),
            Actions(
                [
                    Button("Yes, go ahead", action_id=action_id, value=value, style="danger"),
                    Button("Cancel", action_id=ACTION_CONFIRM_CANCEL, value=action_id),
                ]
            ),
        ],
        status="warning",
        fallback=f"Please confirm: {one_line(question)}",
    )
