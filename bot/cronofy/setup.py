"""Org set-up: the Cronofy keys an admin enters, and reset (admins: bot.cronofy.admins).

Every change is written to the audit log (who, when, what; never the secret). The first
member to complete setup on an org with no admin becomes its admin — nobody chose them — so
that is made visible: an audit entry of its own (`admins.first`), a log line, and a note in
the conversation the setup was asked from, unless that was a direct message.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from bot import logs
from bot.chat import Actor, Conversation, DeliveryTarget
from bot.cronofy.admins import is_admin
from bot.cronofy.client import (
    CronofyClient,
    CronofyKeys,
    normalise_data_center,
    timeout_from,
)
from bot.cronofy.urls import callback_url, push_url
from bot.errors import CronofyUnreachable, PermissionDenied
from bot.org_state import audit, get_or_new_org
from bot.outbox import notice_job
from bot.runtime import Services
from bot.store.records import DATA_CENTERS, CronofyConfig, Org
from cards import actions
from cards import setup as setup_cards

log = logging.getLogger(__name__)


@dataclass
class SetupResult:
    ok: bool
    field_errors: dict[str, str] = field(default_factory=dict)
    push_url: str = ""
    data_center: str = ""
    became_admin: bool = False
    unreachable: bool = False


def cronofy_client(services: Services) -> CronofyClient:
    return CronofyClient(services.settings, timeout=timeout_from(services.settings))


def org_keys(services: Services, org: Org) -> CronofyKeys | None:
    """The org's keys with the secret decrypted; None when Cronofy is not set up."""
    if org.cronofy is None:
        return None
    return CronofyKeys(
        client_id=org.cronofy.client_id,
        client_secret=services.secrets.decrypt(org.cronofy.client_secret_enc),
        data_center=org.cronofy.data_center,
    )


def mask_client_id(client_id: str) -> str:
    if len(client_id) <= 8:
        return "***"
    return f"{client_id[:4]}…{client_id[-4:]}"


def may_run_setup(services: Services, org: Org | None, actor: Actor) -> bool:
    """Admins may; on an org with no admin and no keys yet, anyone may (and becomes admin)."""
    if is_admin(services, org, actor):
        return True
    return org is None or (not org.admins and org.cronofy is None)


async def submit_setup(
    services: Services,
    actor: Actor,
    client_id: str,
    client_secret: str,
    data_center: str,
    *,
    client: CronofyClient | None = None,
    where: Conversation | None = None,
) -> SetupResult:
    """Check the keys with Cronofy, then store them; nothing is stored unless they work.
    `where` is the conversation the setup was asked from (a first admin is announced there,
    unless it is a direct message)."""
    org = await services.store.get_org(actor.org_id)
    if not may_run_setup(services, org, actor):
        raise PermissionDenied()
    client_id = client_id.strip()
    client_secret = client_secret.strip()
    errors: dict[str, str] = {}
    center = normalise_data_center(data_center)
    if center is None:
        errors[actions.DATA_CENTER] = setup_cards.choose_data_center(DATA_CENTERS)
    if not client_id or len(client_id) > 200 or any(c.isspace() for c in client_id):
        errors[actions.CLIENT_ID] = setup_cards.CLIENT_ID_NEEDED
    if not client_secret or len(client_secret) > 200 or any(c.isspace() for c in client_secret):
        errors[actions.CLIENT_SECRET] = setup_cards.CLIENT_SECRET_NEEDED
    if errors or center is None:
        return SetupResult(ok=False, field_errors=errors)

    keys = CronofyKeys(client_id, client_secret, center)
    check = await (client or cronofy_client(services)).check_keys(
        keys, callback_url(services.settings)
    )
    if check.result == "unreachable":
        log.warning(logs.CRONOFY_SETUP_REJECTED, actor.org_id, "unreachable")
        return SetupResult(
            ok=False,
            unreachable=True,
            field_errors={actions.CLIENT_ID: check.reason or CronofyUnreachable.public_message},
        )
    if check.result == "not_recognised":
        log.info(logs.CRONOFY_SETUP_REJECTED, actor.org_id, "keys not recognised")
        return SetupResult(
            ok=False,
            field_errors={
                actions.CLIENT_ID: check.reason,
                actions.CLIENT_SECRET: setup_cards.CHECK_SECRET_TOO,
            },
        )

    # re-read: the org may have changed while Cronofy was being asked
    org = await get_or_new_org(services, actor)
    if not may_run_setup(services, org, actor):
        raise PermissionDenied()
    now = services.clock()
    replaced = org.cronofy is not None
    org.cronofy = CronofyConfig(
        client_id=client_id,
        client_secret_enc=services.secrets.encrypt(client_secret),
        data_center=center,
        configured_by=actor.user_id,
        configured_at=now,
    )
    if not org.org_key:
        # letters and digits only: the push URL is pasted by hand and shown in markdown
        org.org_key = secrets.token_hex(20)
    became_admin = False
    if not org.admins:
        org.admins.append(actor.user_id)
        became_admin = True
    org.updated_at = now
    await services.store.put_org(org)
    await audit(
        services,
        org.org_id,
        actor.user_id,
        "cronofy.setup",
        client_id=mask_client_id(client_id),
        data_center=center,
        replaced=replaced,
        became_admin=became_admin,
    )
    log.info(logs.CRONOFY_SETUP, org.org_id, actor.user_id, center)
    if became_admin:
        await _announce_first_admin(services, org, actor, where)
    return SetupResult(
        ok=True,
        push_url=push_url(services.settings, org.org_key),
        data_center=center,
        became_admin=became_admin,
    )


async def _announce_first_admin(
    services: Services, org: Org, actor: Actor, where: Conversation | None
) -> None:
    """Audit, log and (outside direct messages) tell the conversation who became admin."""
    public = where is not None and where.kind != "dm" and bool(where.conversation_id)
    said_in = where.conversation_id if where is not None and public else ""
    await audit(services, org.org_id, actor.user_id, "admins.first", user_id=actor.user_id)
    log.info(logs.CRONOFY_FIRST_ADMIN, actor.user_id, org.org_id, said_in or "no conversation")
    if not public:
        return
    target = DeliveryTarget(org.platform, org.org_id, "channel", conversation_id=said_in)
    card = setup_cards.first_admin_announced(actor.display_name or actor.user_id)
    await services.store.enqueue([notice_job(org.org_id, target, card, now=services.clock())])


async def reset(services: Services, actor: Actor) -> bool:
    """Remove the org's Cronofy config (keys, push URL) and members' tokens. False when
    there was nothing to remove."""
    org = await services.store.get_org(actor.org_id)
    if not is_admin(services, org, actor):
        raise PermissionDenied()
    if org is None or (org.cronofy is None and org.org_key is None):
        return False
    org.cronofy = None
    org.org_key = None
    org.updated_at = services.clock()
    await services.store.put_org(org)
    # tokens were issued to the removed application: they cannot be refreshed any more
    for member in await services.store.list_members(org.org_id):
        if member.access_token_enc or member.refresh_token_enc or member.connected:
            member.access_token_enc = None
            member.refresh_token_enc = None
            member.token_expires_at = None
            member.connected = False
            member.updated_at = services.clock()
            await services.store.put_member(member)
    await audit(services, org.org_id, actor.user_id, "cronofy.reset")
    log.info(logs.CRONOFY_RESET, org.org_id, actor.user_id)
    return True
