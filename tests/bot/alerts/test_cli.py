import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.alerts.cli import deadletters_main
from bot.store.records import Job
from bot.store.sqlite import SQLiteStore


async def _dead_letter(path: Path) -> str:
    store = SQLiteStore(str(path))
    await store.open()
    try:
        await store.enqueue(
            [Job(job_id="job0001", org_id="slack:T1", kind="alert", created_at=1.0)]
        )
        [job] = await store.claim_jobs("c", limit=1, visibility_timeout=60)
        await store.dead_letter_job(job, "channel_not_found")
    finally:
        await store.close()
    return job.job_id


async def test_deadletters_list_and_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "slotbot.db"
    job_id = await _dead_letter(db)
    monkeypatch.setenv("BOT_STORE_URL", f"sqlite:///{db}")
    # the CLI runs its own event loop (asyncio.run): call it from a worker thread
    assert await asyncio.to_thread(deadletters_main, ["list"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith(job_id))
    assert "slack:T1" in line and "alert" in line and "channel_not_found" in line
    assert line.split()[3] == "1"  # attempts

    assert await asyncio.to_thread(deadletters_main, ["replay", job_id]) == 0
    assert "requeued 1 job(s)" in capsys.readouterr().out
    assert await asyncio.to_thread(deadletters_main, ["list"]) == 0
    assert "no dead letters" in capsys.readouterr().out


async def test_replay_without_ids_asks_for_all_and_takes_an_org(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "slotbot.db"
    await _dead_letter(db)
    monkeypatch.setenv("BOT_STORE_URL", f"sqlite:///{db}")
    with pytest.raises(SystemExit) as asked:
        await asyncio.to_thread(deadletters_main, ["replay"])
    assert asked.value.code == 2
    assert "--all" in capsys.readouterr().err
    # another org's dead letters are not this org's
    assert await asyncio.to_thread(deadletters_main, ["replay", "--all", "--org", "slack:T9"]) == 0
    assert "requeued 0 job(s)" in capsys.readouterr().out
    assert await asyncio.to_thread(deadletters_main, ["replay", "--all", "--org", "slack:T1"]) == 0
    assert "requeued 1 job(s)" in capsys.readouterr().out


def test_replay_on_no_store_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "none" / "slotbot.db"
    monkeypatch.setenv("BOT_STORE_URL", f"sqlite:///{db}")
    assert deadletters_main(["replay", "--all"]) == 0
    assert deadletters_main(["list"]) == 0
    assert not db.exists()
    assert "no dead letters" in capsys.readouterr().out


def test_deadletters_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        deadletters_main([])
    assert exc.value.code == 2


def test_worker_command_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BOT_STORE_URL": f"sqlite:///{tmp_path / 'slotbot.db'}",
        "LOG_LEVEL": "info",
    }
    for name in ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "MICROSOFT_APP_ID", "TEAMS_DEV_MODE"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        started = False
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if "outbox worker" in line and "started" in line:
                started = True
                break
            if not line and process.poll() is not None:
                break
        assert started, "the worker did not report that it started"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        rest = process.stderr.read()
        assert "stopped" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
