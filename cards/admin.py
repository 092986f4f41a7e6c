"""What admins see and change once Slotbot is set up: the org's status (/cronofy status),
its admins, and where alerts go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cards._shared import name as _name
from cards._text import one_line, truncate
from cards.errors import notice
from cards.model import (
    Card,
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
    TimeValue,
)
from cards.setup import data_center_label, mask

MAX_DEAD_LETTERS = 10


@dataclass(frozen=True)
class DeadLetterView:
    job_id: str
    kind: str
    failed_at: datetime | None = None
    reason: str = ""
    target: str = ""  # "#hiring", "DM to Bob": a name, never a secret


@dataclass(frozen=True)
class RouteView:
    """Alerts of these kinds go to this conversation (`name` without "#", may be empty)."""

    conversation_id: str
    kinds: Sequence[str]
    name: str = ""


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
    feedback_minutes: int | None = None,
) -> Card:
    """/cronofy status: keys (masked), data center, push URL, last callback, counts, failures.
    `installed=False`: the chat app was uninstalled, so alerts are held. `feedback_minutes`:
    interviewers are asked for a note this long after each interview (None: not asked, or
    not said)."""
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
    if feedback_minutes is not None:
        facts.append(
            Fact("Notes after interviews", f"asked {feedback_minutes} minutes after the end")
        )
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


def org_counts(*, recruiters: int, connected: int, links: int, failed: int) -> dict[str, int]:
    """The counts /cronofy status shows, by their label."""
    return {
        "Recruiters": recruiters,
        "Calendars connected": connected,
        "Public links set": links,
        "Failed deliveries": failed,
    }


def status_routes(routes: Sequence[RouteView]) -> list[str]:
    """The routes as /cronofy status lists them."""
    return [f"{r.name or r.conversation_id} ({', '.join(r.kinds)})" for r in routes]


def dead_letter_target(kind: str, conversation_id: str) -> str:
    """Where a failed delivery was going: a channel by id, a direct message by no name."""
    return "a direct message" if kind == "dm" else conversation_id


# --- admins -------------------------------------------------------------------------------


def env_admin(name: str) -> str:
    """An admin named in BOT_ADMINS (admin everywhere, not on the org's own list)."""
    return f"{name} (BOT_ADMINS)"


def admin_added(who: str, *, added: bool) -> Card:
    return notice("Admins", f"{who} is {'now' if added else 'already'} an admin.")


def admin_removed(who: str, *, removed: bool) -> Card:
    return notice(
        "Admins", f"{who} is no longer an admin." if removed else f"{who} was not on the list."
    )


LAST_ADMIN = (
    "That is the org's last admin: add another admin first, so someone can still manage Slotbot."
)


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


# --- where alerts go ----------------------------------------------------------------------


def route_label(route: RouteView) -> str:
    return f"#{route.name}" if route.name else route.conversation_id


def route_place(name: str, *, here: bool) -> str:
    """The conversation a route was just set for: by name, else "this conversation" (where
    the command was typed) or "that channel"."""
    if name:
        return f"#{name}"
    return "this conversation" if here else "that channel"


def routes_text(routes: Sequence[RouteView]) -> str:
    if not routes:
        return "No channel gets alerts yet (run /cronofy alerts here in the hiring channel)."
    return "Alerts go to: " + "; ".join(f"{route_label(r)} ({', '.join(r.kinds)})" for r in routes)


def alert_routes(routes: Sequence[RouteView]) -> Card:
    """/cronofy alerts: where alerts go now."""
    return notice("Alert routes", routes_text(routes))


def no_alerts_there(routes: Sequence[RouteView]) -> Card:
    """/cronofy alerts off where no alerts were going."""
    return notice(
        "No alerts there", "No alerts were going to that conversation. " + routes_text(routes)
    )


ALERTS_HERE_IN_CHANNEL = "Run /cronofy alerts here in the channel that should get the alerts."


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
