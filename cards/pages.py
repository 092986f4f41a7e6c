"""What the browser pages Slotbot serves say: the end of a recruiter's calendar connect
(Cronofy's OAuth redirect) and the page a candidate lands on after booking.

Each is a title and one paragraph of plain text; the HTTP route escapes them into HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Page:
    title: str
    message: str


ConnectProblem = Literal[
    "no_state",
    "unrecognised",
    "used",
    "expired",
    "denied",
    "not_completed",
    "no_code",
    "code_used",
    "unreachable",
    "store_down",
]

_CONNECT_FAILED: dict[ConnectProblem, Page] = {
    "no_state": Page(
        "Link incomplete",
        "This sign-in link has no valid state. Run /schedule connect again for a new link.",
    ),
    "unrecognised": Page(
        "Link not recognised",
        "Slotbot does not recognise this connect link. Run /schedule connect again for a new link.",
    ),
    "used": Page(
        "Link already used",
        "This connect link was already used. "
        "Run /schedule connect again if your calendar is not connected.",
    ),
    "expired": Page(
        "Link expired",
        "This connect link has expired (links last 10 "
        "minutes). Run /schedule connect again for a new link.",
    ),
    "denied": Page(
        "Calendar not connected",
        "You did not allow Slotbot to use "
        "your calendar, so nothing was connected. Run /schedule connect "
        "whenever you want to try again.",
    ),
    "not_completed": Page(
        "Calendar not connected",
        "Cronofy did not complete the sign-in, "
        "so nothing was connected. Run /schedule connect to try again.",
    ),
    "no_code": Page(
        "Link incomplete",
        "Cronofy did not send a sign-in code. Run /schedule connect again.",
    ),
    "code_used": Page(
        "Sign-in already used",
        "Cronofy says this sign-in was already used or has expired. Run /schedule connect again.",
    ),
    "unreachable": Page(
        "Cronofy unreachable",
        "Cronofy could not be reached, so nothing "
        "was connected. Run /schedule connect again in a minute.",
    ),
    "store_down": Page(
        "Please try again",
        "Slotbot could not save your connection just now. Run /schedule connect again in a minute.",
    ),
}


def connect_failed(problem: ConnectProblem) -> Page:
    return _CONNECT_FAILED[problem]


def connect_refused(status: int) -> Page:
    """Cronofy answered the code exchange with an error of its own."""
    return Page(
        "Calendar not connected",
        f"Cronofy refused the connection ({status}). Run /schedule connect to try again.",
    )


def connect_not_set_up(reason: str) -> Page:
    """The org's Cronofy keys are missing or unreadable; `reason` says which."""
    return Page("Cronofy not set up", reason)


def connected(account: str) -> Page:
    return Page(
        "Calendar connected",
        f"Calendar connected as {account}. You can close this tab and go back to the chat.",
    )


def booked() -> Page:
    """For the candidate: the same words for everyone, nothing about the booking."""
    return Page("Thanks, your interview is booked", "You can close this page.")


def too_many_requests() -> Page:
    """A browser page asked for too often from one address (the answer is a 429)."""
    return Page(
        "Too many requests",
        "Slotbot received too many requests from your address. Wait a minute, then try again.",
    )


def server_home(platforms_on: list[str]) -> Page:
    """`GET /`: what this server is and where people talk to it; nothing else (no settings,
    no version, no org)."""
    where = (
        ", ".join(platforms_on)
        if platforms_on
        else "no chat platform yet (see `python -m bot doctor`)"
    )
    return Page(
        "Slotbot",
        "This is Slotbot, a scheduling bot for recruiting teams: it shares Cronofy scheduling "
        "links and tells the hiring team when candidates book. People talk to it in: "
        f"{where}.",
    )
