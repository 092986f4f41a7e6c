"""`python -m bot doctor`: what is wrong with this deployment, in plain words.

Problems make the command exit 1; warnings are printed but do not fail it (a laptop
running `make run` is allowed a development key).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from bot.config import Settings
from bot.errors import ConfigError, SlotbotError, StoreError
from bot.platforms import Findings, Platform, installed_platforms
from bot.secrets import check_keys
from bot.store import open_store
from bot.store.base import Store
from bot.webhooks.settings import WebhookSettings

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def check_settings(settings: Settings, platforms: Sequence[Platform] | None = None) -> Findings:
    """Everything that can be judged from the settings alone (pure: no I/O)."""
    found = Findings()
    installed = installed_platforms(settings) if platforms is None else list(platforms)
    if not any(platform.enabled for platform in installed):
        ways = "; ".join(f"{p.title}: {p.status}" for p in installed) or "none is installed"
        found.problems.append(f"no chat platform is on ({ways})")
    for platform in installed:
        found.add(platform.check())
    if not settings.secret_keys:
        found.warnings.append(
            f"BOT_SECRET_KEYS is not set: secrets are encrypted with a development key in "
            f"{settings.data_dir}; set BOT_SECRET_KEYS (make one with `python -m bot genkey`)"
        )
    found.add(_webhooks(settings))
    host = urlsplit(settings.public_url).hostname or ""
    if host in LOCAL_HOSTS:
        found.warnings.append(
            f"BOT_PUBLIC_URL is {settings.public_url}: Cronofy and chat platforms cannot reach "
            "it; push URLs and OAuth links will only work on this machine"
        )
    elif not settings.public_url.startswith("https://"):
        found.problems.append(
            "BOT_PUBLIC_URL must be https:// for the chat platforms and Cronofy to call it"
        )
    return found


def _webhooks(settings: Settings) -> Findings:
    found = Findings()
    try:
        webhooks = WebhookSettings.of(settings)
    except ConfigError as exc:
        found.problems.append(str(exc))
        return found
    if webhooks.allow_loopback:
        found.warnings.append(
            "BOT_WEBHOOK_ALLOW_LOOPBACK is on: an admin's webhook may post to this machine "
            "itself (fine for tests and a receiver on the same host, not otherwise)"
        )
    return found


async def check_services(settings: Settings) -> Findings:
    """Check the secret keys and the store as `serve` would open them, creating neither."""
    found = Findings()
    try:
        check_keys(settings.secret_keys, settings.data_dir)
    except SlotbotError as exc:
        found.problems.append(str(exc))
    path = settings.sqlite_path
    if path is not None and not path.exists():
        found.warnings.append(f"store: no SQLite store at {path} yet; `serve` creates it")
        return found
    store = open_store(settings)
    try:
        await store.open(migrate=False)  # doctor looks; it does not migrate
        await store.ping()
        status = await store.schema_status()
        found.add(await _redis_durability(store, settings))
        if status.too_new:
            found.problems.append(
                f"store: schema version {status.store_version} was written by a newer "
                f"Slotbot (this one knows up to {status.code_version}); it will not start"
            )
        elif not status.current and status.store_version > 0:
            steps = ", ".join(str(step) for step in status.pending)
            found.warnings.append(
                f"store: schema version {status.store_version}; `serve` will migrate it to "
                f"{status.code_version} at start (steps {steps}); back it up first "
                "(`python -m bot backup <file>`)"
            )
    except StoreError as exc:
        found.problems.append(f"store: {exc}")
    finally:
        try:
            await store.close()
        except Exception:  # noqa: S110 - closing a store that never opened
            pass
    return found


async def _redis_durability(store: Store, settings: Settings) -> Findings:
    """On Redis, whether what it acknowledges survives a crash, judged as the store's open
    judges it (`bot.store.redis.durability`)."""
    found = Findings()
    if settings.sqlite_path is not None:
        return found
    from bot.store.redis import RedisStore  # only when the store is Redis

    if not isinstance(store, RedisStore):
        return found
    verdict = await store.check_durability()
    if verdict.durable:
        return found
    if settings.redis_durability == "relaxed":
        found.warnings.append(
            "store: Redis is NOT DURABLE and BOT_REDIS_DURABILITY=relaxed lets Slotbot start "
            "on it: a crash of Redis may lose callbacks Cronofy was already answered 200 for. "
            f"{verdict.problem}"
        )
    else:
        found.problems.append(
            "store: Redis may lose writes Slotbot acknowledged, so `serve` will not start "
            f"on it: {verdict.refusal()}"
        )
    return found
