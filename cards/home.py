"""The App Home tab: the member's connection and link, then what their commands show."""

from __future__ import annotations

from collections.abc import Sequence

from cards import actions
from cards.model import Actions, Button, Card, Divider, Element, Footer, Header, Section, Strong


def home(
    *,
    connected: bool,
    email: str | None = None,
    name: str | None = None,
    connect_url: str | None = None,
    set_up: bool = True,
    public_link: str | None = None,
    sections: Sequence[Sequence[Element]] = (),
) -> Card:
    """`connect_url` is offered while the calendar is not connected (there is none before the
    org is `set_up`); `sections` are the blocks of the cards the member's commands answer
    with (upcoming interviews; for admins, the org's status), each after a divider."""
    blocks: list[Element] = [Header("Slotbot")]
    if connected:
        who = email or name or "your calendar"
        blocks.append(Section(["✅ Calendar connected as ", Strong(who)]))
    else:
        blocks.append(Section("Your calendar is not connected yet."))
        if connect_url is not None:
            blocks.append(
                Actions(
                    [
                        Button(
                            "Connect your calendar",
                            kind="open_url",
                            url=connect_url,
                            style="primary",
                        )
                    ]
                )
            )
        elif not set_up:
            blocks.append(
                Footer("An admin needs to run /cronofy setup before calendars can be connected.")
            )
        else:
            blocks.append(Footer("Run /schedule connect to connect your calendar."))

    if public_link:
        blocks.append(Section(["Your scheduling link: ", public_link]))
        blocks.append(
            Actions([Button("Share link", action_id=actions.SHARE_LINK, value=public_link)])
        )
    else:
        blocks.append(Footer("Set your scheduling link with /schedule link set <url>."))

    for section in sections:
        blocks.append(Divider())
        blocks += section
    return Card(blocks=blocks, fallback="Slotbot home")
