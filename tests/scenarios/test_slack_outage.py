"""Slack's Web API out of reach while Slack still reaches Slotbot: every verified request
is answered at once, never with a 5xx. A slash command's answer says Slack could not be
reached (that answer needs no call to Slack); events and buttons are acknowledged; once Slack
answers again, commands work as before."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import SLACK
from bot.errors import StoreUnavailable
from bot.store.base import Store
from bot.store.sqlite import SQLiteStore
from tests.adapters.slack.support import (
    FORM,
    all_text,
    command_body,
    event_body,
    install_workspace,
    interactive_body,
    make_app,
    post_signed,
    slack_settings,
)
from tests.fakes.slack import FakeSlack
from tests.support.redis_server import free_port

# Slack shows "dispatch_failed" to a member when a slash command is not answered in this long
SLACK_ACK_WINDOW = 3.0


def _unreachable_api() -> str:
    return f"http://127.0.0.1:{free_port()}/api/"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """Slack is what fails here, not the store: one store kind is enough."""
    opened = SQLiteStore(str(tmp_path / "slotbot.db"))
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.parametrize(
    "extra",
    [{}, {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "c" * 32}],
    ids=["single workspace", "several workspaces"],
)
async def test_a_command_while_slack_is_unreachable_is_answered_at_once(
    aiohttp_client: Any,
    store: Store,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    extra: dict[str, str],
) -> None:
    caplog.set_level(logging.ERROR)
    settings = slack_settings(fake_slack, SLACK_API_URL=_unreachable_api(), **extra)
    app = make_app(settings, store)
    client = await aiohttp_client(app)
    if extra:  # several workspaces: the workspace's install is known, Slack is not reachable
        await install_workspace(app[SLACK], "T1", "xoxb-T1-installed")
    started = time.monotonic()
    response = await post_signed(client, command_body(fake_slack, "help"), FORM)
    elapsed = time.monotonic() - started
    assert response.status == 200, await response.text()
    assert elapsed < SLACK_ACK_WINDOW
    answer = await response.json()
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert "could not reach Slack" in all_text(answer)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_events_and_buttons_while_slack_is_unreachable_are_acknowledged(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    settings = slack_settings(fake_slack, SLACK_API_URL=_unreachable_api())
    client = await aiohttp_client(make_app(settings, store))
    home = event_body({"type": "app_home_opened", "user": "U1", "tab": "home"}, event_id="EvOut")
    assert (await post_signed(client, home, "application/json")).status == 200
    button = interactive_body(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "trigger_id": "t.1",
            "actions": [{"action_id": "link.share", "block_id": "b", "value": ""}],
        }
    )
    assert (await post_signed(client, button, FORM)).status == 200


async def test_commands_work_again_once_slack_answers(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack
) -> None:
    """Slack down at start, up later: the next command is answered as usual."""
    settings = slack_settings(fake_slack)
    fake_slack.reset_connection("auth.test", times=3)
    client = await aiohttp_client(make_app(settings, store))
    fake_slack.reset()  # Slack is back
    response = await post_signed(client, command_body(fake_slack, "help", hook="back"), FORM)
    assert response.status == 200
    answer = await response.json()
    assert "schedule" in all_text(answer).lower()
    assert "could not reach Slack" not in all_text(answer)


class _InstallsUnreadable(SQLiteStore):
    """The store answers claims but fails reading installs, as when it goes away between
    the two."""

    async def kv_get(self, namespace: str, key: str) -> dict[str, object] | None:
        if namespace == "slack_bots":
            raise StoreUnavailable("database is not answering")
        return await super().kv_get(namespace, key)


async def test_a_store_failure_while_authorising_is_a_503_not_a_500(
    aiohttp_client: Any, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = slack_settings(fake_slack, SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="c" * 32)
    store = _InstallsUnreadable(str(tmp_path / "slotbot.db"))
    client = await aiohttp_client(make_app(settings, store))
    response = await post_signed(client, command_body(fake_slack, "help"), FORM)
    assert response.status == 503
    assert (await response.json())["reason"] == "temporarily unavailable"
