"""The console (`python -m bot console`): every word it shows of its own, and what it reads off
a card to show it in a terminal (a form's fields, the buttons that can be pressed, the links).

Slotbot's own answers are the cards of the other modules, rendered by `cards.text`; this module
only frames them (who sees a reply, which numbered message an alert is) and words the console's
own prompts, the local Cronofy stand-in's pages and the simulated candidate's callbacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cards import actions
from cards._text import one_line, safe_url
from cards.model import (
    Actions,
    Button,
    Card,
    ChoiceInput,
    Fact,
    Facts,
    Footer,
    Header,
    Link,
    Section,
    TextInput,
    parts,
)

# --- the session --------------------------------------------------------------------------

DESCRIPTION = (
    "Try Slotbot in a terminal: a throw-away Slotbot with a local stand-in for Cronofy, on "
    "127.0.0.1 only. No accounts, no configuration; everything is gone when it stops."
)
VERBOSE_HELP = "show Slotbot's log (info and above) on stderr"
STATUS_ON = "a terminal session on 127.0.0.1, with a local stand-in for Cronofy"
STATUS_OFF = "runs only as its own terminal session: python -m bot console (or make demo)"
NO_MANIFEST = "The console needs no app manifest: run python -m bot console."
CANNOT_START = "The console could not start: {reason}"
BYE = "Bye. The throw-away store is deleted."
STILL_DELIVERING = "(Slotbot is still delivering; what it sends will appear when it is done.)"
INTERRUPTED = "(interrupted)"


def banner(bot_url: str, cronofy_url: str, people: Sequence[tuple[str, str]]) -> str:
    """What the console says when it starts. `people`: (handle, role) pairs."""
    who = ", ".join(f"{handle} ({role})" for handle, role in people)
    return "\n".join(
        [
            "Slotbot console: a throw-away Slotbot, nothing leaves this machine.",
            f"  Slotbot            {bot_url}",
            f"  Cronofy stand-in   {cronofy_url}",
            f"  People: {who}. Places: #hiring and each person's DM.",
            "Type Slotbot's commands as in Slack (try help, or /cronofy setup); "
            "console help lists the console's own words.",
            "",
        ]
    )


def console_help() -> Card:
    return Card(
        blocks=[
            Header("The console's own words"),
            Facts(
                [
                    Fact("as <person>", "Type as someone else: as ada (an admin), as rita"),
                    Fact("in #<channel> · in dm", "Go to a channel, or to your DM with Slotbot"),
                    Fact(
                        "simulate <event> <email>",
                        "The candidate acts on the link they were given (event: booked, "
                        "rescheduled, cancelled or declined): the Cronofy stand-in sends "
                        "Slotbot a signed callback",
                    ),
                    Fact("press <number>", "Press a numbered button of a card above"),
                    Fact("console help · quit", "This list · stop (Ctrl-D works too)"),
                ]
            ),
            Section("Everything else goes to Slotbot, exactly as typed in Slack or Teams."),
        ],
        fallback="The console's own words",
    )


ROLE_ADMIN = "admin"
ROLE_RECRUITER = "recruiter"
DM_PLACE = "DM"


def prompt(handle: str, place: str) -> str:
    return f"{handle} in {place}> "


def channel_label(name: str) -> str:
    return f"#{name}"


def dm_label(person: str) -> str:
    return f"{person}'s DM"


def now_as(name: str, role: str) -> str:
    return f"You are now {name} ({role})."


def now_in(place: str) -> str:
    return f"You are now in {place}."


def unknown_person(handle: str, known: Sequence[str]) -> str:
    return f"Nobody here is called {handle!r}: try {' or '.join(known)}."


def bad_place(text: str) -> str:
    return f"{text!r} is not a place: type in #<channel> (letters, digits, - and _) or in dm."


def no_such_button(number: str) -> str:
    return f"There is no button {number} on screen: press one of the numbers shown as [n …]."


# --- how Slotbot's answers are framed --------------------------------------------------------

RULE_WIDTH = 64


def heading(text: str) -> str:
    head = f"── {text} "
    return head + "─" * max(RULE_WIDTH - len(head), 3)


def private_heading(person: str) -> str:
    return heading(f"only {person} can see this")


def in_place_heading(person: str, *, form: bool) -> str:
    """An answer that takes the place of the form submitted (or the card whose button was
    pressed)."""
    what = "the form" if form else "that card"
    return heading(f"in place of {what}, only {person} can see this")


CONSOLE_HEADING = heading("the console")


def message_heading(place: str, number: int, *, updated: bool = False) -> str:
    return heading(f"{place} · message {number}{', updated' if updated else ''}")


def thread_heading(place: str, number: int, parent: int) -> str:
    return heading(f"{place} · reply {number} in the thread of message {parent}")


THREAD_INDENT = "    │ "


def press_hint(buttons: Sequence[tuple[int, str]]) -> str:
    """The line under a card that has buttons: how to press each one."""
    return "  " + " · ".join(f"press {n}: {one_line(label)}" for n, label in buttons)


# --- forms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One input of a form, as the console asks for it."""

    name: str
    label: str
    value: str = ""
    secret: bool = False
    required: bool = True
    choices: tuple[str, ...] = ()
    hint: str = ""


def form_fields(card: Card) -> list[FormField]:
    fields: list[FormField] = []
    for block in card.inputs:
        if isinstance(block, TextInput):
            fields.append(
                FormField(
                    block.name,
                    one_line(block.label),
                    block.value,
                    secret=block.secret,
                    required=block.required,
                    hint=one_line(block.hint),
                )
            )
        elif isinstance(block, ChoiceInput):
            fields.append(
                FormField(
                    block.name,
                    one_line(block.label),
                    block.value or "",
                    required=block.required,
                    choices=tuple(choice.value for choice in block.choices),
                    hint=one_line(block.hint),
                )
            )
    return fields


def form_intro(card: Card) -> str:
    return (
        f"{heading(one_line(card.title) or 'Form')}\n"
        "  Answer each field; Enter keeps the value in [brackets]. Ctrl-C cancels."
    )


def standin_keys(client_id: str, client_secret: str, data_center: str) -> str:
    return (
        "  The local Cronofy stand-in's application keys (Enter takes them):\n"
        f"    Client ID      {client_id}\n"
        f"    Client Secret  {client_secret}\n"
        f"    Data center    {data_center}"
    )


def field_prompt(field: FormField, suggestion: str) -> str:
    label = field.label + ("" if field.required else " (optional)")
    if field.choices:
        label += f" ({', '.join(field.choices)})"
    if suggestion:
        shown = "Enter for the one above" if field.secret else suggestion
        label += f" [{shown}]"
    return f"  {label}: "


SECRET_TYPED = "••••••"
FORM_CANCELLED = "Form cancelled: nothing was sent."


def form_problems(problems: dict[str, str], fields: Sequence[FormField]) -> str:
    """A refused form's problems, by the label of the field they are about."""
    labels = {field.name: field.label for field in fields}
    return "\n".join(
        f"  ✗ {labels[name]}: {one_line(text)}" for name, text in problems.items() if name in labels
    )


# --- buttons and links -----------------------------------------------------------------------


@dataclass(frozen=True)
class Press:
    """A button that sends something back to Slotbot (not a link, not a form's submit)."""

    label: str
    action_id: str
    value: str


def presses(card: Card) -> list[Press]:
    return [
        Press(button.label, button.action_id, button.value)
        for button in card.buttons
        if button.kind == "action" and not button.submit and button.action_id
    ]


def links(card: Card) -> list[str]:
    """Every URL the card shows: links, open-URL buttons, links inside text and facts."""
    found: list[str] = []
    for block in card.blocks:
        inline: list[object] = []
        if isinstance(block, Link):
            inline = [block]
        elif isinstance(block, Section | Footer):
            inline = list(parts(block.content))
        elif isinstance(block, Facts):
            inline = [p for fact in block.facts for p in parts(fact.value)]
        elif isinstance(block, Actions):
            inline = [b for b in block.buttons if b.kind == "open_url"]
        for item in inline:
            url = item.url if isinstance(item, Link | Button) else None
            if url and safe_url(url):
                found.append(url)
    return found


def connect_link(card: Card) -> str | None:
    """The URL of the card's Connect calendar button, when it has one."""
    for button in card.buttons:
        if button.kind == "open_url" and button.action_id == actions.CONNECT and button.url:
            return button.url
    return None


# --- connecting a calendar -------------------------------------------------------------------


def approve_question(email: str) -> str:
    return f"  The button opens Cronofy. Approve in Cronofy, signed in as {email}? [Y/n] "


def connect_outcome(title: str, message: str) -> str:
    return f"  Browser → Cronofy stand-in → Slotbot: {one_line(title)}. {one_line(message)}"


CONNECT_NO_PAGE = "the page could not be read"

# --- the simulated candidate -------------------------------------------------------------------

SIMULATE_KINDS = ("booked", "rescheduled", "cancelled", "declined")
SIMULATE_USAGE = "Type: simulate booked|rescheduled|cancelled|declined <candidate email>"
SIMULATE_NOT_SET_UP = "Cronofy is not set up yet: an admin runs /cronofy setup first."


def simulate_no_link(email: str) -> str:
    return (
        f"No link was handed to {email} in this session: a recruiter runs "
        f"/schedule link for {email} first."
    )


def simulate_sent(kind: str, who: str, status: int, answer: str) -> str:
    return f"Cronofy stand-in → Slotbot: {who} {kind}, signed callback answered {status} {answer}"


SIMULATED_NOTES = "Looking forward to it."
SIMULATED_PHONE = "+44 20 7946 0000"


def simulated_summary(who: str) -> str:
    return f"Interview with {who}"


# --- the Cronofy stand-in's pages ---------------------------------------------------------------

STANDIN_TITLE = "Cronofy stand-in"
STANDIN_AUTHORIZE = (
    "Slotbot asks to see your calendar's free/busy times and to create events. "
    "This is the console's local stand-in for Cronofy: nothing leaves this machine."
)
STANDIN_EMAIL = "Signed in as (email)"
STANDIN_NAME = "Your name"
STANDIN_APPROVE = "Approve"
STANDIN_DENY = "Deny"
STANDIN_UNKNOWN_CLIENT = "This link names an application the stand-in does not know."
STANDIN_NO_REDIRECT = "This link has no address to send you back to."
STANDIN_NO_LINK = "There is no such scheduling link."
STANDIN_BOOKING_PAGE = (
    "A candidate would pick a time here. In the console, type simulate booked <their email>."
)
STANDIN_BOOKING = (
    "A candidate would see, move or decline their interview here. In the console, type "
    "simulate rescheduled <their email> (or cancelled, declined)."
)
STANDIN_MEETING = "The interview's video call would be here."
