"""Every Redis key under a prefix as plain JSON, and back under another prefix.

`dump_keys` reads the keys one by one (SCAN, then a read per type); `load_keys` writes a dump
under a new prefix with what makes the keys behave as they did, not only hold the same values:
times to live (PEXPIRE), stream entries with their own ids (XADD <id>), the stream's last id
(XSETID, so new entries still sort after the old ones), consumer groups at their
last-delivered id and their pending entries, each held by the consumer that held it (XCLAIM …
FORCE JUSTID). The stored-store fixtures (tests/fixtures/store_v1/) are dumps of this shape.

Format::

    {"format": "slotbot-redis-keys", "prefix": "<the prefix dumped>",
     "keys": [{"key": "<name without the prefix>", "type": "string|hash|list|set|zset|stream",
               "pttl": <ms left, or -1 for none>, "value": ...}, ...]}   # sorted by key

Values: string → text; hash → {field: value}; list → [item, ...] in order; set → sorted
[member, ...]; zset → [[member, score], ...] in rank order; stream → {"entries": [[id,
{field: value}], ...], "last_id": id, "groups": [{"name", "last_delivered_id", "pending":
[[entry id, consumer], ...]}]}. Keys and values must be UTF-8 text (Slotbot's are).
"""

from __future__ import annotations

import re
from typing import Any

import redis

FORMAT = "slotbot-redis-keys"
KEY_TYPES = ("string", "hash", "list", "set", "zset", "stream")
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _pairs(raw: Any) -> dict[str, str]:
    """A Redis field/value reply (a dict, or a flat list) as a dict of text."""
    if isinstance(raw, dict):
        return {_text(k): _text(v) for k, v in raw.items()}
    items = list(raw or [])
    return {_text(items[i]): _text(items[i + 1]) for i in range(0, len(items), 2)}


def _info(raw: Any) -> dict[str, Any]:
    """XINFO replies come back as a dict or a flat list, with bytes or text keys."""
    if isinstance(raw, dict):
        return {_text(k): v for k, v in raw.items()}
    items = list(raw or [])
    return {_text(items[i]): items[i + 1] for i in range(0, len(items), 2)}


def _stream(client: redis.Redis, name: str) -> dict[str, Any]:
    entries = [
        [_text(entry_id), _pairs(fields)]
        for entry_id, fields in client.xrange(name, min="-", max="+")
    ]
    info = _info(client.xinfo_stream(name))
    groups = []
    for raw_group in client.xinfo_groups(name) or []:
        group = _info(raw_group)
        group_name = _text(group["name"])
        pending: list[list[str]] = []
        start = "-"
        while int(group.get("pending", 0) or 0):
            rows = client.xpending_range(name, group_name, min=start, max="+", count=1000)
            pending += [[_text(row["message_id"]), _text(row["consumer"])] for row in rows]
            if len(rows) < 1000:
                break
            start = "(" + _text(rows[-1]["message_id"])
        groups.append(
            {
                "name": group_name,
                "last_delivered_id": _text(group["last-delivered-id"]),
                "pending": pending,
            }
        )
    groups.sort(key=lambda g: g["name"])
    return {"entries": entries, "last_id": _text(info["last-generated-id"]), "groups": groups}


def _value(client: redis.Redis, name: str, kind: str) -> Any:
    if kind == "string":
        return _text(client.get(name))
    if kind == "hash":
        return dict(sorted(_pairs(client.hgetall(name)).items()))
    if kind == "list":
        return [_text(item) for item in client.lrange(name, 0, -1)]
    if kind == "set":
        return sorted(_text(member) for member in client.smembers(name))
    if kind == "zset":
        return [
            [_text(member), float(score)]
            for member, score in client.zrange(name, 0, -1, withscores=True)
        ]
    if kind == "stream":
        return _stream(client, name)
    raise ValueError(f"key {name!r} is a Redis {kind}: not a type this dump knows")


def dump_keys(client: redis.Redis, prefix: str) -> dict[str, Any]:
    """Every key under `prefix`, with its type, time to live and value; keys sorted."""
    names = sorted(
        {_text(n) for n in client.scan_iter(match=_GLOB_SPECIAL.sub(r"\\\1", prefix) + "*")}
    )
    keys: list[dict[str, Any]] = []
    for name in names:
        if not name.startswith(prefix):
            continue
        kind = _text(client.type(name))
        if kind == "none":
            continue  # expired or deleted since the scan
        value = _value(client, name, kind)
        pttl = int(client.pttl(name))
        if pttl == -2:
            continue  # expired while it was read
        keys.append(
            {
                "key": name[len(prefix) :],
                "type": kind,
                "pttl": pttl if pttl >= 0 else -1,
                "value": value,
            }
        )
    return {"format": FORMAT, "prefix": prefix, "keys": keys}


def _load_stream(client: redis.Redis, name: str, value: dict[str, Any]) -> None:
    entries = value.get("entries") or []
    for entry_id, fields in entries:
        client.xadd(name, fields, id=entry_id)
    if not entries:
        # an empty stream (every entry deleted) still exists, with its groups and last id
        client.xgroup_create(name, "slotbot-redis-keys-load", id="0-0", mkstream=True)
        client.xgroup_destroy(name, "slotbot-redis-keys-load")
    last_id = value.get("last_id")
    if last_id:
        client.execute_command("XSETID", name, last_id)
    for group in value.get("groups") or []:
        client.xgroup_create(name, group["name"], id=group["last_delivered_id"], mkstream=True)
        for entry_id, consumer in group.get("pending") or []:
            client.execute_command(
                "XCLAIM", name, group["name"], consumer, 0, entry_id, "FORCE", "JUSTID"
            )


def load_keys(client: redis.Redis, dump: dict[str, Any], prefix: str) -> int:
    """Write every key of `dump` under `prefix` (which should hold none of them yet);
    returns how many keys were written."""
    if dump.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} dump")
    written = 0
    for item in dump["keys"]:
        name, kind, value = prefix + item["key"], item["type"], item["value"]
        if client.exists(name):
            raise ValueError(f"key {name!r} exists already: load into an empty prefix")
        if kind == "string":
            client.set(name, value)
        elif kind == "hash":
            client.hset(name, mapping=value)
        elif kind == "list":
            client.rpush(name, *value)
        elif kind == "set":
            client.sadd(name, *value)
        elif kind == "zset":
            client.zadd(name, {member: score for member, score in value})
        elif kind == "stream":
            _load_stream(client, name, value)
        else:
            raise ValueError(f"key {item['key']!r} has type {kind!r}: not one of {KEY_TYPES}")
        pttl = int(item.get("pttl", -1))
        if pttl > 0:
            client.pexpire(name, pttl)
        written += 1
    return written
