"""ConsoleDelivery: numbered messages in the terminal, updated in place, replies in their thread,
and the neutral failures the outbox worker acts on."""

from __future__ import annotations

import io

import pytest

from adapters.console.delivery import ConsoleDelivery
from adapters.console.screen import Screen
from adapters.console.workspace import Workspace
from bot.chat import DeliveryAdapter, DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError
from bot.store.records import MessageRef
from cards import actions
from cards.model import Actions, Button, Card, Header, Section

ORG = "console:local"


def card(title: str, *, button: bool = False) -> Card:
    blocks: list = [Header(title), Section(f"{title}, in words")]
    if button:
        blocks.append(
            Actions([Button("Candidate profile", action_id=actions.CANDIDATE_PROFILE, value="c1")])
        )
    return Card(blocks=blocks, fallback=title)


def channel(name: str = "hiring", org: str = ORG) -> DeliveryTarget:
    return DeliveryTarget("console", org, "channel", conversation_id=name)


def dm(user: str = "rita") -> DeliveryTarget:
    return DeliveryTarget("console", ORG, "dm", user_id=user)


@pytest.fixture
def terminal() -> tuple[ConsoleDelivery, io.StringIO]:
    out = io.StringIO()
    return ConsoleDelivery(Screen(out), Workspace()), out


def test_it_is_a_delivery_adapter(terminal: tuple[ConsoleDelivery, io.StringIO]) -> None:
    delivery, _out = terminal
    assert isinstance(delivery, DeliveryAdapter)
    assert delivery.platform == "console"


async def test_posts_are_numbered_per_session_with_their_place(
    terminal: tuple[ConsoleDelivery, io.StringIO],
) -> None:
    delivery, out = terminal
    first = await delivery.send(channel(), card("Interview booked"))
    second = await delivery.send(dm(), card("Calendar connected"))
    assert first == MessageRef("console", "hiring", "1")
    assert second == MessageRef("console", "dm-rita", "2")
    text = out.getvalue()
    assert "── #hiring · message 1 " in text
    assert "── Rita Recruiter's DM · message 2 " in text
    assert text.index("Interview booked") < text.index("Calendar connected")


async def test_an_update_reprints_the_same_number_and_replies_go_under_it(
    terminal: tuple[ConsoleDelivery, io.StringIO],
) -> None:
    delivery, out = terminal
    ref = await delivery.send(channel(), card("Interview booked"))
    await delivery.update(ref, card("Interview rescheduled"))
    reply = await delivery.reply_in_thread(ref, card("Rescheduled: now Tuesday"))
    again = await delivery.reply_in_thread(reply, card("Cancelled"))
    assert reply == MessageRef("console", "hiring", "2", thread_id="1")
    assert again.thread_id == "1"  # a reply to a reply stays in the message's thread
    lines = out.getvalue().splitlines()
    assert any(line.startswith("── #hiring · message 1, updated ") for line in lines)
    threaded = [line for line in lines if "in the thread of message 1" in line]
    assert len(threaded) == 2 and all(line.startswith("    │ ── ") for line in threaded)
    assert "    │ Rescheduled: now Tuesday" in lines
    assert delivery.messages[1].card.title == "Interview rescheduled"


async def test_buttons_are_numbered_for_press(
    terminal: tuple[ConsoleDelivery, io.StringIO],
) -> None:
    delivery, out = terminal
    await delivery.send(channel(), card("Interview booked", button=True))
    await delivery.send(dm(), card("Interview booked", button=True))
    assert "press 1: Candidate profile" in out.getvalue()
    assert "press 2: Candidate profile" in out.getvalue()
    pressed = delivery.screen.button(2)
    assert pressed is not None
    assert (pressed.conversation_id, pressed.action_id, pressed.value) == (
        "dm-rita",
        actions.CANDIDATE_PROFILE,
        "c1",
    )
    assert delivery.screen.button(3) is None


@pytest.mark.parametrize(
    ("target", "failure"),
    [
        (channel("sales"), DeliveryFailure.NOT_MEMBER),
        (dm("nobody"), DeliveryFailure.GONE),
        (channel(org="slack:T1"), DeliveryFailure.REJECTED),
    ],
)
async def test_what_the_console_cannot_deliver(
    terminal: tuple[ConsoleDelivery, io.StringIO], target: DeliveryTarget, failure: DeliveryFailure
) -> None:
    delivery, out = terminal
    with pytest.raises(DeliveryError) as raised:
        await delivery.send(target, card("Interview booked"))
    assert raised.value.failure is failure
    assert out.getvalue() == ""


async def test_a_message_not_in_this_session_is_gone(
    terminal: tuple[ConsoleDelivery, io.StringIO],
) -> None:
    delivery, _out = terminal
    ref = await delivery.send(channel(), card("Interview booked"))
    for stale in (
        MessageRef("console", "hiring", "7"),
        MessageRef("console", "dm-rita", ref.message_id),
        MessageRef("console", "hiring", "1.5"),
    ):
        with pytest.raises(DeliveryError) as raised:
            await delivery.update(stale, card("Interview rescheduled"))
        assert raised.value.failure is DeliveryFailure.GONE
        with pytest.raises(DeliveryError):
            await delivery.reply_in_thread(stale, card("Cancelled"))
