"""The note after an interview: the org's setting (/cronofy feedback), the prompt each
interviewer gets in their direct messages once it has ended, the note form and its answers.

Notes are private to the candidate's profile: none of these cards is ever posted to a
channel. A note is plain text like every other user text here: the renderers escape it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from cards import actions
from cards._shared import name as _name
from cards._shared import when as _when
from cards.errors import error, notice
from cards.model import Actions, Button, Card, Footer, Header, Section, TextInput

# the longest note kept; a longer one is refused, never cut
MAX_NOTE = 2000


# --- the org's setting -------------------------------------------------------------------


def feedback_setting(*, on: bool, delay_minutes: int) -> Card:
    """`/cronofy feedback`: whether interviewers are asked for a note, and when."""
    if on:
        text = (
            f"On: {delay_minutes} minutes after each interview ends, each interviewer gets a "
            "direct message asking how it went, with a button to add a note to the "
            "candidate's profile. Turn it off with /cronofy feedback off."
        )
    else:
        text = "Off: interviewers are not asked for a note. Turn it on with /cronofy feedback on."
    return notice("Notes after interviews", text)


def feedback_set(*, on: bool, delay_minutes: int) -> Card:
    """The answer to `/cronofy feedback on|off`."""
    if on:
        text = (
            f"Interviewers will be asked for a note {delay_minutes} minutes after each "
            "interview booked from now on ends."
        )
        return notice("Notes after interviews: on", text)
    return notice(
        "Notes after interviews: off",
        "Interviewers will not be asked for a note; prompts already planned are not sent.",
    )


# --- which candidate and booking a note is about ------------------------------------------


@dataclass(frozen=True)
class NoteTarget:
    """What the Add note button and the note form carry back: ids, never trusted as sent."""

    candidate_id: str
    booking_id: str = ""

    def encode(self) -> str:
        return json.dumps({"c": self.candidate_id, "b": self.booking_id}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> NoteTarget | None:
        """None for anything that is not a value `encode` made."""
        try:
            data = json.loads(value)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        candidate, booking = data.get("c"), data.get("b", "")
        if not isinstance(candidate, str) or not candidate or not isinstance(booking, str):
            return None
        return cls(candidate, booking)


# --- the prompt, the form, the answers -----------------------------------------------------


def feedback_prompt(
    candidate_name: str,
    target: NoteTarget,
    *,
    start: datetime | None,
    end: datetime | None,
    zone: str | None,
) -> Card:
    """The direct message to an interviewer once the interview has ended."""
    who = _name(candidate_name, "your candidate")
    return Card(
        blocks=[
            Header(f"How did it go with {who}?"),
            Section(["Interview: ", _when(start, end, zone)]),
            Actions(
                [
                    Button(
                        "Add note",
                        action_id=actions.ADD_NOTE,
                        value=target.encode(),
                        style="primary",
                    )
                ]
            ),
            Footer(
                "Your note goes on the candidate's profile, seen by their recruiters and "
                "Slotbot admins; never in a channel."
            ),
        ],
        fallback=f"How did it go with {who}?",
    )


def note_form(candidate_name: str, target: NoteTarget, text: str = "") -> Card:
    """The form a note is written in (a Slack modal, a Teams card form)."""
    who = _name(candidate_name, "the candidate")
    return Card(
        blocks=[
            Header(f"Note on {who}"),
            TextInput(
                name=actions.NOTE_TEXT,
                label="How did it go?",
                value=text,
                placeholder="Strengths, concerns, next steps…",
                hint=f"Up to {MAX_NOTE} characters.",
                multiline=True,
                # the platform stops the member at the cap; a longer note sent all the same
                # is refused by the command layer
                max_length=MAX_NOTE,
            ),
            Actions(
                [
                    Button(
                        "Save note",
                        action_id=actions.NOTE_FORM,
                        value=target.encode(),
                        style="primary",
                        submit=True,
                    )
                ]
            ),
        ],
        fallback=f"Note on {who}",
        form_id=actions.NOTE_FORM,
    )


def note_saved(candidate_name: str) -> Card:
    who = _name(candidate_name, "the candidate")
    return notice("Note saved", f"Your note is on {who}'s profile (/schedule candidate).")


NOTE_EMPTY = "Write something first: the note is empty."
NOTE_NOT_ALLOWED = "This note cannot be saved: the candidate is not one of your organisation's."
NOTE_NOT_A_MEMBER = "Only members of this organisation can add notes."


def note_too_long(length: int) -> str:
    return (
        f"The note is {length} characters long; the most is {MAX_NOTE}. "
        "Shorten it and save again: nothing was saved."
    )


def note_refused(text: str) -> Card:
    return error(text, "Note not saved")
