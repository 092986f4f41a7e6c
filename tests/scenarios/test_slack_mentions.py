"""Slack's markup in command text (<@U…>, <#C…>, <url|…>) and what buttons send back, end to
end: the core only ever sees ids Slack confirmed, and Share only posts links Slotbot made."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.store.base import Store
from tests.adapters.slack.support import (
    FORM,
    ORG,
    all_text,
    interactive_body,
    make_app,
    post_signed,
    slack_settings,
    slash,
)
from tests.fakes.cronofy import FakeCronofy
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_slack_commands import button_press, set_up_cronofy

PUBLIC_LINK = "https://app.cronofy.com/pls/AbCdEf123"


@pytest.fixture
async def client(
    aiohttp_client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> Any:
    fake_slack.add_user("UADMIN", is_admin=True)
    settings = slack_settings(fake_slack, cronofy_url=fake_cronofy.url)
    return await aiohttp_client(make_app(settings, store))


async def run(client: Any, fake_slack: FakeSlack, text: str, **kw: Any) -> str:
    command = await slash(client, fake_slack, text, **kw)
    return all_text(await command.answers())


async def test_admins_come_from_mentions_slack_confirms(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    await set_up_cronofy(client, fake_slack, fake_cronofy)
    admin = {"command": "/cronofy", "user": "UADMIN"}
    said = await run(client, fake_slack, "admins add nobody", **admin)
    assert "not a user" in said and "/cronofy admins [add|remove @user]" in said
    fake_slack.add_user("UGONE", deleted=True)
    said = await run(client, fake_slack, "admins add <@UGONE|gone>", **admin)
    assert "not a user" in said
    fake_slack.add_user("UBOT", is_bot=True)
    assert "not a user" in await run(client, fake_slack, "admins add <@UBOT>", **admin)
    org = await store.get_org(ORG)
    assert org is not None and org.admins == ["UADMIN"]

    fake_slack.add_user("UBOB", real_name="Bob Builder")
    said = await run(client, fake_slack, "admins add <@UBOB|bob>", **admin)
    assert "is now an admin" in said and "Bob" in said
    checked = [c for c in fake_slack.calls("users.info") if "UBOB" in f"{c.query}{c.form}"]
    assert checked, "users.info was asked about the mentioned user"
    org = await store.get_org(ORG)
    assert org is not None and org.admins == ["UADMIN", "UBOB"]


async def test_channel_mentions_route_alerts_and_keep_the_known_name(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    await set_up_cronofy(client, fake_slack, fake_cronofy)
    admin = {"command": "/cronofy", "user": "UADMIN"}
    said = await run(client, fake_slack, "alerts <#C0999|interviews> booked", **admin)
    assert "#interviews now gets alerts about: booked" in said
    # Slack at times sends a channel mention without its name: the stored name stays
    said = await run(client, fake_slack, "alerts <#C0999> booked,cancelled", **admin)
    assert "#interviews" in said and "cancelled" in said
    org = await store.get_org(ORG)
    assert org is not None
    assert [(r.conversation_id, r.name, r.kinds) for r in org.routes] == [
        ("C0999", "interviews", ["booked", "cancelled"])
    ]
    # a typed "#hiring" that Slack did not turn into a mention is not a channel
    said = await run(client, fake_slack, "alerts #hiring", **admin)
    assert "not a channel" in said and "#channel" in said


async def test_share_posts_only_the_exact_link_slotbot_made(
    client: Any, store: Store, fake_slack: FakeSlack, fake_cronofy: FakeCronofy
) -> None:
    await set_up_cronofy(client, fake_slack, fake_cronofy)
    await run(client, fake_slack, f"link set <{PUBLIC_LINK}|{PUBLIC_LINK}>", user="U1")
    member = await store.get_member(ORG, "U1")
    assert member is not None and member.public_link == PUBLIC_LINK
    said = await run(client, fake_slack, "link for <mailto:jane@example.com|jane@example.com>")
    tracked = next(
        word for word in said.split() if word.startswith(PUBLIC_LINK) and "correlation_id" in word
    )
    correlation_id = parse_qs(urlsplit(tracked).query)["correlation_id"][0]

    async def press(value: str, hook: str, user: str = "U1") -> dict[str, Any]:
        url = fake_slack.response_url(hook)
        body = button_press("link.share", value, user=user, response_url=url)
        assert (await post_signed(client, interactive_body(body), FORM)).status == 200
        await fake_slack.wait_for(lambda r: r.match_info.get("hook_id") == hook)
        return dict(fake_slack.responses(hook)[0])

    phishing = f"https://evil.example/login?correlation_id={correlation_id}"
    forged = await press(phishing, "forged")
    assert forged["response_type"] == "ephemeral" and "evil.example" not in all_text(forged)
    stolen = await press(f"tracked:{correlation_id}", "stolen", user="U2")
    assert stolen["response_type"] == "ephemeral" and correlation_id not in all_text(stolen)
    genuine = await press(f"tracked:{correlation_id}", "genuine")
    assert genuine["response_type"] == "in_channel" and tracked in all_text(genuine)


def test_the_manifest_asks_slack_to_send_ids_for_cronofy_mentions() -> None:
    from adapters.slack.manifest import load_manifest

    commands = {c["command"]: c for c in load_manifest()["features"]["slash_commands"]}
    assert commands["/cronofy"]["should_escape"] is True
