"""FakeServer mechanics: recording, waiting, failure windows, delays, remote control."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import aiohttp
import pytest

from tests.fakes import serve
from tests.fakes.slack import FakeSlack


async def post(url: str, payload: dict[str, Any], **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=payload, **kwargs) as answer:
            return answer.status, await answer.json(content_type=None)


async def test_wait_for_sees_requests_made_later(fake_slack: FakeSlack) -> None:
    async def later() -> None:
        await asyncio.sleep(0.1)
        await post(fake_slack.api_url + "auth.test", {}, headers={"Authorization": "Bearer xoxb-1"})

    task = asyncio.create_task(later())
    [record] = await fake_slack.wait_for("auth.test")
    await task
    assert record.status == 200 and record.json == {}

    with pytest.raises(AssertionError, match=r"1 of 2 requests matching 'auth.test'"):
        await fake_slack.wait_for("auth.test", count=2, timeout=0.2)
    assert fake_slack.calls(lambda r: r.path.startswith("/api/")) == fake_slack.calls("/api/*")


async def test_wait_for_counts_only_answered_requests(fake_slack: FakeSlack) -> None:
    fake_slack.slow("chat.postMessage", 0.2)
    form = {"channel": "C1", "text": "hi", "blocks": '[{"type": "divider"}]'}
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(
            session.post(
                fake_slack.api_url + "chat.postMessage",
                data=form,
                headers={"Authorization": "Bearer xoxb-1"},
            )
        )
        [record] = await fake_slack.wait_for("chat.postMessage")
        assert record.status == 200 and record.done
        # Form-encoded Block Kit comes back decoded from the helpers.
        assert fake_slack.messages("C1")[0]["blocks"] == [{"type": "divider"}]
        (await task).release()


async def test_fail_for_answers_errors_only_inside_the_window(fake_slack: FakeSlack) -> None:
    fake_slack.fail_for("*", 0.3, status=503, retry_after=None)
    url = fake_slack.api_url + "auth.test"
    auth = {"Authorization": "Bearer xoxb-1"}

    assert (await post(url, {}, headers=auth))[0] == 503
    assert (await post(url, {}, headers=auth))[0] == 503
    await asyncio.sleep(0.35)
    assert await post(url, {}, headers=auth) == (200, fake_slack.last().response)


async def test_slow_delays_and_reset_clears(fake_slack: FakeSlack) -> None:
    fake_slack.slow("auth.test", 0.3)
    url = fake_slack.api_url + "auth.test"
    timeout = aiohttp.ClientTimeout(total=0.1)
    with pytest.raises(asyncio.TimeoutError):
        await post(url, {}, headers={"Authorization": "Bearer xoxb-1"}, timeout=timeout)

    fake_slack.reset()
    assert fake_slack.requests == []
    started = time.monotonic()
    status, _ = await post(url, {}, headers={"Authorization": "Bearer xoxb-1"})
    assert status == 200 and time.monotonic() - started < 0.3


async def test_separate_process_is_inspected_and_scripted_over_http() -> None:
    proc, url = await asyncio.to_thread(serve.spawn, "slack")
    try:
        status, ok = await post(
            url + "/_fake/control",
            {"op": "fail_next", "key": "chat.postMessage", "status": 429, "retry_after": 3},
        )
        assert (status, ok) == (200, {"ok": True})
        auth = {"Authorization": "Bearer xoxb-secret-value"}
        limited = await post(
            url + "/api/chat.postMessage", {"channel": "C1", "text": "x"}, headers=auth
        )
        posted = await post(
            url + "/api/chat.postMessage", {"channel": "C1", "text": "x"}, headers=auth
        )
        assert limited[0] == 429 and posted[1]["ok"] is True

        raw = await asyncio.to_thread(
            lambda: urllib.request.urlopen(url + "/_fake/requests", timeout=5).read()
        )
        listed = json.loads(raw)
        assert [(r["name"], r["status"]) for r in listed] == [
            ("chat.postMessage", 429),
            ("chat.postMessage", 200),
        ]
        assert "xoxb-secret-value" not in raw.decode()

        assert (await post(url + "/_fake/control", {"op": "bogus"}))[0] == 400
        await post(url + "/_fake/control", {"op": "reset"})
        assert (
            json.loads(
                await asyncio.to_thread(
                    lambda: urllib.request.urlopen(url + "/_fake/requests", timeout=5).read()
                )
            )
            == []
        )
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)
    assert proc.returncode == 0
