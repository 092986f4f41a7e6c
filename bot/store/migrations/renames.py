"""Stored names that a migration step renames, shared by both stores' steps.

Version 2 put every kv namespace and every claim key in the one style `bot.store` describes;
these are the names version 1 wrote that did not follow it, and what they became. Both
stores' step 2 rename exactly these (bot/store/sqlite/schema.py, bot/store/redis/schema.py).
"""

from __future__ import annotations

import re

# kv namespace of version 1 -> its name from version 2 on
V2_KV_NAMESPACES: dict[str, str] = {
    "teams.refs": "teams_refs",
}

# leading part of a version-1 claim key -> what replaces it (the ids after it are kept)
V2_CLAIM_PREFIXES: dict[str, str] = {
    "cronofy:": "cronofy_callback:",  # a Cronofy callback's digest (bot/alerts/intake.py)
    "cronofy-state-used:": "cronofy_state_used:",  # a used connect link (bot/cronofy/connect.py)
    "slack:request:": "slack_request:",  # a signed Slack request (adapters/slack)
    "slack:event:": "slack_event:",  # a Slack event id (adapters/slack)
    "teams.activity:": "teams_activity:",  # a Teams activity (adapters/teams/http.py)
    "alerts:invite:": "alerts_invite:",  # "invite Slotbot" told to admins (bot/alerts/worker.py)
}

NAMESPACE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def v2_namespace(namespace: str) -> str:
    """The name a version-1 kv namespace has from version 2 on."""
    return V2_KV_NAMESPACES.get(namespace, namespace)


def v2_claim_key(key: str) -> str:
    """The key a version-1 claim has from version 2 on."""
    for old, new in V2_CLAIM_PREFIXES.items():
        if key.startswith(old):
            return new + key[len(old) :]
    return key


def _check() -> None:
    """Every new name is in the style, and renaming is done once: no new name is renamed
    again (so a step re-run over its own work changes nothing), and no key matches two old
    prefixes."""
    for new in V2_KV_NAMESPACES.values():
        if not NAMESPACE.fullmatch(new) or new in V2_KV_NAMESPACES:
            raise RuntimeError(f"kv namespace {new!r} breaks the store's key style")
    for old, new in V2_CLAIM_PREFIXES.items():
        if not (new.endswith(":") and NAMESPACE.fullmatch(new[:-1])):
            raise RuntimeError(f"claim prefix {new!r} breaks the store's key style")
        if any(new.startswith(o) for o in V2_CLAIM_PREFIXES):
            raise RuntimeError(f"claim prefix {new!r} would be renamed again")
        if any(old != o and old.startswith(o) for o in V2_CLAIM_PREFIXES):
            raise RuntimeError(f"claim prefix {old!r} overlaps another one")


_check()
