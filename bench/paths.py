"""How many of Slotbot's own source files one request passes through, and which: a Slack
slash command (`/schedule help`, from the signed request to the reply posted to its
response_url) and a Cronofy callback (from the signed POST to its 200). Counted with a
profiler hook on the serving event loop, in-process, against the fake Slack server; a
structure figure, not a timing."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

REPO = Path(__file__).resolve().parents[1]
OWN = tuple(str(REPO / part) + "/" for part in ("bot", "adapters", "cards"))


async def _files_during(work: Callable[[], Awaitable[None]]) -> set[str]:
    seen: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = frame.f_code.co_filename
            if name.startswith(OWN):
                seen.add(str(Path(name).relative_to(REPO)))

    sys.setprofile(profile)
    try:
        await work()
    finally:
        sys.setprofile(None)
    return seen


async def run(quick: bool) -> list[dict[str, Any]]:
    from bot.runtime import SERVICES
    from bot.secrets import SecretBox, generate_key
    from bot.store.sqlite import SQLiteStore
    from tests.adapters.slack.support import make_app, slack_settings, slash
    from tests.bot.alerts import payloads
    from tests.bot.alerts.pipeline import PUSH_URL, encode, seed, sign
    from tests.fakes.slack import FakeSlack

    rows = []
    fake_slack = FakeSlack()
    await fake_slack.start()
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(str(Path(folder) / "slotbot.db"))
        app = make_app(slack_settings(fake_slack), store)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            box = SecretBox([generate_key()])
            app[SERVICES].secrets = box  # the key the seeded org's secret is encrypted with
            await seed(store, box)
            # once first, so that imports and caches are out of the way of what is counted
            await slash(client, fake_slack, "help")
            warm = encode(payloads.time_chosen(request_id="srq_paths_1"))
            await client.post(PUSH_URL, data=warm, headers=sign(warm))

            async def command() -> None:
                await (await slash(client, fake_slack, "help")).answers()

            async def callback() -> None:
                body = encode(payloads.time_chosen(request_id="srq_paths_2"))
                response = await client.post(PUSH_URL, data=body, headers=sign(body))
                assert response.status == 200, await response.text()

            for name, work in (("slack /schedule help", command), ("cronofy callback", callback)):
                files = sorted(await _files_during(work))
                rows.append(
                    {
                        "bench": "paths",
                        "target": name,
                        "files": len(files),
                        "which": " ".join(files),
                    }
                )
        finally:
            await client.close()
            await fake_slack.stop()
    return rows


if __name__ == "__main__":
    for row in asyncio.run(run(True)):
        print(f"{row['target']}: {row['files']} files\n  " + "\n  ".join(row["which"].split()))
