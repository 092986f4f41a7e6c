"""A candidate's own data: erase (with its confirmation), export (a short-lived private
link), retention (/cronofy retention), the alert left in place of an erased candidate's,
and Cronofy's data requests offering the erase.

Cards that stay in a chat after an erasure (the "removed" alert, the data-request notice)
carry no personal data: no name, no email; a button carries the candidate's opaque id only.
"""

from __future__ import annotations

from collections.abc import Mapping

from cards import actions
from cards._text import one_line
from cards.errors import error, notice
from cards.model import Actions, Button, Card, Fact, Facts, Header, Link, Section

MAX_RETENTION_DAYS = 3650

# --- the alert an erasure leaves behind ---------------------------------------------------

REMOVED = "(removed)"


def alert_removed() -> Card:
    """What a posted alert about an erased candidate becomes: nothing about them."""
    return Card(
        blocks=[Section(REMOVED + " This alert was about a candidate whose data was erased.")],
        fallback=REMOVED,
    )


# --- erase --------------------------------------------------------------------------------


def confirm_erase(email: str, name: str, candidate_id: str, bookings: int) -> Card:
    """`/cronofy candidate erase <email>` asks first; the Erase button carries the id."""
    who = f"{one_line(name)} ({email})" if name else email
    return Card(
        blocks=[
            Header("Erase this candidate?"),
            Section(
                f"Erase {who}: their profile, timeline, {bookings} booking(s), the links sent "
                "to them and anything still queued about them. Alerts already posted about "
                "them will read “(removed)”. This cannot be undone."
            ),
            Actions(
                [
                    Button(
                        "Erase", action_id=actions.ERASE_CONFIRM, value=candidate_id, style="danger"
                    ),
                    Button("Cancel", action_id=actions.CONFIRM_CANCEL, value=actions.ERASE_CONFIRM),
                ]
            ),
        ],
        status="warning",
        fallback="Please confirm: erase this candidate?",
    )


_COUNT_LABELS = {
    "candidates": "Profile",
    "timeline": "Timeline entries",
    "bookings": "Bookings",
    "message_refs": "Alerts changed to “(removed)”",
    "links": "Tracked links",
    "jobs": "Queued messages dropped",
}


def erased(counts: Mapping[str, int]) -> Card:
    """The answer once erased: counts only (the name and email are gone)."""
    return Card(
        blocks=[
            Header("Candidate erased"),
            Facts([Fact(label, str(counts.get(key, 0))) for key, label in _COUNT_LABELS.items()]),
        ],
        fallback="Candidate erased.",
    )


def already_erased() -> Card:
    return notice("Nothing to erase", "That candidate is no longer on record (already erased?).")


def no_candidate(email: str) -> Card:
    return error(f"No candidate with the email {email} is on record here.", "No such candidate")


# --- export -------------------------------------------------------------------------------


def export_link(url: str, minutes: int) -> Card:
    return Card(
        blocks=[
            Header("Candidate data export"),
            Section(
                f"Their profile and timeline as JSON. The link works once, for {minutes} "
                "minutes, and only for this download: don't forward it."
            ),
            Section(Link(url, "Download the JSON")),
        ],
        fallback=f"Candidate data export: {url}",
    )


# --- retention ----------------------------------------------------------------------------


def retention_setting(days: int | None) -> Card:
    if days is None:
        text = (
            "Off: timelines and bookings are kept until a candidate is erased. "
            "Set a period with /cronofy retention <days>."
        )
    else:
        text = (
            f"{days} days: once a day, timeline entries recorded and bookings ended more than "
            f"{days} days ago are erased, and candidates with nothing left on record. Turn it "
            "off with /cronofy retention off."
        )
    return notice("Retention", text)


def retention_set(days: int | None) -> Card:
    if days is None:
        return notice("Retention: off", "Nothing will be erased for age.")
    return notice(
        f"Retention: {days} days",
        f"From today, once a day, timeline entries and bookings older than {days} days are erased.",
    )


# --- Cronofy's data requests --------------------------------------------------------------


def data_request_for_candidate(candidate_id: str) -> Card:
    """A data request naming a candidate Slotbot knows: erase with one button (the id only:
    this message stays in the admins' chats after the erasure)."""
    return Card(
        blocks=[
            Header("Cronofy data request"),
            Section(
                "Cronofy reported a GDPR data request about a candidate Slotbot has on "
                "record. Review it in Cronofy; Erase removes everything Slotbot keeps about "
                "them, at once, and cannot be undone."
            ),
            Actions(
                [
                    Button(
                        "Erase", action_id=actions.ERASE_CONFIRM, value=candidate_id, style="danger"
                    )
                ]
            ),
        ],
        status="warning",
        fallback="Cronofy data request",
    )


def data_request() -> Card:
    """A data request that names no candidate Slotbot knows."""
    return notice(
        "Cronofy data request",
        "Cronofy reported a GDPR data request. Review it in Cronofy; to remove a candidate's "
        "data from Slotbot, run /cronofy candidate erase <email>.",
    )
