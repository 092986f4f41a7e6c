"""The console session in this process: typed lines in, the terminal's text out, against the
real app and the Cronofy stand-in on 127.0.0.1."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.console.delivery import ConsoleDelivery
from adapters.console.runtime import Running
from adapters.console.screen import Screen
from adapters.console.session import Session
from adapters.console.terminal import Terminal, command_words
from adapters.console.workspace import Workspace
from tests.support.secret_watch import register_secret

SETUP = ["/cronofy setup", "", "", ""]
CONNECT = ["as rita", "/schedule connect", "y"]

Console = Callable[..., str]


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """`console(*lines)`: the session run on those lines; what it printed."""
    out = io.StringIO()
    screen = Screen(out)
    workspace = Workspace()
    delivery = ConsoleDelivery(screen, workspace)
    running = Running(tmp_path, delivery)
    running.start()
    register_secret("console stand-in client secret", running.standin.client_secret)

    def run(*lines: str) -> str:
        stdin = io.StringIO("".join(line + "\n" for line in lines))
        terminal = Terminal(screen, stdin, interactive=False)
        Session(running, delivery, terminal, screen, workspace, settle_timeout=5).run()
        return out.getvalue()

    try:
        yield run
    finally:
        running.stop()


def test_the_consoles_own_words(console: Console) -> None:
    out = console(
        "console help",
        "as zed",
        "in ##",
        "press 9",
        "simulate",
        "simulate booked jane@example.com",
        "in dm",
        "as rita",
        "in #sales",
    )
    assert "simulate <event> <email>" in out
    assert "Nobody here is called 'zed'" in out
    assert "'##' is not a place" in out
    assert "There is no button 9" in out
    assert "Type: simulate booked|rescheduled|cancelled|declined" in out
    assert "Cronofy is not set up yet" in out
    assert "ada in DM> as rita" in out
    assert "rita in DM> in #sales" in out
    assert out.rstrip().endswith("Bye. The throw-away store is deleted.")


def test_keys_the_stand_in_does_not_know_are_refused(console: Console) -> None:
    out = console("/cronofy setup", "someone-else", "CRN_not_the_secret", "", "/cronofy status")
    assert "Client Secret [Enter for the one above]: ••••••" in out
    assert "CRN_not_the_secret" not in out  # a typed secret is not echoed
    assert "Cronofy rejected those keys" in out
    assert "✗ Client ID:" in out
    assert "not set up" in out.split("ada in #hiring> /cronofy status", 1)[1].lower()


def test_a_form_cut_short_sends_nothing(console: Console) -> None:
    out = console("/cronofy setup", "")
    assert "Cronofy keys saved" not in out
    assert out.rstrip().endswith("Bye. The throw-away store is deleted.")


def test_denying_in_cronofy_connects_nothing(console: Console) -> None:
    out = console(*SETUP, "as rita", "/schedule connect", "n", "/schedule status")
    assert "Approve in Cronofy, signed in as rita@example.com? [Y/n] n" in out
    assert "Browser → Cronofy stand-in → Slotbot: Calendar not connected." in out
    assert "Calendar connected" not in out


def test_share_posts_the_tracked_link_in_the_channel(console: Console) -> None:
    out = console(*SETUP, *CONNECT, "/schedule link for bob@example.com Bob", "press 1")
    # the first setup, asked in #hiring, is said there: Ada is its admin
    assert "── #hiring · message 1 " in out
    assert "Ada Admin set up Slotbot and is its admin." in out
    assert "── Rita Recruiter's DM · message 2 " in out  # the connect notice
    link = re.search(r"^(http://127\.0\.0\.1:\d+/rts/\S+correlation_id=sb\w+\S*)$", out, re.M)
    assert link is not None
    shared = out.split("rita in #hiring> press 1", 1)[1]
    assert shared.lstrip().startswith("── #hiring · message 3 ")
    assert link.group(1) in shared


def test_simulate_needs_a_link_handed_out_in_this_session(console: Console) -> None:
    out = console(*SETUP, "simulate booked bob@example.com")
    assert "No link was handed to bob@example.com in this session" in out


def test_completion_knows_the_command_words() -> None:
    words = command_words()
    for word in ("/schedule", "/cronofy", "setup", "connect", "link", "upcoming", "simulate"):
        assert word in words
    assert not any(w.startswith("<") or "." in w for w in words)
