"""Shared fixtures: real redis-server, upstream fakes, settings and stores."""

pytest_plugins = [
    "tests.support.redis_server",
    "tests.fakes.fixtures",
    "tests.support.secret_watch",
]
