"""`python -m bot serve --processes 2`: two serving processes answer on the one port (each
connection is served by one of the two, and both serve some), on SQLite and on Redis, and
SIGTERM to the parent stops both cleanly (exit 0, each finishing its in-flight work)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.secrets import generate_key
from tests.scenarios.test_serve import ROOT, clean_env, free_port, wait_until_up
from tests.support.redis_server import RedisServer
from tests.support.secret_watch import register_secret, watch_text

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads who serves a connection from /proc"
)

CONNECTIONS = 40
REDIS_DB = 12


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _server_side_inode(port: int, client_port: int) -> str | None:
    """The inode of the server's end of the connection 127.0.0.1:client_port -> port."""
    local, remote = f"0100007F:{port:04X}", f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    return None


def _owner(pids: list[int], inode: str) -> int | None:
    want = f"socket:[{inode}]"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == want:
                    return pid
            except OSError:
                continue
    return None


def _healthz(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'slotbot.db'}"
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    if not server.managed:
        pytest.skip("needs a redis-server these tests own (REDIS_URL is set)")
    url = server.url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    flush = redis.Redis.from_url(url)
    flush.flushdb()
    try:
        yield url
    finally:
        flush.flushdb()
        flush.close()


def test_serve_processes_answers_on_one_port_from_two_pids_and_stops_on_sigterm(
    tmp_path: Path, store_url: str
) -> None:
    port = free_port()
    key = generate_key()
    register_secret("BOT_SECRET_KEYS", key)
    env = clean_env(
        BOT_PORT=str(port),
        BOT_HOST="127.0.0.1",
        BOT_STORE_URL=store_url,
        BOT_SECRET_KEYS=key,
        PYTHONPATH=str(ROOT),
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        parent = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--processes", "2"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", parent)
        deadline = time.monotonic() + 30
        while log.read_text().count("listening on") < 2:  # the second may still be starting
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        children = _children(parent.pid)
        assert len(children) == 2
        served_by: list[int | None] = []
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
        try:
            for sock in sockets:
                assert b" 200 " in _healthz(sock).split(b"\r\n", 1)[0] + b" "
                inode = _server_side_inode(port, sock.getsockname()[1])
                served_by.append(None if inode is None else _owner(children, inode))
        finally:
            for sock in sockets:
                sock.close()
        assert None not in served_by, served_by  # every connection is one of the two's
        assert set(served_by) == set(children)  # and each of them served some
    finally:
        parent.send_signal(signal.SIGTERM)
        try:
            code = parent.wait(timeout=60)
        except subprocess.TimeoutExpired:
            parent.kill()
            raise
    output = log.read_text()
    watch_text("python -m bot serve --processes 2", output)
    assert code == 0, output[-3000:]
    assert output.count("Slotbot stopped") == 2, output[-3000:]
    for child in children:
        assert not Path(f"/proc/{child}").exists()  # reaped: none left behind


def test_serve_processes_stops_when_a_process_cannot_start(tmp_path: Path) -> None:
    """A setting a child cannot start with ends the whole serve, not a restart loop."""
    env = clean_env(
        BOT_PORT=str(free_port()),
        BOT_HOST="127.0.0.1",
        BOT_STORE_URL=f"sqlite:///{tmp_path}",  # a folder: the store cannot open
        BOT_SECRET_KEYS=generate_key(),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--processes", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "while starting: stopping the others" in done.stderr
