"""`python -m bot cards --demo [--json]`: every card Slotbot sends, with sample data.

Without `--json`, prints each card as plain text for a person to read. With `--json`, prints
one JSON object `{card_name: {"slack": {"blocks", "text"}, "teams": {...}, "text": "..."}}`
for tools (and tests) to check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cards import (
    actions,
    admin,
    agenda,
    alerts,
    candidates,
    errors,
    feedback,
    home,
    privacy,
    reminders,
    scheduling,
    setup,
    webhooks,
)
from cards.help import help_card
from cards.model import Card
from cards.slack import to_slack
from cards.teams import to_teams
from cards.text import to_text

_START = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
_END = _START + timedelta(minutes=45)
_PUSH_URL = "https://slotbot.example.com/cronofy/push/3f9c2a7d1e6b4c08a5d2"
_LINK = "https://app.cronofy.com/pls/Q5-ZDPM8"
_AUTHORIZE = "https://app.cronofy.com/oauth/authorize?response_type=code&client_id=cid&state=s1"


def sample_event() -> alerts.AlertView:
    return alerts.AlertView(
        candidate_name="Ada Lovelace",
        candidate_email="ada@example.com",
        candidate_phone="+44 20 7946 0018",
        notes="Prefers afternoons; portfolio link in the application.",
        recruiter_name="Grace Hopper",
        start=_START,
        end=_END,
        zone="Europe/London",
        previous_start=_START - timedelta(days=1),
        previous_end=_END - timedelta(days=1),
        meeting_url="https://meet.example.com/abc-defg-hij",
        candidate_id="cand_7QmZ2",
        reschedule_url="https://app.cronofy.com/rts/LOiwlKXQ?reschedule=true",
        decline_url="https://app.cronofy.com/rts/LOiwlKXQ?decline=true",
        booking_id="srq_1234",
        raw_type="scheduling_request_time_chosen",
    )


def sample_cards() -> dict[str, Card]:
    """Every card, with realistic sample data, by name."""
    event = sample_event()
    cards: dict[str, Card] = {
        "help": help_card("slack"),
        "connect_prompt": scheduling.connect_prompt(_AUTHORIZE),
        "reconnect_prompt": scheduling.reconnect_prompt(_AUTHORIZE),
        "calendar_connected": scheduling.calendar_connected("grace@example.com", "Grace Hopper"),
        "disconnected": scheduling.disconnected(),
        "your_link": scheduling.your_link(_LINK),
        "your_link_for_candidate": scheduling.your_link(
            _LINK + "?correlation_id=c_81fd&utm_source=slotbot",
            candidate_name="Ada Lovelace",
            candidate_email="ada@example.com",
        ),
        "link_shared": scheduling.link_shared(_LINK, "Grace Hopper"),
        "link_set": scheduling.link_set(_LINK),
        "set_link_prompt": scheduling.set_link_prompt("https://app.cronofy.com/pls/XXXX"),
        "status_for_member": scheduling.status_for_member(
            connected=True,
            email="grace@example.com",
            name="Grace Hopper",
            link=_LINK,
            dm_alerts=True,
            zone="Europe/London",
        ),
        "dm_alerts_set": scheduling.dm_alerts_set(False),
        "setup_form": setup.setup_form(data_center="uk", client_id="2rVm6cNxS0mEcL13nT1d"),
        "setup_result": setup.setup_result(_PUSH_URL, "uk", became_admin=True),
        "org_status": admin.org_status(
            configured=True,
            client_id="2rVm6cNxS0mEcL13nT1d",
            data_center="uk",
            push_url=_PUSH_URL,
            last_callback_at=_START - timedelta(hours=2),
            counts={"callbacks today": 12, "alerts sent": 30, "candidates": 87},
            dead_letters=[
                admin.DeadLetterView(
                    job_id="job_5e1",
                    kind="alert",
                    failed_at=_START - timedelta(hours=1),
                    reason="channel_not_found",
                    target="#hiring-old",
                )
            ],
            routes=["#hiring (all)", "#exec-hiring (booked)"],
            admins=["Grace Hopper", "Alan Turing"],
        ),
        "org_status_not_configured": admin.org_status(configured=False),
        "admins_list": admin.admins_list(["Grace Hopper", "Alan Turing"]),
        "alerts_routed": admin.alerts_routed("#hiring", ["booked", "rescheduled"]),
        "alerts_off": admin.alerts_off("#hiring"),
        "gdpr_note": candidates.gdpr_note(),
        "reminder": reminders.reminder(
            reminders.ReminderView(
                candidate_name="Ada Lovelace",
                start=_START,
                end=_END,
                zone="Europe/London",
                minutes_left=15,
                meeting_url="https://meet.example.com/abc-defg-hij",
                candidate_id="cand_7QmZ2",
            )
        ),
        "reminder_no_zone": reminders.reminder(
            reminders.ReminderView(candidate_name="Ada Lovelace", start=_START, minutes_left=90)
        ),
        "reminders_setting": reminders.reminders_setting(15, changed=False),
        "reminders_off": reminders.reminders_setting(None, changed=True),
    }
    for kind in ("booked", "rescheduled", "cancelled", "declined", "other"):
        for audience in ("channel", "dm"):
            raw = event if kind != "other" else _other(event)
            cards[f"alert_{kind}_{audience}"] = alerts.alert(kind, raw, audience=audience)
    cards["candidate_profile"] = candidates.candidate_profile(
        candidates.CandidateView(
            email="ada@example.com",
            name="Ada Lovelace",
            recruiter_name="Grace Hopper",
            first_seen=_START - timedelta(days=6),
            zone="Europe/London",
        ),
        [
            candidates.TimelineView(
                kind="link_sent", at=_START - timedelta(days=6), recruiter_name="Grace Hopper"
            ),
            candidates.TimelineView(
                kind="booked",
                at=_START - timedelta(days=3),
                start=_START - timedelta(days=1),
                end=_END - timedelta(days=1),
                recruiter_name="Grace Hopper",
                meeting_url=event.meeting_url,
                zone="Europe/London",
            ),
            candidates.TimelineView(
                kind="rescheduled",
                at=_START - timedelta(days=2),
                start=_START,
                end=_END,
                previous_start=_START - timedelta(days=1),
                recruiter_name="Grace Hopper",
                zone="Europe/London",
            ),
            candidates.TimelineView(
                kind="note",
                at=_END + timedelta(minutes=20),
                recruiter_name="Alan Turing",
                note="Strong on systems design.\nWould like a second round on *testing*.",
            ),
        ],
    )
    target = feedback.NoteTarget("c_81fd", "srq_80f7fece")
    cards["feedback_prompt"] = feedback.feedback_prompt(
        "Ada Lovelace", target, start=_START, end=_END, zone="Europe/London"
    )
    cards["note_form"] = feedback.note_form("Ada Lovelace", target)
    cards["note_saved"] = feedback.note_saved("Ada Lovelace")
    cards["note_refused"] = feedback.note_refused(feedback.note_too_long(2417))
    cards["feedback_setting"] = feedback.feedback_setting(on=True, delay_minutes=15)
    cards["feedback_set_off"] = feedback.feedback_set(on=False, delay_minutes=15)
    hook_url = "https://ats.example.com/hooks/slotbot"
    cards["webhook_added"] = webhooks.added(hook_url, "whsec_Qm9vbGVhbiBzZWNyZXQgZXhhbXBsZQ")
    cards["webhook_refused"] = webhooks.refused("private", "https://intranet.example/x", "10.0.0.7")
    cards["webhook_list"] = webhooks.webhook_list(
        [
            webhooks.WebhookView(hook_url, _START.timestamp(), "U1", "200", _END.timestamp()),
            webhooks.WebhookView(
                "https://old.example.com/h", _START.timestamp(), "U1", "webhook_http_500", None
            ),
        ]
    )
    cards["upcoming"] = candidates.upcoming(
        [
            candidates.UpcomingView(
                "Ada Lovelace", _START, _END, "Europe/London", event.meeting_url
            ),
            candidates.UpcomingView(
                "Charles Babbage",
                _START + timedelta(days=1, hours=2),
                _END + timedelta(days=1, hours=2),
                "Europe/London",
                state="rescheduled",
            ),
        ]
    )
    cards["upcoming_empty"] = candidates.upcoming([])
    cards["error_not_admin"] = errors.error_not_admin()
    cards["error_not_connected"] = errors.error_not_connected(_AUTHORIZE)
    cards["error_keys_rejected"] = errors.error_keys_rejected("invalid_client")
    cards["error_cronofy_unreachable"] = errors.error_cronofy_unreachable()
    # as the outbox makes them: the channel's name alone, the platform saying how to add Slotbot
    cards["error_invite_bot"] = alerts.error_invite_bot("hiring", "slack")
    cards["error_invite_bot_teams"] = alerts.error_invite_bot("Hiring", "teams")
    cards["error_usage"] = errors.error_usage(
        "/schedule link set <url>", "That is not a Cronofy public link."
    )
    cards["error_setup_required"] = errors.error_setup_required()
    cards["error_unexpected"] = errors.error_unexpected("req-8c1f")
    cards["notice"] = errors.notice("Saved", "Your settings were saved.")
    cards["confirm"] = errors.confirm(
        "Remove the Cronofy keys and stop all alerts in this workspace?", "cronofy.reset", "T123"
    )
    cards.update(_more_cards(event))
    return cards


def _more_cards(event: alerts.AlertView) -> dict[str, Card]:
    """The small answers and notices around the main cards."""
    routes = [
        admin.RouteView("C0HIRING", ["booked", "rescheduled"], "hiring"),
        admin.RouteView("C0EXEC", ["booked"]),
    ]
    return {
        "help_teams": help_card("teams"),
        "reconnect_prompt_without_link": scheduling.reconnect_prompt(None),
        "not_connected": scheduling.not_connected(),
        "no_such_candidate": candidates.no_such_candidate("ada@example.com"),
        "not_your_candidate": candidates.not_your_candidate(),
        "follow_up": alerts.follow_up("rescheduled", event.start, event.end, event.zone),
        "data_request": privacy.data_request(),
        "data_request_for_candidate": privacy.data_request_for_candidate("c_5e1f"),
        "alert_removed": privacy.alert_removed(),
        "confirm_erase": privacy.confirm_erase("ada@example.com", "Ada Lovelace", "c_5e1f", 2),
        "erased": privacy.erased({"candidates": 1, "timeline": 4, "bookings": 2}),
        "already_erased": privacy.already_erased(),
        "no_candidate": privacy.no_candidate("ada@example.com"),
        "export_link": privacy.export_link("https://slotbot.example.com/exports/abc", 10),
        "retention_setting": privacy.retention_setting(365),
        "retention_set": privacy.retention_set(None),
        "error": errors.error("That is not a Cronofy public link for your data center (UK)."),
        "error_store_down": errors.error_store_down(),
        "cancelled": errors.cancelled(),
        "setup_checking_keys": setup.checking_keys(),
        "setup_saved": setup.saved(),
        "setup_keys_not_accepted": setup.keys_not_accepted(
            {
                actions.CLIENT_ID: setup.keys_not_recognised("uk"),
                actions.CLIENT_SECRET: setup.CHECK_SECRET_TOO,
            }
        ),
        "setup_form_not_opened": setup.form_not_opened(),
        "confirm_reset": setup.confirm_reset("slack:T123"),
        "reset_done": setup.reset_done(True),
        "nothing_to_reset": setup.nothing_to_reset(),
        "admin_added": admin.admin_added("Alan Turing", added=True),
        "admin_removed": admin.admin_removed("Alan Turing", removed=True),
        "alert_routes": admin.alert_routes(routes),
        "no_alerts_there": admin.no_alerts_there(routes),
        "home": home.home(
            connected=True,
            email="grace@example.com",
            public_link=_LINK,
            sections=[candidates.upcoming([]).blocks],
        ),
        "home_not_connected": home.home(connected=False, connect_url=_AUTHORIZE),
        **_agenda_cards(),
    }


def _agenda_cards() -> dict[str, Card]:
    london = agenda.AgendaZone("Europe/London")
    utc = agenda.AgendaZone("UTC", defaulted=True)
    items = [
        agenda.AgendaItem(_START, _END, "Ada Lovelace", "https://meet.example.com/ada"),
        agenda.AgendaItem(_END, _END + timedelta(minutes=30), "Alan Turing", rescheduled=True),
    ]
    return {
        "agenda": agenda.agenda(_START.date(), london, items),
        "agenda_default_zone": agenda.agenda(_START.date(), utc, items[:1]),
        "agenda_on": agenda.agenda_on("08:30", london, _START),
        "agenda_off": agenda.agenda_off(True),
        "agenda_status_off": agenda.agenda_status(None, utc),
        "agenda_status_on": agenda.agenda_status("08:30", london),
    }


def _other(event: alerts.AlertView) -> alerts.AlertView:
    return replace(event, raw_type="scheduling_request_reminder_sent")


def render_all(cards: dict[str, Card]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, card in cards.items():
        slack = to_slack(card)
        out[name] = {
            "slack": {"blocks": slack.blocks, "text": slack.text},
            "teams": to_teams(card),
            "text": to_text(card),
        }
    return out


_FACT_LINE = re.compile(r"^(\s+[^:]{1,40}:\s+)\S")
_BULLET = re.compile(r"^\s*(?:•|\d+\.) ")


def _wrap(line: str, width: int = 92) -> list[str]:
    """Wrap a long line for the terminal; fact values and indented lines stay aligned."""
    if len(line) <= width:
        return [line]
    fact = _FACT_LINE.match(line)
    indent = " " * len(fact.group(1)) if fact else " " * (len(line) - len(line.lstrip()))
    if len(indent) > width // 3:
        indent = " " * 6
    bullet = _BULLET.match(line)
    if bullet:
        indent = " " * len(bullet.group(0))
    return textwrap.wrap(
        line,
        width=width,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [line]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="slotbot cards", description="Show every message card Slotbot sends."
    )
    parser.add_argument("--demo", action="store_true", help="render the cards with sample data")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object: card name -> slack / teams / text"
    )
    parser.add_argument("names", nargs="*", help="only these cards (default: all)")
    args = parser.parse_args(argv)
    if not args.demo:
        parser.print_help()
        return 2
    cards = sample_cards()
    unknown = [n for n in args.names if n not in cards]
    if unknown:
        print(f"unknown card(s): {', '.join(unknown)}; known: {', '.join(cards)}", file=sys.stderr)
        return 2
    if args.names:
        cards = {n: cards[n] for n in args.names}
    if args.json:
        json.dump(render_all(cards), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for n, (name, card) in enumerate(cards.items()):
        if n:
            print()
        print(f"┌─ {name} " + "─" * max(4, 60 - len(name)))
        for line in to_text(card).splitlines():
            for piece in _wrap(line):
                print(f"│ {piece}".rstrip())
        print("└" + "─" * 64)
    return 0
