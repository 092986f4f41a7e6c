"""The secret watch (tests/support/secret_watch.py) that checks every log line of the run
when the session ends: it sees Slotbot's log lines, and it finds a registered secret or a
token-shaped value in one, without ever printing the value."""

from __future__ import annotations

import logging

from tests.support.secret_watch import WATCH, SecretWatch


def test_every_log_line_of_the_run_reaches_the_watch() -> None:
    marker = "secret-watch-marker-3f9c"
    logging.getLogger("bot.alerts.worker").debug("debug line %s", marker)
    logging.getLogger("aiohttp.server").info("info line %s", marker)
    seen = [(source, text) for source, text in WATCH.lines if marker in text]
    assert ("bot.alerts.worker", f"debug line {marker}") in seen
    assert ("aiohttp.server", f"info line {marker}") in seen


def test_a_registered_secret_in_a_line_is_found_and_masked() -> None:
    watch = SecretWatch()
    watch.register("Cronofy client secret", "my-client-secret-value")
    watch.add("bot.cronofy", "refresh failed for body client_secret=my-client-secret-value&x=1")
    watch.add("bot.cronofy", "refresh failed (400)")
    (leak,) = watch.leaks()
    assert leak.label == "Cronofy client secret" and leak.source == "bot.cronofy"
    assert "my-client-secret-value" not in leak.line and "***" in leak.line


def test_token_shapes_are_found_without_being_registered() -> None:
    watch = SecretWatch()
    lines = {
        "Slack token": "posting with xoxb-T1-1234567890-abcdef",
        "Cronofy refresh token": "grant rt_" + "0123456789abcdef" * 2,
        "Cronofy client secret": "keys CRN_abcdefghijklmnop",
        "bearer token": "Authorization: Bearer abcdefghijklmnopqrstuvwxyz",
    }
    for text in lines.values():
        watch.add("adapters", text)
    watch.add("adapters", "Bearer token missing")  # a message about tokens, not a token
    assert sorted(leak.label for leak in watch.leaks()) == sorted(lines)
