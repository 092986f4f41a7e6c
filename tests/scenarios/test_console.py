"""`python -m bot console` as a person uses it, with its input piped in: set up Cronofy, route
alerts, connect a calendar, hand a candidate a link, and watch their booking and reschedule
arrive in the channel and the recruiter's DM.

The subcommand comes from the console platform's entry point (`Platform.commands()`). Where
this checkout is not installed with that entry point yet, the test gives the child process a
minimal distribution declaring it, beside the checkout on PYTHONPATH; once installed it runs
as is. `python -m adapters.console` is the same session without the entry point.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

from tests.scenarios.test_serve import ROOT, clean_env
from tests.support.secret_watch import register_secret, watch_text

LIMIT = 60.0
SESSION = [
    "/cronofy setup",
    "",  # Client ID: the stand-in's
    "",  # Client Secret: the stand-in's
    "",  # data center: us
    "/cronofy alerts here",
    "as rita",
    "/schedule connect",
    "y",
    "/schedule link for jane@example.com Jane Doe",
    "simulate booked jane@example.com",
    "simulate rescheduled jane@example.com",
    "/schedule upcoming",
    "quit",
]
HEADING = re.compile(r"^(?:    │ )?── (.+?) ─+$")


def console_entry_point(tmp_path: Path) -> list[str]:
    """Extra PYTHONPATH entries that make `python -m bot console` resolvable."""
    if any(point.name == "console" for point in entry_points(group="slotbot.platforms")):
        return []
    meta = tmp_path / "meta" / "slotbot_console_entry-0.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: slotbot-console-entry\nVersion: 0\n"
    )
    (meta / "entry_points.txt").write_text(
        "[slotbot.platforms]\nconsole = adapters.console:platform\n"
    )
    return [str(meta.parent)]


def blocks(out: str) -> list[tuple[str, str]]:
    """(heading, text) of every framed card printed, in order; a block ends at the next heading
    or prompt."""
    found: list[tuple[str, list[str]]] = []
    for line in out.splitlines():
        heading = HEADING.match(line)
        if heading:
            found.append((heading.group(1), []))
        elif re.match(r"^\w+ in \S+> ", line):
            found.append(("prompt", [line]))
        elif found:
            found[-1][1].append(line)
    return [(h, "\n".join(lines)) for h, lines in found if h != "prompt"]


def test_a_booking_and_its_reschedule_in_the_terminal(tmp_path: Path) -> None:
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths = [str(ROOT), *inherited, *console_entry_point(tmp_path)]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="".join(line + "\n" for line in SESSION),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=os.pathsep.join(paths)),
        timeout=LIMIT,
    )
    took = time.monotonic() - started
    out = done.stdout
    secret = re.search(r"Client Secret  (CRN_\w+)", out)
    assert secret is not None, out
    register_secret("console stand-in client secret", secret.group(1))
    watch_text("python -m bot console", done.stderr)
    assert done.returncode == 0, done.stderr
    assert took < LIMIT
    assert not list(tmp_path.glob("data")), "the console writes nothing where it is run"

    # setup took the stand-in's keys, alerts go to #hiring, Rita connected in the terminal
    assert "Cronofy keys saved" in out
    assert "#hiring now gets alerts about" in out
    assert "Browser → Cronofy stand-in → Slotbot: Calendar connected." in out
    assert "Scheduling link for Jane Doe" in out

    after_booked = out.split("> simulate booked jane@example.com", 1)[1]
    booked = blocks(after_booked.split("> simulate rescheduled jane@example.com", 1)[0])
    channel = [(h, t) for h, t in booked if h.startswith("#hiring · message")]
    dm = [(h, t) for h, t in booked if h.startswith("Rita Recruiter's DM · message")]
    assert len(channel) == 1 and len(dm) == 1 and len(booked) == 2, booked
    (channel_heading, channel_text), (_dm_heading, dm_text) = channel[0], dm[0]
    number = channel_heading.removeprefix("#hiring · message ")
    assert number.isdigit()
    # the channel hears the candidate's name only; the recruiter gets the details
    assert "Interview booked: Jane Doe" in channel_text
    assert "jane@example.com" not in channel_text and "+44" not in channel_text
    assert "Interview booked: Jane Doe" in dm_text and "jane@example.com" in dm_text

    # the reschedule updates the same message in place, and says so in its thread
    after = out.split("> simulate rescheduled jane@example.com", 1)[1]
    rescheduled = dict(blocks(after.split("> /schedule upcoming", 1)[0]))
    assert f"#hiring · message {number}, updated" in rescheduled
    assert "Interview rescheduled: Jane Doe" in rescheduled[f"#hiring · message {number}, updated"]
    assert any(
        h.startswith("#hiring · reply") and h.endswith(f"in the thread of message {number}")
        for h in rescheduled
    )
    assert "Your upcoming interviews" in out and "Jane Doe (rescheduled)" in out
    assert out.rstrip().endswith("Bye. The throw-away store is deleted.")


def test_the_module_runs_without_the_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "adapters.console", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(ROOT)),
        timeout=LIMIT,
    )
    assert done.returncode == 0 and "python -m bot console" in done.stdout
    wrong = subprocess.run(
        [sys.executable, "-m", "adapters.console", "--nonsense"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(ROOT)),
        timeout=LIMIT,
    )
    assert wrong.returncode == 2 and "--nonsense" in wrong.stderr
