"""The webhook variables, read from the environment the settings were read from.

- `BOT_WEBHOOK_ALLOW_LOOPBACK=1` — webhooks may post to loopback addresses (127.0.0.0/8,
  ::1): for tests and a receiver on the same host on-premises. Off by default.
- `BOT_WEBHOOK_CA_BUNDLE=<file>` — the certificate authorities a receiver's certificate is
  checked against (PEM), instead of the system's: a private CA on-premises, a test's own.
- `BOT_WEBHOOK_TIMEOUT=<seconds>` — how long one POST may take, connecting included
  (default 10); a send that takes longer is tried again later.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, env_value, flag
from bot.errors import ConfigError

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class WebhookSettings:
    allow_loopback: bool = False
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def of(cls, settings: Settings) -> WebhookSettings:
        env = settings.env
        timeout_text = env_value(env, "BOT_WEBHOOK_TIMEOUT") or str(DEFAULT_TIMEOUT)
        try:
            timeout = float(timeout_text)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 120:
            raise ConfigError(
                f"BOT_WEBHOOK_TIMEOUT must be a number of seconds up to 120, got {timeout_text!r}"
            )
        ca_bundle = env_value(env, "BOT_WEBHOOK_CA_BUNDLE")
        if ca_bundle is not None and not Path(ca_bundle).is_file():
            raise ConfigError(f"BOT_WEBHOOK_CA_BUNDLE names no file: {ca_bundle!r}")
        return cls(
            allow_loopback=flag(
                "BOT_WEBHOOK_ALLOW_LOOPBACK", env_value(env, "BOT_WEBHOOK_ALLOW_LOOPBACK") or ""
            ),
            ca_bundle=ca_bundle,
            timeout=timeout,
        )

    def ssl_context(self) -> ssl.SSLContext:
        return _ssl_context(self.ca_bundle)


@functools.cache
def _ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    # certificates are always checked, hostname included; only whom they are checked against
    # can change
    return ssl.create_default_context(cafile=ca_bundle)
