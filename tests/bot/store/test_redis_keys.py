"""tests/support/redis_keys.py: a dump loaded under another prefix holds the same keys and
behaves the same (times to live, stream ids, groups, pending entries and their consumers)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from tests.support.redis_keys import dump_keys, load_keys

pytestmark = pytest.mark.redis


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield connection
    finally:
        connection.close()


def fill(client: redis.Redis, p: str) -> dict[str, str]:
    """One key of every type, a stream with a group, pending entries of two consumers and a
    deleted entry; returns the stream's entry ids by name."""
    client.set(p + "plain", '{"a":1}')
    client.set(p + "expiring", "x", px=600_000)
    client.hset(p + "hash", mapping={"b": "2", "a": "1", "odd|key%": "é"})
    client.rpush(p + "list", "third", "first", "second")
    client.sadd(p + "set", "y", "x")
    client.zadd(p + "zset", {"m2\x1fid": 0, "m1": 0, "late": 5.5})
    ids = {name: client.xadd(p + "stream", {"job_id": name}) for name in ("a", "b", "c", "d", "e")}
    client.xgroup_create(p + "stream", "workers", id="0")
    client.xreadgroup("workers", "worker-1", {p + "stream": ">"}, count=2)  # a, b
    client.xreadgroup("workers", "worker-2", {p + "stream": ">"}, count=1)  # c
    client.xack(p + "stream", "workers", ids["b"])
    client.xdel(p + "stream", ids["e"])  # the last entry: last id stays e
    client.xadd(p + "emptied", {"job_id": "gone"})
    client.xdel(p + "emptied", client.xrange(p + "emptied")[0][0])
    return ids


def test_dump_lists_every_key_type_with_values_in_order(
    client: redis.Redis, redis_prefix: str
) -> None:
    src = redis_prefix + "src:"
    ids = fill(client, src)
    dump = dump_keys(client, src)
    assert dump["format"] == "slotbot-redis-keys" and dump["prefix"] == src
    by_key = {item["key"]: item for item in dump["keys"]}
    assert [item["key"] for item in dump["keys"]] == sorted(by_key)
    assert {k: v["type"] for k, v in by_key.items()} == {
        "plain": "string",
        "expiring": "string",
        "hash": "hash",
        "list": "list",
        "set": "set",
        "zset": "zset",
        "stream": "stream",
        "emptied": "stream",
    }
    assert by_key["plain"]["pttl"] == -1
    assert 0 < by_key["expiring"]["pttl"] <= 600_000
    assert by_key["list"]["value"] == ["third", "first", "second"]
    assert by_key["set"]["value"] == ["x", "y"]
    assert by_key["zset"]["value"] == [["m1", 0.0], ["m2\x1fid", 0.0], ["late", 5.5]]
    assert by_key["hash"]["value"] == {"a": "1", "b": "2", "odd|key%": "é"}
    stream = by_key["stream"]["value"]
    assert [e[0] for e in stream["entries"]] == [ids[n] for n in "abcd"]
    assert stream["entries"][0][1] == {"job_id": "a"}
    assert stream["last_id"] == ids["e"]
    assert stream["groups"] == [
        {
            "name": "workers",
            "last_delivered_id": ids["c"],
            "pending": [[ids["a"], "worker-1"], [ids["c"], "worker-2"]],
        }
    ]
    assert by_key["emptied"]["value"]["entries"] == []
    json.dumps(dump)  # plain JSON all through


def test_load_under_another_prefix_round_trips_and_behaves_the_same(
    client: redis.Redis, redis_prefix: str
) -> None:
    src, dst = redis_prefix + "src:", redis_prefix + "dst:"
    ids = fill(client, src)
    dump = dump_keys(client, src)
    assert load_keys(client, json.loads(json.dumps(dump)), dst) == len(dump["keys"])

    again = dump_keys(client, dst)
    assert again["prefix"] == dst

    def without_ttl(d: dict[str, object]) -> list[object]:
        return [{**item, "pttl": item["pttl"] > 0} for item in d["keys"]]  # type: ignore[attr-defined]

    assert without_ttl(again) == without_ttl(dump)
    ttl = {item["key"]: item["pttl"] for item in again["keys"]}
    assert 500_000 < ttl["expiring"] <= 600_000 and ttl["plain"] == -1

    # the group goes on where it was: new entries only, and the pending ones stay claimable
    stream = dst + "stream"
    assert client.xreadgroup("workers", "worker-3", {stream: ">"}) == [
        [stream, [(ids["d"], {"job_id": "d"})]]
    ]
    pending = client.xpending_range(stream, "workers", min="-", max="+", count=10)
    assert [(p["message_id"], p["consumer"]) for p in pending] == [
        (ids["a"], "worker-1"),
        (ids["c"], "worker-2"),
        (ids["d"], "worker-3"),
    ]
    _, claimed, _ = client.xautoclaim(stream, "workers", "worker-4", min_idle_time=0, count=1)
    assert claimed == [(ids["a"], {"job_id": "a"})]
    # the last id was kept: a new entry sorts after the deleted last one
    assert client.xadd(stream, {"job_id": "f"}, id="*") > ids["e"]
    with pytest.raises(redis.ResponseError):
        client.xadd(dst + "emptied", {"job_id": "x"}, id="1-1")  # below its last id


def test_load_refuses_a_prefix_that_holds_the_keys_already(
    client: redis.Redis, redis_prefix: str
) -> None:
    src = redis_prefix + "src:"
    fill(client, src)
    dump = dump_keys(client, src)
    with pytest.raises(ValueError, match="exists already"):
        load_keys(client, dump, src)
    with pytest.raises(ValueError, match="not a slotbot-redis-keys dump"):
        load_keys(client, {"keys": []}, src)
