"""`python -m bot serve` as a user starts it: SQLite by default, routes logged, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.secrets import generate_key

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "SLACK_", "MICROSOFT_", "TEAMS_", "CRONOFY_"))
    }
    env.update(extra)
    return env


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_until_up(url: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()[1]}")
        try:
            if get(url) == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not answer /healthz in time")


def test_serve_starts_on_sqlite_logs_what_is_on_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(BOT_PORT=str(port), BOT_HOST="127.0.0.1")
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
        assert get(f"http://127.0.0.1:{port}/readyz") == 200
        assert get(f"http://127.0.0.1:{port}/nowhere") == 404
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert (tmp_path / "data" / "slotbot.db").exists()
    key_file = tmp_path / "data" / "secret.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    assert "Slack: off (SLACK_SIGNING_SECRET is not set)" in stderr
    assert "Teams: off (MICROSOFT_APP_ID is not set" in stderr
    assert "BOT_SECRET_KEYS is not set" in stderr
    assert "http://localhost:3978/healthz" in stderr
    assert "/cronofy/push/{org_key}" in stderr
    assert "Slotbot stopped" in stderr
    assert stderr.count("Slack: off") == 1


def run_cli(cwd: Path, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot <command…>` to completion, as a user would from a shell."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=cwd,
        env={**clean_env(**env), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("with_key", [False, True], ids=["dev-key", "configured-key"])
def test_serve_names_a_sqlite_path_it_cannot_open(tmp_path: Path, with_key: bool) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be")
    result = run_cli(
        tmp_path,
        "serve",
        BOT_STORE_URL=f"sqlite:///{blocker}/slotbot.db",
        BOT_PORT=str(free_port()),
        BOT_SECRET_KEYS=generate_key() if with_key else "",
    )
    assert result.returncode != 0
    assert str(blocker) in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_names_an_invalid_secret_key(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", BOT_SECRET_KEYS="not-a-fernet-key")
    assert result.returncode != 0
    assert "BOT_SECRET_KEYS" in result.stderr
    assert "not-a-fernet-key" not in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_says_what_is_wrong(tmp_path: Path) -> None:
    nothing_on = run_cli(tmp_path, "doctor")
    assert nothing_on.returncode == 1
    assert "✗ no chat platform is on" in nothing_on.stdout
    local = run_cli(tmp_path, "doctor", TEAMS_DEV_MODE="1")
    assert local.returncode == 0, local.stdout + local.stderr
    assert "! TEAMS_DEV_MODE=1: Teams requests are NOT authenticated" in local.stdout
    assert "configuration and store look good" in local.stdout
    bad_store = run_cli(tmp_path, "doctor", BOT_STORE_URL="redis://127.0.0.1:1/0")
    assert bad_store.returncode == 1
    assert "✗ store" in bad_store.stdout
    bad_port = run_cli(tmp_path, "doctor", BOT_PORT="eighty")
    assert bad_port.returncode == 1
    assert "BOT_PORT" in bad_port.stdout
