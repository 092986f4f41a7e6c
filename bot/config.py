"""Settings: the one place Slotbot reads its environment.

`Settings.from_env()` validates every variable at start-up with a message that names it.
`repr()` masks every secret, so a Settings object may be logged.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import ConfigError

DEFAULT_PUBLIC_URL = "http://localhost:3978"
DEFAULT_STORE_URL = "sqlite:///data/slotbot.db"
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
# strict: the Redis store refuses to start unless every write it acknowledges is on disk first
# (bot.store.redis.durability); relaxed: it starts anyway, with a loud warning
REDIS_DURABILITY = ("strict", "relaxed")

_SECRET_FIELDS = frozenset({"secret_keys", "metrics_token"})
# the shortest METRICS_TOKEN accepted: a bearer token guessed by brute force over HTTP
# must not be short
MIN_METRICS_TOKEN = 16


def mask(value: str | None) -> str:
    """Show that a secret is set without showing it."""
    if not value:
        return "(not set)"
    return f"***{len(value)} chars"


def http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _port(name: str, value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a port number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be between 0 and 65535, got {port}")
    return port


def choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def check_store_url(value: str, name: str = "BOT_STORE_URL") -> str:
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return value
    if value.startswith(("redis://", "rediss://", "unix://")):
        return value
    raise ConfigError(
        f"{name} must be sqlite:///path/to/file.db or redis://host:port/db, got "
        f"{_mask_url_password(value)!r}"
    )


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 300:
        raise ConfigError(f"{name} must be between 0 and 300 seconds, got {value!r}")
    return seconds


def _whole(name: str, value: str, low: int, high: int, meaning: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be {meaning}, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value!r}")
    return number


def _metrics_token(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) < MIN_METRICS_TOKEN or not value.isascii() or not value.isprintable():
        raise ConfigError(
            f"{name} must be at least {MIN_METRICS_TOKEN} printable ASCII characters "
            "(make one with `python -m bot genkey`)"
        )
    if any(c.isspace() for c in value):
        raise ConfigError(f"{name} must not contain spaces")
    return value


def flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {value!r}")


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """A variable's value, stripped; None when it is unset or blank."""
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def redis_durability(environ: Mapping[str, str] | None = None) -> str:
    """BOT_REDIS_DURABILITY, checked; read alone too by a command that takes its store URLs
    as arguments (`store copy`)."""
    env = os.environ if environ is None else environ
    return choice(
        "BOT_REDIS_DURABILITY",
        env_value(env, "BOT_REDIS_DURABILITY") or REDIS_DURABILITY[0],
        REDIS_DURABILITY,
    )


def _csv(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    public_url: str = DEFAULT_PUBLIC_URL
    host: str = "0.0.0.0"  # noqa: S104 - a service listens on every interface unless told otherwise
    port: int = 3978
    store_url: str = DEFAULT_STORE_URL
    redis_durability: str = "strict"
    secret_keys: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    cronofy_api_url: str | None = None
    cronofy_app_url: str | None = None
    log_level: str = "info"
    log_format: str = "text"
    cronofy_timeout: float = 10.0
    # how long a claimed outbox job waits for its worker's ack before another worker takes it
    # over (a worker that died mid-delivery); longer than the slowest delivery
    outbox_visibility_timeout: float = 60.0
    # conversations a worker sends to at once (each one's messages still one at a time, in
    # order); 1: one job at a time
    outbox_lanes: int = 16
    max_body_bytes: int = 1024 * 1024
    # requests per minute per client address on the routes anyone can reach without
    # credentials (OAuth callback, booked page, install pages); 0: no limit
    page_rate_limit: int = 30
    # requests per minute per API token on the read API (`bot.api`); 0: no limit
    api_rate_limit: int = 600
    # reverse proxies in front that append to X-Forwarded-For (0: the connecting address is
    # the client's)
    proxy_hops: int = 0
    # bearer token /metrics asks for (None: /metrics is open)
    metrics_token: str | None = None
    # run on uvloop when it is installed (bot.eventloop); off: asyncio's own loop
    uvloop: bool = True
    # the environment these settings were read from: each chat platform reads its own
    # variables from it (bot.platforms), so nothing else looks at the process environment
    env: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env_value(env, name)

        public_url = http_url("BOT_PUBLIC_URL", get("BOT_PUBLIC_URL") or DEFAULT_PUBLIC_URL)
        cronofy_api_url = get("CRONOFY_API_URL")
        cronofy_app_url = get("CRONOFY_APP_URL")
        return cls(
            public_url=public_url.rstrip("/"),
            host=get("BOT_HOST") or "0.0.0.0",  # noqa: S104
            port=_port("BOT_PORT", get("BOT_PORT") or "3978"),
            store_url=check_store_url(get("BOT_STORE_URL") or DEFAULT_STORE_URL),
            redis_durability=redis_durability(env),
            secret_keys=_csv(get("BOT_SECRET_KEYS") or ""),
            admins=_csv(get("BOT_ADMINS") or ""),
            cronofy_api_url=http_url("CRONOFY_API_URL", cronofy_api_url).rstrip("/")
            if cronofy_api_url
            else None,
            cronofy_app_url=http_url("CRONOFY_APP_URL", cronofy_app_url).rstrip("/")
            if cronofy_app_url
            else None,
            cronofy_timeout=_seconds("CRONOFY_TIMEOUT", get("CRONOFY_TIMEOUT") or "10"),
            outbox_visibility_timeout=_seconds(
                "OUTBOX_VISIBILITY_TIMEOUT", get("OUTBOX_VISIBILITY_TIMEOUT") or "60"
            ),
            outbox_lanes=_whole(
                "OUTBOX_LANES",
                get("OUTBOX_LANES") or "16",
                1,
                256,
                "a number of conversations a worker sends to at once",
            ),
            page_rate_limit=_whole(
                "BOT_PAGE_RATE_LIMIT",
                get("BOT_PAGE_RATE_LIMIT") or "30",
                0,
                100_000,
                "a number of requests per minute (0: no limit)",
            ),
            api_rate_limit=_whole(
                "BOT_API_RATE_LIMIT",
                get("BOT_API_RATE_LIMIT") or "600",
                0,
                1_000_000,
                "a number of requests per minute (0: no limit)",
            ),
            proxy_hops=_whole(
                "BOT_PROXY_HOPS",
                get("BOT_PROXY_HOPS") or "0",
                0,
                10,
                "the number of reverse proxies in front of Slotbot",
            ),
            metrics_token=_metrics_token("METRICS_TOKEN", get("METRICS_TOKEN")),
            log_level=choice("LOG_LEVEL", get("LOG_LEVEL") or "info", LOG_LEVELS),
            log_format=choice("LOG_FORMAT", get("LOG_FORMAT") or "text", LOG_FORMATS),
            uvloop=flag("BOT_UVLOOP", get("BOT_UVLOOP") or "1"),
            env=dict(env),
        )

    @property
    def sqlite_path(self) -> Path | None:
        if self.store_url.startswith("sqlite:///"):
            return Path(self.store_url[len("sqlite:///") :])
        return None

    @property
    def data_dir(self) -> Path:
        """Where dev-only files live (generated secret key): beside the SQLite file, else ./data."""
        path = self.sqlite_path
        return (
            path.parent if path is not None and str(path.parent) not in ("", ".") else Path("data")
        )

    def describe(self) -> dict[str, str]:
        """Every setting as text, secrets masked: for `doctor` and start-up logs."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            if f.name == "env":
                continue
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS:
                if isinstance(value, tuple):
                    out[f.name] = f"{len(value)} key(s)" if value else "(not set)"
                else:
                    out[f.name] = mask(value)
            elif f.name == "store_url":
                out[f.name] = _mask_url_password(value)
            else:
                out[f.name] = str(value)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.describe().items())
        return f"Settings({inner})"

    __str__ = __repr__


def _mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
