"""Erasing a candidate on Slack, end to end over HTTP, on both stores: the bare command
only asks; Erase removes the profile, timeline, bookings, link, timers and queued messages;
the alerts already posted (channel and DM) are changed to "(removed)" by chat.update; and
afterwards neither the email nor the name is anywhere: not in the SQLite file (nor its WAL),
not in any Redis key or value, not in a backup made afterwards, not in the logs."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import Settings
from bot.outbox.worker import OutboxWorker
from bot.runtime import SERVICES
from bot.secrets import SecretBox
from bot.store.backup import backup_sqlite, write_dump
from bot.store.base import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore
from bot.timers import feedback_key
from cards import actions
from cards.privacy import REMOVED
from tests.adapters.slack.support import (
    FORM,
    ORG,
    all_text,
    interactive_body,
    post_signed,
    slack_settings,
)
from tests.bot.alerts.payloads import time_chosen
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_slack_alerts import _reply, prepared, push
from tests.scenarios.test_slack_commands import button_press

EMAIL = "eb@example.com"  # `prepared`'s candidate
NAME = "Emmet Brown"
BOOKING = "srq_80f7fece4f37897d62d86d80"  # time_chosen's
TRACES = [EMAIL.encode(), NAME.encode(), b"Emmet", EMAIL.upper().encode()]


async def run_worker(client: Any) -> None:
    worker = OutboxWorker(client.app[SERVICES], consumer="erase", poll_interval=0.01)
    while await worker.run_once():
        pass


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    blocks = message.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks or []:
        for element in block.get("elements", []):
            if str(element.get("action_id", "")).startswith(action_id):
                return dict(element)
    raise AssertionError(f"no {action_id} button in {message}")


async def press(client: Any, fake_slack: FakeSlack, found: dict[str, Any], user: str) -> str:
    hook = f"press{time.monotonic_ns()}"
    pressed = button_press(
        found["action_id"], found["value"], user=user, response_url=fake_slack.response_url(hook)
    )
    assert (await post_signed(client, interactive_body(pressed), FORM)).status == 200
    await fake_slack.wait_for(lambda r: r.match_info.get("hook_id") == hook)
    return all_text(fake_slack.responses(hook)[0])


async def stored_bytes(store: Store) -> list[bytes]:
    """Everything the store holds, as bytes: the SQLite file and its WAL (checkpointed by the
    erasure itself), or every key under the Redis store's prefix with its value, read by
    type, and its DUMP."""
    if isinstance(store, SQLiteStore):
        path = Path(store._path)
        return [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
    assert isinstance(store, RedisStore)
    r = store._r
    found: list[bytes] = []
    async for key in r.scan_iter(match=store._prefix + "*", count=500):
        kind = await r.type(key)
        if kind == "string":
            value: Any = await r.get(key)
        elif kind == "hash":
            value = await r.hgetall(key)
        elif kind == "list":
            value = await r.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(await r.smembers(key))
        elif kind == "zset":
            value = await r.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await r.xrange(key)
        else:
            raise AssertionError(f"{key}: type {kind} not read")
        found.append(key.encode() + b" " + json.dumps(value, default=str).encode())
        dumped = await r.execute_command("DUMP", key, NEVER_DECODE=True)
        found.append(cast(bytes, dumped))
    return found


def holds(blobs: list[bytes], needle: bytes) -> bool:
    return any(needle in blob for blob in blobs)


@pytest.fixture
def settings(fake_slack: FakeSlack, fake_cronofy: FakeCronofy) -> Settings:
    fake_slack.add_user("UADMIN", is_admin=True)
    return slack_settings(fake_slack, cronofy_url=fake_cronofy.url)


async def test_erase_asks_first_then_leaves_no_trace(
    aiohttp_client: Any,
    store: Store,
    fake_slack: FakeSlack,
    fake_cronofy: FakeCronofy,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = create_app(
        settings, store=store, secrets=SecretBox([Fernet.generate_key().decode()]), run_worker=False
    )
    client = await aiohttp_client(app)
    path, correlation_id = await prepared(client, store, fake_slack, fake_cronofy)
    member = await store.get_member(ORG, "U1")
    assert member is not None
    member.connected = True  # the recruiter is asked for a note after: a timer is set
    await store.put_member(member)
    begins = time.time() + 3 * 86400
    await push(
        client,
        path,
        time_chosen(
            correlation_id=correlation_id,
            start=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(begins)),
            end=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(begins + 1800)),
        ),
        fake_cronofy.client_secret,
    )
    await run_worker(client)
    assert NAME in all_text(fake_slack.messages("C1")[0])
    assert EMAIL in all_text(fake_slack.messages("D1")[0])
    assert await store.get_timer(feedback_key(ORG, BOOKING, "U1")) is not None
    assert holds(await stored_bytes(store), EMAIL.encode())  # the search finds it while kept

    # a recruiter who is not an admin is refused, and nothing changes
    refused = await _reply(client, fake_slack, f"candidate erase {EMAIL}", command="/cronofy")
    assert "Only Slotbot admins" in all_text(refused)
    # an email nobody knows: a clear answer
    unknown = await _reply(
        client, fake_slack, "candidate erase nobody@example.com", command="/cronofy", user="UADMIN"
    )
    assert "No candidate with the email nobody@example.com" in all_text(unknown)
    # the bare command only asks
    asked = await _reply(
        client, fake_slack, f"candidate erase {EMAIL}", command="/cronofy", user="UADMIN"
    )
    erase = button(asked, actions.ERASE_CONFIRM)
    candidate = await store.find_candidate_by_email(ORG, EMAIL)
    assert candidate is not None and erase["value"] == candidate.candidate_id
    assert await store.get_booking(ORG, BOOKING) is not None
    # the Erase button pressed by someone who is not an admin does nothing
    assert "Only Slotbot admins" in await press(client, fake_slack, erase, "U1")
    assert await store.find_candidate_by_email(ORG, EMAIL) is not None

    answer = await press(client, fake_slack, erase, "UADMIN")
    assert "Candidate erased" in answer
    await run_worker(client)

    # the alerts already posted now read "(removed)", in the channel and in the DM
    updates = {u["channel"]: all_text(u) for u in fake_slack.updates()}
    assert set(updates) >= {"C1", "D1"}
    for text in updates.values():
        assert REMOVED in text and NAME not in text and EMAIL not in text
    assert await store.find_candidate_by_email(ORG, EMAIL) is None
    assert await store.get_timer(feedback_key(ORG, BOOKING, "U1")) is None
    [entry] = [a for a in await store.list_audit(ORG) if a.action == "candidate.erase"]
    assert entry.actor == "UADMIN" and entry.detail["candidate_id"] == candidate.candidate_id
    assert entry.detail["bookings"] == 1 and entry.detail["links"] == 1

    # no trace: the store, a backup made now, the logs
    blobs = await stored_bytes(store)
    await write_dump(store, tmp_path / "after.dump")
    blobs.append((tmp_path / "after.dump").read_bytes())
    if isinstance(store, SQLiteStore):
        backup_sqlite(Path(store._path), tmp_path / "after.db")
        blobs.append((tmp_path / "after.db").read_bytes())
    for needle in TRACES:
        assert not holds(blobs, needle), needle
    logged = caplog.text + answer
    assert EMAIL not in logged and NAME not in logged
    # erasing again: the button finds nothing
    assert "Nothing to erase" in await press(client, fake_slack, erase, "UADMIN")
