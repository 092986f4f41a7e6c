"""State: the Store protocol and its SQLite and Redis implementations."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.store.base import Store

SQLITE_SCHEME = "sqlite:///"


def open_store(settings: Settings) -> Store:
    """The store named by BOT_STORE_URL (not yet opened: call `await store.open()`)."""
    return store_for_url(settings.store_url)


def store_for_url(url: str) -> Store:
    """The store a (checked) store URL names, not yet opened."""
    path = sqlite_path_of(url)
    if path is not None:
        from bot.store.sqlite import SQLiteStore

        return SQLiteStore(str(path))
    from bot.store.redis import RedisStore

    return RedisStore(url)


def sqlite_path_of(url: str) -> Path | None:
    return Path(url[len(SQLITE_SCHEME) :]) if url.startswith(SQLITE_SCHEME) else None


__all__ = ["Store", "open_store", "sqlite_path_of", "store_for_url"]
