"""State: the Store protocol and its SQLite and Redis implementations."""

from __future__ import annotations

from bot.config import Settings
from bot.store.base import Store


def open_store(settings: Settings) -> Store:
    """The store named by BOT_STORE_URL (not yet opened: call `await store.open()`)."""
    if settings.store_url.startswith("sqlite:///"):
        from bot.store.sqlite import SQLiteStore

        return SQLiteStore(settings.store_url[len("sqlite:///") :])
    from bot.store.redis import RedisStore

    return RedisStore(settings.store_url)


__all__ = ["Store", "open_store"]
