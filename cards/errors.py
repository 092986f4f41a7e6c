"""Errors, notices and confirmations: every card (and short text) that tells a person what
went wrong, what happened, or asks them to confirm.

Error cards say what happened and what to do next. The texts at the end are what Slotbot's
errors carry for a person (`SlotbotError.public_message`) and what the chat adapters answer
on their own, outside any command.
"""

from __future__ import annotations

from collections.abc import Sequence

from cards import actions
from cards._shared import MAX_REASON
from cards._text import one_line, truncate
from cards.model import Actions, Button, Card, Element, Header, Inline, Section, Strong

# --- error cards --------------------------------------------------------------------------


def error_card(
    title: str, text: Inline | list[Inline], next_step: str, *, extra: Sequence[Element] = ()
) -> Card:
    """An error that says what happened (`text`) and what to do about it (`next_step`)."""
    return Card(
        blocks=[Header(title), Section(text), Section([Strong("What to do: "), next_step]), *extra],
        status="attention",
        fallback=f"{title}. {next_step[:1].upper()}{next_step[1:]}",
    )


def error(text: str, title: str = "That did not work") -> Card:
    """A short problem the person can act on (the message says what to do)."""
    return Card(
        blocks=[Header(title), Section(text)], status="attention", fallback=f"{title}: {text}"
    )


def error_not_admin() -> Card:
    return error_card(
        "Only Slotbot admins can do that",
        "/cronofy commands change the Cronofy set-up for everyone here.",
        "ask an admin to run it, or to add you with /cronofy admins add <you>. /cronofy admins shows who they are.",
    )


def error_not_connected(authorize_url: str) -> Card:
    return error_card(
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
                        action_id=actions.CONNECT,
                        style="primary",
                    )
                ]
            )
        ],
    )


def error_keys_rejected(reason: str) -> Card:
    return error_card(
        "Cronofy rejected those keys",
        ["Cronofy said: ", truncate(one_line(reason), MAX_REASON) or "the keys are not valid."],
        "check the Client ID, Client Secret and data center of your internal application in the Cronofy developer dashboard, then run /cronofy setup again. Nothing was saved.",
    )


def error_cronofy_unreachable() -> Card:
    return error_card(
        "Cronofy is not answering",
        "Slotbot could not reach Cronofy just now; nothing was changed.",
        "try again in a minute. If it keeps happening, check Cronofy's status page and that the data center is right (/cronofy status).",
    )


def error_usage(usage: str, problem: str) -> Card:
    return error_card(
        "That command needs a fix",
        truncate(one_line(problem), MAX_REASON) or "The command was not understood.",
        "use it like this:",
        extra=[Section(Strong(truncate(one_line(usage), 300)))],
    )


def error_setup_required() -> Card:
    return error_card(
        "Slotbot is not set up here yet",
        "An admin needs to enter the Cronofy keys before links and alerts work.",
        "ask an admin to run /cronofy setup.",
    )


def error_unexpected(reference: str) -> Card:
    return error_card(
        "Something went wrong on our side",
        "Slotbot hit an unexpected problem; nothing was half-done.",
        f"try again. If it happens again, give your admin this reference: {truncate(one_line(reference), 60)}",
    )


def error_store_down(*, try_again: bool = True) -> Card:
    """Slotbot's store is not answering; `try_again` adds when to try again."""
    text = "Slotbot cannot reach its store right now."
    return error(f"{text} Please try again shortly." if try_again else text)


# --- notices and confirmations ------------------------------------------------------------


def notice(title: str, text: str) -> Card:
    return Card(
        blocks=[Header(title), Section(text)], fallback=f"{one_line(title)}: {one_line(text)}"
    )


def note(text: str) -> Card:
    """A one-paragraph card, for short answers that need no title."""
    return Card(blocks=[Section(text)], fallback=text)


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
                    Button("Cancel", action_id=actions.CONFIRM_CANCEL, value=action_id),
                ]
            ),
        ],
        status="warning",
        fallback=f"Please confirm: {one_line(question)}",
    )


def cancelled() -> Card:
    """The answer to Cancel on a confirmation."""
    return notice("Cancelled", "Nothing was changed.")


def action_answer(replies: Sequence[Card]) -> str:
    """The short answer to a button press (where the platform shows one): an error says
    what went wrong, never "Done."."""
    for card in replies:
        if card.status == "attention":
            return card.fallback or "That did not work."
    return "Done." if replies else "Nothing to do."


# --- what Slotbot's errors say to a person ------------------------------------------------

SOMETHING_WENT_WRONG = "Something went wrong in Slotbot."
CREDENTIAL_UNREADABLE = "A stored credential can no longer be read: please reconnect."
NOT_ADMIN = "Only a Slotbot admin can do that."
CRONOFY_UNREACHABLE = "Cronofy could not be reached. Please try again in a minute."
COMMAND_NOT_AVAILABLE = "That command is not available."
BUTTON_GONE = "That button is no longer available."
CONFIRMATION_ELSEWHERE = "That confirmation belongs to another workspace."

# --- what the chat adapters answer on their own -------------------------------------------

APOLOGY = "Sorry, something went wrong in Slotbot."
OUTSIDE_TENANT = "Slotbot works inside a Microsoft Teams tenant."
SLACK_UNREACHABLE = (
    "Slotbot could not reach Slack just now, so it cannot answer this command. "
    "Please try again in a minute."
)
PRIVATE_REPLY_FAILED = (
    "I couldn't answer you privately: open a chat with Slotbot "
    "(Apps → Slotbot → Chat), say hi, then try again."
)


NOT_OFFERED_HERE = (
    "Slotbot doesn't offer that here. Type help in a chat with Slotbot to see what it does."
)


def unknown_command(command: str) -> str:
    """A slash command of the app that Slotbot has no answer for (the app's settings name
    more commands than Slotbot has)."""
    return f"Slotbot has no {one_line(command)[:40]} command. Try /schedule help or /cronofy help."


def answered_privately(person: str) -> str:
    """Said in a channel when the answer went to the person's 1:1 chat instead."""
    return f"{person or 'there'}, I've answered you privately in our 1:1 chat."
