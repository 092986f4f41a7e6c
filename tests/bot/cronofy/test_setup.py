"""`/cronofy setup`, admins and reset through the neutral command API, on both stores."""

from __future__ import annotations

import logging

import pytest

from bot.runtime import Services
from bot.store.records import Member
from tests.bot.commands.turns import run_action, run_command, submit_setup
from tests.bot.cronofy.support import (
    ORG_ID,
    PUBLIC_URL,
    actor,
    card_text,
    ctx,
    job_text,
    pending_jobs,
)
from tests.fakes.cronofy import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeCronofy


async def test_first_setup_stores_keys_encrypted_and_makes_an_admin(
    services: Services, fake_cronofy: FakeCronofy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = actor("U_FIRST")
    opened = await run_command(ctx(services, first), "/cronofy setup")
    assert opened[0].opens_form and {i.name for i in opened[0].card.inputs} == {
        "client_id",
        "client_secret",
        "data_center",
    }
    outcome = await submit_setup(
        ctx(services, first), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, " UK "
    )
    assert outcome.ok and outcome.reply is not None
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.cronofy is not None and org.org_key
    assert org.cronofy.data_center == "uk" and org.admins == ["U_FIRST"]
    assert org.cronofy.client_secret_enc != DEFAULT_CLIENT_SECRET
    assert services.secrets.decrypt(org.cronofy.client_secret_enc) == DEFAULT_CLIENT_SECRET
    text = card_text(outcome.reply.card)
    assert f"{PUBLIC_URL}/cronofy/push/{org.org_key}" in text
    assert (
        "Slotbot admin" in text
        and "Workflows" in text
        and "Universal Push Notification URL" in text
    )
    assert DEFAULT_CLIENT_SECRET not in text
    audit = await services.store.list_audit(ORG_ID)
    assert [a.action for a in audit] == ["admins.first", "cronofy.setup"]  # newest first
    assert audit[0].actor == "U_FIRST" and audit[0].detail == {"user_id": "U_FIRST"}
    assert DEFAULT_CLIENT_SECRET not in repr(audit)
    assert DEFAULT_CLIENT_SECRET not in caplog.text
    assert "U_FIRST set up org slack:T0001 and became its admin" in caplog.text
    # the channel the setup was asked in hears it, by name
    (note,) = await pending_jobs(services.store)
    assert note.kind == "notice" and note.payload["target"]["conversation_id"] == "C_HIRING"
    assert "Ada Admin set up Slotbot and is its admin" in job_text(note)


@pytest.mark.parametrize("kind", ["dm", "channel"])
async def test_only_the_first_admin_is_announced_and_never_in_a_dm(
    services: Services, fake_cronofy: FakeCronofy, kind: str
) -> None:
    where = "D_FIRST" if kind == "dm" else "C_HIRING"
    first = await submit_setup(
        ctx(services, actor("U_FIRST"), where, kind), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us"
    )
    assert first.ok
    # the admin sets the keys up again (new ones, say): nobody new became admin
    again = await submit_setup(
        ctx(services, actor("U_FIRST"), "C_HIRING"), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us"
    )
    assert again.ok
    notes = [job_text(job) for job in await pending_jobs(services.store)]
    assert len(notes) == (0 if kind == "dm" else 1)
    actions = [a.action for a in await services.store.list_audit(ORG_ID)]
    assert actions.count("admins.first") == 1


async def test_wrong_keys_or_data_center_store_nothing(
    services: Services, fake_cronofy: FakeCronofy
) -> None:
    who = ctx(services, actor("U_FIRST"))
    bad_secret = await submit_setup(who, DEFAULT_CLIENT_ID, "wrong-secret-value", "us")
    assert not bad_secret.ok and "does not recognise" in bad_secret.field_errors["client_id"]
    assert bad_secret.reply is not None and "wrong-secret-value" not in card_text(
        bad_secret.reply.card
    )
    bad_center = await submit_setup(who, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "eu")
    assert set(bad_center.field_errors) == {"data_center"}
    blank = await submit_setup(who, " ", "", "us")
    assert set(blank.field_errors) == {"client_id", "client_secret"}
    assert await services.store.get_org(ORG_ID) is None
    assert await services.store.list_audit(ORG_ID) == []


@pytest.mark.parametrize("fault", ["slow", "reset", "503", "429"])
async def test_cronofy_unreachable_during_setup_stores_nothing(
    services: Services, fake_cronofy: FakeCronofy, fault: str
) -> None:
    if fault == "slow":
        fake_cronofy.slow("token", 3.0, times=1)
    elif fault == "reset":
        fake_cronofy.reset_connection("token")
    else:
        fake_cronofy.fail_next("token", status=int(fault))
    outcome = await submit_setup(
        ctx(services, actor()), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us"
    )
    assert not outcome.ok and outcome.reply is not None
    assert "not answering" in card_text(outcome.reply.card)
    assert set(outcome.field_errors) == {"client_id"}
    assert await services.store.get_org(ORG_ID) is None


async def test_setup_again_replaces_keys_keeps_members_and_push_url(
    services: Services, fake_cronofy: FakeCronofy
) -> None:
    admin = ctx(services, actor("U_FIRST"))
    assert (await submit_setup(admin, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us")).ok
    org = await services.store.get_org(ORG_ID)
    assert org is not None
    key = org.org_key
    await services.store.put_member(
        Member(ORG_ID, "U_REC", public_link="https://app.cronofy.com/pls/abc")
    )
    fake_cronofy.add_app("second-app", "second-secret-xyz")
    again = await submit_setup(admin, "second-app", "second-secret-xyz", "us")
    assert (
        again.ok
        and again.reply is not None
        and "now this workspace" not in card_text(again.reply.card)
    )
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.cronofy is not None
    assert (
        org.cronofy.client_id == "second-app" and org.org_key == key and org.admins == ["U_FIRST"]
    )
    assert await services.store.get_member(ORG_ID, "U_REC") is not None


async def test_only_admins_may_change_a_configured_org(
    services: Services, fake_cronofy: FakeCronofy
) -> None:
    assert (
        await submit_setup(
            ctx(services, actor("U_FIRST")), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us"
        )
    ).ok
    stranger = ctx(services, actor("U_OTHER"))
    refused = await submit_setup(stranger, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "de")
    assert not refused.ok and refused.reply is not None and "admin" in card_text(refused.reply.card)
    stranger = ctx(services, actor("U_OTHER"), users={"U_OTHER": "Otto"})
    for text in ("cronofy setup", "cronofy status", "cronofy reset", "cronofy admins add @U_OTHER"):
        reply = await run_command(stranger, text)
        assert "Only Slotbot admins" in card_text(reply[0].card), text
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.cronofy is not None and org.cronofy.data_center == "us"
    # a workspace owner (platform admin) is an admin everywhere
    owner = ctx(services, actor("U_OWNER", platform_admin=True))
    assert (await submit_setup(owner, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "de")).ok


async def test_bot_admins_from_settings(store, fake_cronofy: FakeCronofy) -> None:  # type: ignore[no-untyped-def]
    from tests.bot.cronofy.support import make_services

    services = make_services(store, fake_cronofy, BOT_ADMINS="U_OPS")
    assert (
        await submit_setup(
            ctx(services, actor("U_FIRST")), DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us"
        )
    ).ok
    reply = await run_command(ctx(services, actor("U_OPS")), "cronofy status")
    assert "Cronofy status" in card_text(reply[0].card)


async def test_admins_add_and_remove(services: Services, fake_cronofy: FakeCronofy) -> None:
    people = {"U_FIRST": "Fay", "U_SECOND": "Sam", "U_THIRD": "Tia"}
    admin = ctx(services, actor("U_FIRST"), users=people)
    assert (await submit_setup(admin, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us")).ok
    added = await run_command(admin, "cronofy admins add @U_SECOND")
    assert "Sam is now an admin" in card_text(added[0].card)
    await run_command(admin, "cronofy admins add @U_THIRD")
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.admins == ["U_FIRST", "U_SECOND", "U_THIRD"]
    listed = await run_command(admin, "cronofy admins")
    assert "U_SECOND" in card_text(listed[0].card)
    second = ctx(services, actor("U_SECOND"), users=people)
    await run_command(second, "cronofy admins remove @U_FIRST")
    denied = await run_command(admin, "cronofy admins remove @U_THIRD")
    assert "Only Slotbot admins" in card_text(denied[0].card)  # U_FIRST is no longer an admin
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.admins == ["U_SECOND", "U_THIRD"]
    await run_command(second, "cronofy admins remove @U_THIRD")
    last = await run_command(second, "cronofy admins remove @U_SECOND")
    assert "last admin" in card_text(last[0].card)
    actions = [a.action for a in await services.store.list_audit(ORG_ID)]
    assert actions.count("admins.add") == 2 and actions.count("admins.remove") == 2


async def test_reset_needs_confirmation(services: Services, fake_cronofy: FakeCronofy) -> None:
    admin = ctx(services, actor("U_FIRST"))
    assert (await submit_setup(admin, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us")).ok
    asked = await run_command(admin, "cronofy reset")
    button = next(b for b in asked[0].card.buttons if b.action_id == "cronofy.reset.confirm")
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.cronofy is not None, "nothing removed before confirming"
    refused = await run_action(ctx(services, actor("U_OTHER")), button.action_id, button.value)
    assert "Only Slotbot admins" in card_text(refused[0].card)
    done = await run_action(admin, button.action_id, button.value)
    assert "removed" in card_text(done[0].card)
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.cronofy is None and org.org_key is None
    assert org.admins == ["U_FIRST"]
    assert (await services.store.list_audit(ORG_ID))[0].action == "cronofy.reset"


async def test_only_users_the_platform_confirmed_can_become_admins(
    services: Services, fake_cronofy: FakeCronofy
) -> None:
    """A made-up word, or an id the adapter did not resolve, never lands on the list."""
    admin = ctx(services, actor("U_FIRST"), users={"U_REAL": "Rae"})
    assert (await submit_setup(admin, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "us")).ok
    for text in ("cronofy admins add nobody", "cronofy admins add @nobody"):
        reply = card_text((await run_command(admin, text))[0].card)
        assert "not a user" in reply and "/cronofy admins [add|remove @user]" in reply, text
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.admins == ["U_FIRST"]
    assert "Rae is now" in card_text(
        (await run_command(admin, "cronofy admins add @U_REAL"))[0].card
    )
    # an id already stored (say, from before ids were checked) can still be removed
    org = await services.store.get_org(ORG_ID)
    assert org is not None
    org.admins.append("nobody")
    await services.store.put_org(org)
    gone = await run_command(admin, "cronofy admins remove @nobody")
    assert "no longer an admin" in card_text(gone[0].card)
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.admins == ["U_FIRST", "U_REAL"]
