"""/cronofy api token create|list|revoke and /cronofy audit: parsed, admins only, private,
the token shown once and stored hashed, every create and revoke audited without it."""

from __future__ import annotations

import re

import pytest

from bot.api import tokens
from bot.commands import parser as p
from bot.runtime import Services
from tests.bot.commands.test_dispatch import ADMIN, RECRUITER, org_ready, say
from tests.bot.commands.turns import run_command
from tests.bot.cronofy.support import ORG_ID, actor, card_text, ctx

__all__ = ["org_ready"]

TOKEN = re.compile(r"slotbot_[0-9a-f]{64}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cronofy api token create ats-sync", p.ApiTokenCreate("ats-sync")),
        ("/CRONOFY API TOKEN Create warehouse_1", p.ApiTokenCreate("warehouse_1")),
        ("cronofy api token list", p.ApiTokenList()),
        ("cronofy api token revoke ats-sync", p.ApiTokenRevoke("ats-sync")),
        ("cronofy audit", p.AuditShow(10)),
        ("cronofy audit 50", p.AuditShow(50)),
        ("cronofy audit 1", p.AuditShow(1)),
    ],
)
def test_parses(text: str, expected: p.Command) -> None:
    assert p.parse(text) == expected
    assert isinstance(expected, p.ADMIN_COMMANDS)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("cronofy api", "cronofy api token", "create"),
        ("cronofy api token", "cronofy api token", "create"),
        ("cronofy api token make x", "cronofy api token", "create"),
        ("cronofy api token create", "cronofy api token", "Which token"),
        ("cronofy api token create Ats", "cronofy api token", "lower-case"),
        ("cronofy api token create " + "a" * 41, "cronofy api token", "1 to 40"),
        ("cronofy api token create a:b", "cronofy api token", "lower-case"),
        ("cronofy api token create a b", "cronofy api token", "Unexpected"),
        ("cronofy api token list all", "cronofy api token", "Unexpected"),
        ("cronofy audit 0", "cronofy audit", "1 to 50"),
        ("cronofy audit 51", "cronofy audit", "1 to 50"),
        ("cronofy audit ten", "cronofy audit", "1 to 50"),
        ("cronofy audit ²", "cronofy audit", "1 to 50"),
        ("cronofy audit 5 more", "cronofy audit", "Unexpected"),
    ],
)
def test_malformed_gets_its_usage_line(text: str, key: str, problem: str) -> None:
    with pytest.raises(p.UsageError) as error:
        p.parse(text)
    assert error.value.usage == p.USAGE[key]
    assert problem in error.value.problem


async def test_token_lifecycle_admins_only_private_hashed_and_audited(
    org_ready: Services,
) -> None:
    services = org_ready
    store = services.store
    assert "admin" in (await say(services, "cronofy api token create x", user=RECRUITER)).lower()
    assert await tokens.list_tokens(store, ORG_ID) == []

    replies = await run_command(ctx(services, actor(ADMIN)), "cronofy api token create ats")
    [reply] = replies
    assert reply.visibility == "private"
    shown = set(TOKEN.findall(card_text(reply.card)))
    assert len(shown) == 1
    token = shown.pop()
    # only its hash is stored, nowhere the token itself
    [record] = await tokens.list_tokens(store, ORG_ID)
    assert record.token_hash == tokens.hash_of(token) and record.created_by == ADMIN
    for namespace in (tokens.TOKENS, tokens.BY_HASH):
        assert token not in str(await store.kv_list(namespace))
    checked = await tokens.check(store, token)
    assert checked.outcome == "ok" and checked.token is not None
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert (await tokens.check(store, wrong)).outcome == "unknown"

    taken = await say(services, "cronofy api token create ats", user=ADMIN)
    assert "in use" in taken and not TOKEN.search(taken)

    listed = await say(services, "cronofy api token list", user=ADMIN)
    assert "ats" in listed and "never" in listed and not TOKEN.search(listed)
    await tokens.LastUsed().touch(store, checked.token, services.clock())
    assert "never" not in await say(services, "cronofy api token list", user=ADMIN)

    assert "revoked" in await say(services, "cronofy api token revoke ats", user=ADMIN)
    assert (await tokens.check(store, token)).outcome == "revoked"
    assert "already" in (await say(services, "cronofy api token revoke ats", user=ADMIN))
    assert "no API token" in await say(services, "cronofy api token revoke nope", user=ADMIN)
    # the name may be used again; the old token stays refused
    again = TOKEN.findall(await say(services, "cronofy api token create ats", user=ADMIN))[0]
    assert (await tokens.check(store, again)).outcome == "ok"
    assert (await tokens.check(store, token)).outcome == "revoked"

    log = await store.list_audit(ORG_ID, limit=10)
    mine = [(e.action, e.detail) for e in log if e.action.startswith("api_token.")]
    assert mine == [
        ("api_token.create", {"name": "ats"}),
        ("api_token.revoke", {"name": "ats"}),
        ("api_token.create", {"name": "ats"}),
    ]
    assert token not in str(log) and again not in str(log)


async def test_last_use_is_written_at_most_once_a_minute(org_ready: Services) -> None:
    store = org_ready.store
    token = await tokens.create(store, ORG_ID, "t", actor=ADMIN, now=1000.0)
    checked = await tokens.check(store, token)
    assert checked.token is not None
    seen = tokens.LastUsed()
    assert await seen.touch(store, checked.token, 1000.0)
    assert not await seen.touch(store, checked.token, 1059.0)
    assert await seen.touch(store, checked.token, 1060.0)
    [listed] = await tokens.list_tokens(store, ORG_ID)
    assert listed.last_used_at == 1060.0
    # writing the last use never undoes a revocation
    await tokens.revoke(store, ORG_ID, "t", actor=ADMIN, now=1061.0)
    assert await seen.touch(store, checked.token, 2000.0)
    assert (await tokens.check(store, token)).outcome == "revoked"


async def test_audit_shows_the_latest_entries_to_admins_privately(org_ready: Services) -> None:
    services = org_ready
    for i in range(12):
        await tokens.create(services.store, ORG_ID, f"t{i}", actor=ADMIN, now=2000.0 + i)
    assert "admin" in (await say(services, "cronofy audit", user=RECRUITER)).lower()
    [reply] = await run_command(ctx(services, actor(ADMIN)), "cronofy audit 3")
    assert reply.visibility == "private"
    text = card_text(reply.card)
    assert "latest 3" in text
    assert "t11" in text and "t9" in text and "t8" not in text
    default = await say(services, "cronofy audit", user=ADMIN)
    assert "latest 10" in default
