"""Every log line of the test run, checked at the end for secrets.

A pytest plugin (listed in tests/conftest.py): at start it puts one handler on the root
logger that keeps every line the run writes (message and traceback), with logging levels as
a deployment sets them (`bot.logs.configure`: INFO, chatty SDKs at WARNING) and Slotbot's own
packages at DEBUG. Tests register the secret values they use (`register_secret`), the
secret constants of the shared test helpers are registered at the end, and a few shapes
are secrets whatever their value (Slack tokens, Cronofy client secrets and tokens, bearer
tokens, JWTs). Output of processes a test runs (`python -m bot serve`) is added with
`watch_text`. When the session ends, a line holding any of them fails the run; the report
names the secret by label and shows the line with the value masked, never the value.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

# secret constants of the shared helpers: (module, attribute, label)
HELPER_SECRETS = (
    ("tests.adapters.slack.support", "SIGNING_SECRET", "Slack signing secret"),
    ("tests.adapters.slack.support", "BOT_TOKEN", "Slack bot token"),
    ("tests.adapters.teams.support", "APP_PASSWORD", "Microsoft app password"),
    ("tests.fakes.cronofy", "DEFAULT_CLIENT_SECRET", "Cronofy client secret"),
    ("tests.bot.alerts.pipeline", "CLIENT_SECRET", "Cronofy client secret"),
)

# shapes that are secrets whatever the value (token formats of Slack, Cronofy and the fakes)
SECRET_SHAPES = (
    ("Slack token", re.compile(r"xox[abpeor]-[A-Za-z0-9-]{6,}")),
    ("Cronofy client secret", re.compile(r"\bCRN_[A-Za-z0-9_]{8,}")),
    ("Cronofy access token", re.compile(r"\bat_[0-9a-f]{32}\b")),
    ("Cronofy refresh token", re.compile(r"\brt_[0-9a-f]{32}\b")),
    ("Bot Framework token", re.compile(r"\bfake-bf-[0-9a-f]{24}\b")),
    ("bearer token", re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{16,}")),
    ("Slotbot API token", re.compile(r"\bslotbot_[0-9a-f]{64}\b")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")),
)

# loggers that a deployment keeps at WARNING (bot.logs.configure)
QUIET_LOGGERS = ("slack_bolt", "slack_sdk", "msrest", "urllib3", "aiohttp.access")
OWN_LOGGERS = ("bot", "adapters", "cards")
MIN_SECRET_LENGTH = 6  # shorter values would match ordinary words


@dataclass
class Leak:
    label: str
    source: str
    line: str  # with the secret masked


@dataclass
class SecretWatch:
    """The secrets known so far and the lines written so far."""

    secrets: dict[str, str] = field(default_factory=dict)  # value -> label
    lines: list[tuple[str, str]] = field(default_factory=list)  # (source, text)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, label: str, *values: str | None) -> None:
        with self._lock:
            for value in values:
                if value and len(value) >= MIN_SECRET_LENGTH:
                    self.secrets[value] = label

    def add(self, source: str, text: str) -> None:
        with self._lock:
            self.lines.append((source, text))

    def leaks(self) -> list[Leak]:
        with self._lock:
            secrets = sorted(self.secrets.items(), key=lambda kv: -len(kv[0]))
            lines = list(self.lines)
        found: list[Leak] = []
        for source, text in lines:
            labels = [label for value, label in secrets if value in text]
            labels += [label for label, shape in SECRET_SHAPES if shape.search(text)]
            if labels:
                masked = _mask(text, [value for value, _ in secrets])
                found += [Leak(label, source, masked) for label in labels]
        return found


def _mask(text: str, values: Iterable[str]) -> str:
    """The line with every known secret and every token-shaped value replaced by ***."""
    for value in values:
        text = text.replace(value, "***")
    for _label, shape in SECRET_SHAPES:
        text = shape.sub("***", text)
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:300] + "…"


class _Keeper(logging.Handler):
    def __init__(self, watch: SecretWatch) -> None:
        super().__init__(logging.NOTSET)
        self.watch = watch
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a badly formatted record: keep its parts
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        self.watch.add(record.name, text)


WATCH = SecretWatch()
_keeper = _Keeper(WATCH)


def register_secret(label: str, *values: str | None) -> None:
    """Tell the end-of-run check about secret values a test uses (tokens, keys, passwords)."""
    WATCH.register(label, *values)


def watch_text(source: str, text: str) -> None:
    """Add output that did not go through this process's logging (a child process's stderr)."""
    for line in text.splitlines():
        WATCH.add(source, line)


def _register_helper_secrets() -> None:
    for module_name, attribute, label in HELPER_SECRETS:
        module = sys.modules.get(module_name)
        value = getattr(module, attribute, None) if module is not None else None
        if isinstance(value, str):
            WATCH.register(label, value)


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_keeper)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_keeper)
    _register_helper_secrets()
    leaks = WATCH.leaks()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"secret watch: {len(WATCH.lines)} log lines checked against "
            f"{len(WATCH.secrets)} known secrets and {len(SECRET_SHAPES)} token shapes"
        )
    if not leaks:
        return
    if reporter is not None:
        reporter.write_line(f"secret watch: {len(leaks)} log line(s) hold a secret:", red=True)
        for leak in leaks[:20]:
            reporter.write_line(f"  {leak.label} in {leak.source}: {leak.line}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
