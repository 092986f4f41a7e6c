"""Secrets at rest: after a workspace installs Slotbot (a Slack bot token), an admin enters
the Cronofy keys (a client secret), a recruiter connects a calendar (access and refresh
tokens, refreshed once) and a callback arrives, no secret is in the store in plain text:
neither in the SQLite database file, its WAL and shared-memory files, nor in any Redis value
or the Redis append-only file.

Each check also finds a plain value that is meant to be there (the recruiter's email), so a
scan that reads the wrong bytes cannot pass.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.chat import Actor, Conversation
from bot.commands import CommandContext
from bot.config import Settings
from bot.runtime import SERVICES, Services
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SQLiteStore
from tests.adapters.slack.support import slack_settings
from tests.bot.alerts import payloads
from tests.bot.alerts.pipeline import encode, sign
from tests.bot.commands.turns import run_command, submit_setup
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.support.redis_server import RedisServer
from tests.support.secret_watch import register_secret

TEAM = "T0REST"
ORG = f"slack:{TEAM}"
ADMIN, RECRUITER, CHANNEL = "UADMREST", "URECREST", "C0REST"
SLACK_CLIENT_ID = "111.rest"
SLACK_CLIENT_SECRET = "slack-client-secret-at-rest-0001"
CRONOFY_CLIENT_ID = "cronofy-client-at-rest"
CRONOFY_CLIENT_SECRET = "CRN_client_secret_at_rest_0123456789"
RECRUITER_EMAIL = "rita.rest@example.com"


def conversation() -> Conversation:
    return Conversation("slack", ORG, CHANNEL, "channel", "hiring")


def say(services: Services, user: str, text: str) -> Any:
    return run_command(CommandContext(services, Actor("slack", ORG, user), conversation()), text)


async def install_workspace(client: TestClient[Any, Any], fake_slack: FakeSlack) -> str:
    """The Slack OAuth round trip; returns the bot token Slack issued."""
    install = fake_slack.add_install("rest-code", team_id=TEAM, team_name="Rest")
    start = await client.get("/slack/install", allow_redirects=False)
    cookie = start.headers.get("Set-Cookie", "")
    state = cookie.split("slack-app-oauth-state=", 1)[1].split(";", 1)[0]
    done = await client.get(
        "/slack/oauth_redirect",
        params={"code": "rest-code", "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
    )
    assert done.status == 200, await done.text()
    return install.bot_token


async def connect_recruiter(
    client: TestClient[Any, Any], services: Services, fake_cronofy: FakeCronofy
) -> None:
    reply = (await say(services, RECRUITER, "schedule connect"))[0]
    authorize = next(b.url for b in reply.card.buttons if b.kind == "open_url")
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    fake_cronofy.add_code(
        "rest-code", email=RECRUITER_EMAIL, name="Rita Rest", client_id=CRONOFY_CLIENT_ID
    )
    page = await client.get("/cronofy/oauth/callback", params={"code": "rest-code", "state": state})
    assert page.status == 200, await page.text()


async def secrets_of_a_scenario(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> dict[str, str]:
    """Run the scenario; returns every secret it involved, by name."""
    fake_slack.add_oauth_app(SLACK_CLIENT_ID, SLACK_CLIENT_SECRET)
    fake_cronofy.add_app(CRONOFY_CLIENT_ID, CRONOFY_CLIENT_SECRET)
    settings: Settings = slack_settings(
        fake_slack,
        cronofy_url=fake_cronofy.url,
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=SLACK_CLIENT_ID,
        SLACK_CLIENT_SECRET=SLACK_CLIENT_SECRET,
    )
    key = generate_key()
    app = create_app(
        dataclasses.replace(settings, cronofy_timeout=2.0),
        store=store,
        secrets=SecretBox([key]),
        run_worker=False,
    )
    services = app[SERVICES]
    client = await aiohttp_client(app)

    bot_token = await install_workspace(client, fake_slack)
    admin = CommandContext(services, Actor("slack", ORG, ADMIN), conversation())
    outcome = await submit_setup(admin, CRONOFY_CLIENT_ID, CRONOFY_CLIENT_SECRET, "us")
    assert outcome.ok
    await say(services, ADMIN, "cronofy alerts here")
    await connect_recruiter(client, services, fake_cronofy)
    first = await store.get_member(ORG, RECRUITER)
    assert first is not None and first.access_token_enc and first.refresh_token_enc
    # one refresh, so the store has seen a second pair of tokens too
    services.clock = lambda: first.token_expires_at or 0.0
    await say(services, RECRUITER, "schedule link for jane@example.com Jane Doe")
    second = await store.get_member(ORG, RECRUITER)
    assert second is not None and second.access_token_enc != first.access_token_enc
    org = await store.get_org(ORG)
    assert org is not None and org.org_key
    body = encode(payloads.time_chosen(request_id="srq_rest", email="jane@example.com"))
    pushed = await client.post(
        f"/cronofy/push/{org.org_key}", data=body, headers=sign(body, CRONOFY_CLIENT_SECRET)
    )
    assert pushed.status == 200

    box: SecretBox = services.secrets
    found = {
        "Fernet key": key,
        "Cronofy client secret": CRONOFY_CLIENT_SECRET,
        "Slack client secret": SLACK_CLIENT_SECRET,
        "Slack bot token": bot_token,
        "access token": box.decrypt(first.access_token_enc or ""),
        "refresh token": box.decrypt(first.refresh_token_enc or ""),
        "refreshed access token": box.decrypt(second.access_token_enc or ""),
        "refreshed refresh token": box.decrypt(second.refresh_token_enc or ""),
    }
    for name, value in found.items():
        register_secret(name, value)
    return found


def _plain_hits(blob: bytes, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value.encode() in blob]


async def sqlite_bytes(store: SQLiteStore, folder: Path) -> bytes:
    """The database file and its WAL / shared-memory files, as they are on disk."""
    del store
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def redis_bytes(server: RedisServer, prefix: str) -> bytes:
    """Every value under the store's prefix, read by type, and the append-only file."""
    client: Any = redis.Redis.from_url(server.url)  # values as bytes
    parts: list[bytes] = []
    try:
        for key in client.scan_iter(match=prefix + "*", count=500):
            kind = client.type(key)
            parts.append(key)
            if kind == b"string":
                parts.append(client.get(key) or b"")
            elif kind == b"hash":
                for field, value in client.hgetall(key).items():
                    parts += [field, value]
            elif kind == b"list":
                parts += client.lrange(key, 0, -1)
            elif kind == b"set":
                parts += list(client.smembers(key))
            elif kind == b"zset":
                parts += [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
            elif kind == b"stream":
                for _id, fields in client.xrange(key):
                    for field, value in fields.items():
                        parts += [field, value]
            else:
                raise AssertionError(f"unexpected Redis type {kind!r} for {key!r}")
        folder = Path(str(client.config_get("dir")["dir"]))
    finally:
        client.close()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and (".aof" in path.name or path.suffix == ".rdb"):
            parts.append(path.read_bytes())
    return b"\n".join(parts)


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_no_secret_in_plain_text_in_the_store(
    request: pytest.FixtureRequest,
    aiohttp_client: Any,
    store: Store,
    fake_slack: FakeSlack,
    fake_cronofy: FakeCronofy,
    tmp_path: Path,
) -> None:
    secrets = await secrets_of_a_scenario(aiohttp_client, store, fake_slack, fake_cronofy)
    if isinstance(store, RedisStore):
        server: RedisServer = request.getfixturevalue("redis_server")
        if not server.managed:
            pytest.skip("needs the redis-server these tests own, to read its files")
        blob = redis_bytes(server, request.getfixturevalue("redis_prefix"))
    else:
        assert isinstance(store, SQLiteStore)
        blob = await sqlite_bytes(store, tmp_path / "store")
    assert RECRUITER_EMAIL.encode() in blob, "the scan reads what the store wrote"
    assert _plain_hits(blob, secrets) == []
    if isinstance(store, SQLiteStore):
        await store.close()  # checkpoint the WAL into the file, and look again
        blob = await sqlite_bytes(store, tmp_path / "store")
        assert RECRUITER_EMAIL.encode() in blob
        assert _plain_hits(blob, secrets) == []
