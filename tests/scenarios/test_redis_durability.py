"""`python -m bot serve` and `doctor` on a Redis that may lose what it acknowledges
(`appendfsync everysec`), as an operator meets them: strict (the default) refuses to start and
says what to set; BOT_REDIS_DURABILITY=relaxed starts with a loud warning."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.secrets import generate_key
from tests.scenarios.test_serve import ROOT, clean_env, free_port, run_cli, wait_until_up
from tests.support.redis_server import RedisServer, private_redis

pytestmark = pytest.mark.redis

TEAMS_LOCAL = {"TEAMS_DEV_MODE": "1"}  # a chat platform on, so doctor judges the store alone


@pytest.fixture
def everysec(tmp_path: Path) -> Iterator[RedisServer]:
    with private_redis(tmp_path / "redis", {"appendfsync": "everysec"}) as server:
        yield server


def test_serve_refuses_a_redis_that_fsyncs_every_second(
    tmp_path: Path, everysec: RedisServer
) -> None:
    result = run_cli(
        tmp_path,
        "serve",
        BOT_STORE_URL=everysec.url,
        BOT_SECRET_KEYS=generate_key(),
        BOT_PORT=str(free_port()),
        **TEAMS_LOCAL,
    )
    assert result.returncode == 1
    assert "cannot start: Redis store redis://127.0.0.1:" in result.stderr
    assert "appendfsync is everysec" in result.stderr
    assert "`CONFIG SET appendfsync always`" in result.stderr
    assert "BOT_REDIS_DURABILITY=relaxed" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_relaxed_starts_with_a_loud_warning(tmp_path: Path, everysec: RedisServer) -> None:
    port = free_port()
    env = clean_env(
        BOT_STORE_URL=everysec.url,
        BOT_SECRET_KEYS=generate_key(),
        BOT_REDIS_DURABILITY="relaxed",
        BOT_HOST="127.0.0.1",
        BOT_PORT=str(port),
        **TEAMS_LOCAL,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "WARNING" in stderr and "is NOT DURABLE and BOT_REDIS_DURABILITY=relaxed" in stderr
    assert "appendfsync is everysec" in stderr


def test_doctor_says_what_to_set_or_warns_when_relaxed(
    tmp_path: Path, everysec: RedisServer
) -> None:
    env = {"BOT_STORE_URL": everysec.url, "BOT_SECRET_KEYS": generate_key(), **TEAMS_LOCAL}
    strict = run_cli(tmp_path, "doctor", **env)
    assert strict.returncode == 1
    assert re.search(r"^  redis_durability +strict$", strict.stdout, re.MULTILINE)
    assert "✗ store: Redis may lose writes Slotbot acknowledged" in strict.stdout
    assert "`CONFIG SET appendfsync always`" in strict.stdout

    relaxed = run_cli(tmp_path, "doctor", BOT_REDIS_DURABILITY="relaxed", **env)
    assert relaxed.returncode == 0, relaxed.stdout
    assert "! store: Redis is NOT DURABLE and BOT_REDIS_DURABILITY=relaxed" in relaxed.stdout
    assert "configuration and store look good" in relaxed.stdout

    wrong = run_cli(tmp_path, "doctor", BOT_REDIS_DURABILITY="sometimes", **env)
    assert wrong.returncode == 1
    assert "BOT_REDIS_DURABILITY must be one of strict, relaxed" in wrong.stdout
