"""Setting Slotbot up with Cronofy: the setup form, what it answers, and resetting it.

The form's inputs are named by `cards.actions` (client_id, client_secret, data_center); the
field problems below are what the core answers a bad submission with, by input name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cards import actions
from cards._text import one_line
from cards.errors import confirm, note, notice
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
    Link,
    Section,
    Strong,
    TextInput,
)

DATA_CENTER_NAMES: dict[str, str] = {
    "us": "United States",
    "uk": "United Kingdom",
    "de": "Germany",
    "au": "Australia",
    "ca": "Canada",
    "sg": "Singapore",
}


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


# --- the setup form and its outcome -------------------------------------------------------


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
                actions.CLIENT_ID, "Client ID", value=client_id or "", placeholder="e.g. 2rVm6cNx…"
            ),
            TextInput(
                actions.CLIENT_SECRET,
                "Client Secret",
                secret=True,
                placeholder="paste the client secret",
                hint="Stored encrypted and never shown again.",
            ),
            ChoiceInput(
                actions.DATA_CENTER,
                "Data center",
                [Choice(code, data_center_label(code)) for code in DATA_CENTER_NAMES],
                value=data_center if data_center in DATA_CENTER_NAMES else "us",
                hint="Where your Cronofy account lives: app.cronofy.com is us, app-uk.cronofy.com is uk, …",
            ),
            Actions(
                [
                    Button(
                        "Save and check",
                        action_id=actions.SETUP_SUBMIT,
                        style="primary",
                        submit=True,
                    )
                ]
            ),
        ],
        fallback="Cronofy setup: enter your Client ID, Client Secret and data center",
        form_id=actions.SETUP_FORM,
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


def first_admin_announced(name: str) -> Card:
    """Said in the conversation the first setup was asked from: nobody chose this admin, so
    everyone there hears who it is."""
    who = one_line(name) or "Someone"
    return notice(
        "Slotbot is set up",
        f"{who} set up Slotbot and is its admin. /cronofy admins shows who the admins are.",
    )


# --- in place of the form ------------------------------------------------------------------

SUBMIT_LABEL = "Save"  # the submit button of the form where the platform draws its own


def checking_keys() -> Card:
    """Shown in place of the form while Cronofy is slow to answer."""
    return note("Checking your keys with Cronofy…")


def saved() -> Card:
    return note("Saved.")


def keys_not_accepted(problems: Mapping[str, str]) -> Card:
    """The form's field problems, when the form itself is no longer on screen."""
    return note(
        "The keys were not accepted: " + "; ".join(problems.values()) + " Run /cronofy setup again."
    )


def form_without_trigger() -> Card:
    return note("Slack sent no trigger to open the form.")


def form_not_opened() -> Card:
    return note("The setup form could not be opened; please run the command again.")


def form_pending(form_id: str) -> Card:
    """Shown in place of a submitted form while it is still being worked on."""
    return checking_keys() if form_id in actions.SETUP_FORMS else note("Working on it…")


SETUP_INCOMPLETE = "Setup did not complete. Please try again."


# --- what is wrong with the keys, by input name -------------------------------------------

CLIENT_ID_NEEDED = "Paste the Client ID from your Cronofy application (no spaces)."
CLIENT_SECRET_NEEDED = "Paste the Client Secret from your Cronofy application."
CHECK_SECRET_TOO = "Check the Client Secret and the data center too."


def choose_data_center(codes: Sequence[str]) -> str:
    return f"Choose one of: {', '.join(codes)}."


def keys_not_recognised(data_center: str) -> str:
    return (
        "Cronofy does not recognise this Client ID and Client Secret "
        f"in the {data_center} data center."
    )


def cronofy_busy(status: int) -> str:
    return f"Cronofy answered {status}; try again in a minute."


def cronofy_answered(status: int, error: str) -> str:
    return f"Cronofy answered {status} ({error or 'no reason given'})."


# --- resetting ----------------------------------------------------------------------------


def confirm_reset(org_id: str) -> Card:
    """/cronofy reset asks first; Yes sends the org it was asked for."""
    return confirm(
        "Remove this workspace's Cronofy keys? The push URL stops working and every "
        "recruiter has to reconnect after a new /cronofy setup.",
        actions.RESET_CONFIRM,
        org_id,
    )


def reset_done(removed: bool) -> Card:
    text = (
        "Cronofy keys removed. Run /cronofy setup to set up again."
        if removed
        else "Nothing to reset."
    )
    return notice("Cronofy reset", text)


def nothing_to_reset() -> Card:
    return notice("Nothing to reset", "Cronofy is not set up here.")
