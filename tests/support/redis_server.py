"""A real redis-server for tests, and the `store` fixture run over SQLite and Redis.

With REDIS_URL set, that server is used and each test works under its own key prefix (its
keys are deleted afterwards; nothing else on that server is touched). It must run as the
README says Redis must run for Slotbot, `appendonly yes` and `appendfsync always` (or be Redis
7.2 or later with `appendonly yes`): the Redis store refuses to open otherwise, naming what to
set. Otherwise a private redis-server is started on a free port with exactly those settings
(`bot.store.redis.durability.REDIS_CONF`), so fault tests can `kill()` it (SIGKILL) and
`start()` it again with its data. `private_redis()` starts one more of its own, with other
settings, for tests of what Slotbot makes of a Redis set up otherwise.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from bot.store.base import Store
from bot.store.redis import RedisStore
from bot.store.redis.durability import REDIS_CONF
from bot.store.sqlite import SQLiteStore

START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A redis-server the tests own (`managed`), or the one REDIS_URL names."""

    def __init__(
        self,
        url: str,
        *,
        folder: Path | None = None,
        port: int | None = None,
        conf: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        slow_fsync_ms: int = 0,
    ) -> None:
        self.url = url
        self.managed = folder is not None
        self._folder = folder
        self._port = port
        # redis.conf settings over the README's (REDIS_CONF), and raw arguments after them
        self._conf = {**REDIS_CONF, **(conf or {})}
        self._args = tuple(args)
        self.slow_fsync_ms = slow_fsync_ms
        self._process: subprocess.Popen[bytes] | None = None
        self._pid = 0  # redis-server's own (strace's child when the disk is made slow)

    def start(self) -> None:
        if not self.managed:
            pytest.skip("REDIS_URL names a server these tests do not own: cannot start it")
        if self._process is not None and self._process.poll() is None:
            return
        assert self._folder is not None
        self._process = subprocess.Popen(
            [
                *slow_disk(self.slow_fsync_ms),
                "redis-server",
                "--port",
                str(self._port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self._folder),
                "--save",
                "",
                "--daemonize",
                "no",
                *(part for name, value in self._conf.items() for part in (f"--{name}", value)),
                *self._args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        self._pid = int(client.info("server")["process_id"])
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
                if self._process is not None and self._process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self._process.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server at {self.url} did not answer PING")
                time.sleep(0.01)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save; what survives is what the AOF holds."""
        if not self.managed:
            pytest.skip("REDIS_URL names a server these tests do not own: cannot kill it")
        if self._process is not None and self._process.poll() is None:
            os.kill(self._pid or self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=START_TIMEOUT)
        self._process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.kill(self._pid or self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


@functools.cache
def can_slow_the_disk() -> bool:
    """Whether `slow_disk` works here: strace is installed and may trace (ptrace allowed)."""
    if shutil.which("strace") is None:
        return False
    try:
        done = subprocess.run(
            ["strace", "-f", "-qq", "-o", "/dev/null", "true"], capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def slow_disk(fsync_ms: int) -> tuple[str, ...]:
    """A command prefix under which every fsync and fdatasync of redis-server takes `fsync_ms`
    longer (strace's fault injection): the disk of a busy machine, on any machine. Nothing
    when `fsync_ms` is 0."""
    if fsync_ms <= 0:
        return ()
    if not can_slow_the_disk():
        pytest.skip("a slow disk is made with strace, which is not installed or may not trace")
    delay = f"delay_enter={fsync_ms * 1000}"
    return (
        "strace",
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        f"inject=fsync:{delay}",
        "-e",
        f"inject=fdatasync:{delay}",
    )


def _require_redis_server(hint: str = "install it") -> None:
    if shutil.which("redis-server") is None:
        reason = f"redis-server is not installed ({hint})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@contextmanager
def private_redis(
    folder: Path,
    conf: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    *,
    slow_fsync_ms: int = 0,
) -> Iterator[RedisServer]:
    """A redis-server of the caller's own (whatever REDIS_URL says), started in `folder` with
    these settings over the README's (on a disk made slow, `slow_disk`), stopped afterwards."""
    _require_redis_server()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = RedisServer(
        f"redis://127.0.0.1:{port}/0",
        folder=folder,
        port=port,
        conf=conf,
        args=args,
        slow_fsync_ms=slow_fsync_ms,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield RedisServer(url)
        return
    _require_redis_server("install it, or set REDIS_URL")
    port = free_port()
    server = RedisServer(
        f"redis://127.0.0.1:{port}/0", folder=tmp_path_factory.mktemp("redis"), port=port
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def redis_prefix(redis_server: RedisServer) -> Iterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    prefix = f"slotbot-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # a fault test may have left the server down: nothing to clean then
    finally:
        client.close()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("redis", id="redis", marks=pytest.mark.redis),
    ]
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "sqlite":
        opened = SQLiteStore(str(tmp_path / "store" / "slotbot.db"))
    else:
        url: str = request.getfixturevalue("redis_url")
        opened = RedisStore(url, prefix=request.getfixturevalue("redis_prefix"))
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
