"""State: the Store protocol and its SQLite and Redis implementations.

Names in a store follow one style, the same in both stores:

- **kv namespaces** (`kv_put` and friends) are snake_case, the owner first:
  `slack_installations`, `slack_bots`, `slack_channel_teams`, `teams_refs`, `org_activity`,
  `outbox_lanes`, `outbox_sent`. Keys inside a namespace are the owner's business (ids joined
  with `:`, as `tenant:<id>` or `<enterprise>:<team>:latest`).
- **claim keys** (`claim_once`) are `<namespace>:<id parts>`: a snake_case namespace naming
  what is claimed, the owner first, then the ids, joined with `:` (an id may hold `:` itself):
  `cronofy_callback:<digest>`, `cronofy_state_used:<digest>`, `slack_request:<ts>:<signature>`,
  `slack_event:<event id>`, `teams_activity:<conversation>:<activity id>`,
  `alerts_invite:<org>:<channel>`, and `outbox_lanes:<lane>:<generation>` (a lane's lease,
  named after the lanes' kv namespace).

Each name is written where it is used (a constant, or the f-string that makes the key). A
new name follows the style; renaming a stored one is a migration: schema version 2 renamed
what version 1 wrote otherwise (`bot.store.migrations.renames`). How each store lays its
records out: `bot.store.sqlite` (tables) and `bot.store.redis` (keys).
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.store.base import Store

SQLITE_SCHEME = "sqlite:///"


def open_store(settings: Settings) -> Store:
    """The store named by BOT_STORE_URL (not yet opened: call `await store.open()`)."""
    return store_for_url(settings.store_url, redis_durability=settings.redis_durability)


def store_for_url(url: str, *, redis_durability: str = "strict") -> Store:
    """The store a (checked) store URL names, not yet opened. `redis_durability` is
    BOT_REDIS_DURABILITY: what a Redis store does at open when Redis may lose what it
    acknowledges (`bot.store.redis.durability`)."""
    path = sqlite_path_of(url)
    if path is not None:
        from bot.store.sqlite import SQLiteStore

        return SQLiteStore(str(path))
    from bot.store.redis import RedisStore

    return RedisStore(url, durability=redis_durability)


def sqlite_path_of(url: str) -> Path | None:
    return Path(url[len(SQLITE_SCHEME) :]) if url.startswith(SQLITE_SCHEME) else None


__all__ = ["Store", "open_store", "sqlite_path_of", "store_for_url"]
