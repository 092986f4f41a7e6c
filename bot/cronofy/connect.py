"""A recruiter's calendar connection: the OAuth round trip, token upkeep, disconnect.

`state` is random, single-use, bound to org + member and lives 10 minutes. The callback
consumes it atomically before anything else, so a replayed or concurrent second callback
finds it gone. Only a state Slotbot issued leaves anything in the store when it comes back
(a short-lived trace, so using it again says "already used"): a state Slotbot never made is
refused without a single write. Tokens are encrypted before they reach the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot import logs
from bot.chat import DeliveryTarget
from bot.cronofy.client import (
    CronofyClient,
    CronofyKeys,
    CronofyRequestFailed,
    CronofyUnauthorized,
    TokenGrant,
)
from bot.cronofy.setup import cronofy_client, org_keys
from bot.cronofy.urls import callback_url
from bot.errors import CommandError, CronofyAuthExpired, CronofyUnreachable, SecretKeyRetired
from bot.outbox import notice_job
from bot.runtime import Services
from bot.store.records import Member, OAuthState, Org
from cards import pages, scheduling

log = logging.getLogger(__name__)

STATE_TTL = 600.0
STATE_PURPOSE = "cronofy_connect"
# what a consumed state leaves behind, under its own value, so a second callback with it is
# told "already used" rather than "not recognised"
USED_PURPOSE = "cronofy_connect_used"
# refresh when the access token has less than this left
REFRESH_MARGIN = 300.0
# how long a consumed state is remembered, to tell "already used" from "unknown"
USED_STATE_TTL = 86400.0
MAX_PARAM = 2048
# what secrets.token_urlsafe(32) makes
STATE_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")

T = TypeVar("T")


class NotSetUp(CommandError):
    public_message = scheduling.NOT_SET_UP


class NotConnected(CommandError):
    """The member has no working Cronofy connection; `authorize_url` lets them connect."""

    public_message = scheduling.CONNECT_FIRST

    def __init__(self, authorize_url: str) -> None:
        super().__init__()
        self.authorize_url = authorize_url


@dataclass(frozen=True)
class CallbackPage:
    """What the OAuth callback shows in the browser."""

    status: int
    title: str
    message: str

    @classmethod
    def of(cls, status: int, page: pages.Page) -> CallbackPage:
        return cls(status, page.title, page.message)


async def _org_and_keys(services: Services, org_id: str) -> tuple[Org, CronofyKeys]:
    org = await services.store.get_org(org_id)
    if org is None:
        raise NotSetUp()
    try:
        keys = org_keys(services, org)
    except SecretKeyRetired:
        raise NotSetUp(scheduling.KEYS_UNREADABLE) from None
    if keys is None:
        raise NotSetUp()
    return org, keys


async def authorize_url_for(services: Services, org_id: str, user_id: str) -> str:
    """A fresh connect link for this member (stores a new single-use state)."""
    org, keys = await _org_and_keys(services, org_id)
    state = secrets.token_urlsafe(32)
    await services.store.put_oauth_state(
        OAuthState(
            state=state,
            purpose=STATE_PURPOSE,
            org_id=org_id,
            member_id=user_id,
            expires_at=services.clock() + STATE_TTL,
            data={"platform": org.platform},
        )
    )
    return cronofy_client(services).authorize_url(keys, callback_url(services.settings), state)


_taking: dict[str, tuple[asyncio.Lock, int]] = {}


@contextlib.asynccontextmanager
async def _one_at_a_time(state: str) -> AsyncIterator[None]:
    """Callbacks with the same state take turns in this process, so the second of two at once
    finds the first one's trace ("already used"). The table holds only states in flight."""
    key = hashlib.sha256(state.encode("utf-8")).hexdigest()
    lock, users = _taking.get(key) or (asyncio.Lock(), 0)
    _taking[key] = (lock, users + 1)
    try:
        async with lock:
            yield
    finally:
        lock, users = _taking[key]
        if users <= 1:
            del _taking[key]
        else:
            _taking[key] = (lock, users - 1)


async def _take_state(services: Services, state: str) -> OAuthState | CallbackPage:
    """The issued state, consumed; or the page that refuses the callback. Nothing is written
    for a state Slotbot did not issue."""
    store = services.store
    async with _one_at_a_time(state):
        record = await store.consume_oauth_state(state)
        if record is None:
            return _rejected(400, pages.connect_failed("unrecognised"), "unknown state")
        if record.purpose == USED_PURPOSE:
            await store.put_oauth_state(record)  # the trace stays for the next try
            return _rejected(409, pages.connect_failed("used"), "state reused")
        if record.purpose != STATE_PURPOSE:
            await store.put_oauth_state(record)  # another feature's state: not ours to spend
            return _rejected(400, pages.connect_failed("unrecognised"), "unknown state")
        now = services.clock()
        if record.expires_at < now:
            return _rejected(410, pages.connect_failed("expired"), "expired state")
        await store.put_oauth_state(
            OAuthState(
                state=state,
                purpose=USED_PURPOSE,
                org_id="",
                member_id="",
                expires_at=now + USED_STATE_TTL,
            )
        )
    return record


async def handle_callback(
    services: Services, params: Mapping[str, str], *, client: CronofyClient | None = None
) -> CallbackPage:
    """GET /cronofy/oauth/callback: every outcome is a page; nothing is stored unless the
    whole connection worked."""
    state = params.get("state", "")
    if not state or len(state) > MAX_PARAM:
        return _rejected(400, pages.connect_failed("no_state"), "no state")
    if not STATE_FORMAT.fullmatch(state):
        # not one Slotbot made: answer without touching the store
        return _rejected(400, pages.connect_failed("unrecognised"), "malformed state")
    taken = await _take_state(services, state)
    if isinstance(taken, CallbackPage):
        return taken
    record = taken
    error = params.get("error", "")
    if error:
        if error == "access_denied":
            return _rejected(403, pages.connect_failed("denied"), "access denied")
        return _rejected(400, pages.connect_failed("not_completed"), "oauth error")
    code = params.get("code", "")
    if not code or len(code) > MAX_PARAM:
        return _rejected(400, pages.connect_failed("no_code"), "no code")
    try:
        org, keys = await _org_and_keys(services, record.org_id)
    except NotSetUp as exc:
        return _rejected(409, pages.connect_not_set_up(exc.public_message), "org not set up")

    client = client or cronofy_client(services)
    try:
        grant = await client.exchange_code(keys, code, callback_url(services.settings))
        info = await client.userinfo(keys, grant.access_token)
    except CronofyRequestFailed as exc:
        if exc.error in ("invalid_grant", "unknown_or_used"):
            return _rejected(400, pages.connect_failed("code_used"), "code refused")
        return _rejected(400, pages.connect_refused(exc.status), "code refused")
    except CronofyUnreachable:
        return _rejected(503, pages.connect_failed("unreachable"), "unreachable")

    now = services.clock()
    member = await services.store.get_member(record.org_id, record.member_id)
    if member is None:
        member = Member(org_id=record.org_id, user_id=record.member_id)
    member.cronofy_sub = info.sub or grant.sub
    member.email = info.email
    member.name = info.name
    member.zone = info.zone
    _store_grant(services, member, grant, now)
    member.connected = True
    member.updated_at = now
    await services.store.put_member(member)
    log.info(logs.CRONOFY_CONNECTED, member.user_id, member.org_id)
    target = DeliveryTarget(org.platform, org.org_id, "dm", user_id=member.user_id)
    shown = scheduling.account_label(info.email, info.name)
    await services.store.enqueue(
        [
            notice_job(
                org.org_id,
                target,
                scheduling.calendar_connected(info.email or shown, info.name),
                now=now,
            )
        ]
    )
    return CallbackPage.of(200, pages.connected(shown))


def _rejected(status: int, page: pages.Page, why: str) -> CallbackPage:
    log.info(logs.CRONOFY_CALLBACK_REJECTED, why)
    return CallbackPage.of(status, page)


def _store_grant(services: Services, member: Member, grant: TokenGrant, now: float) -> None:
    member.access_token_enc = services.secrets.encrypt(grant.access_token)
    if grant.refresh_token:
        member.refresh_token_enc = services.secrets.encrypt(grant.refresh_token)
    member.token_expires_at = now + grant.expires_in


async def find_member_by_sub(services: Services, org_id: str, sub: str) -> Member | None:
    for member in await services.store.list_members(org_id):
        if member.cronofy_sub == sub:
            return member
    return None


async def handle_disconnected(
    services: Services, org_id: str, member_user_id: str, reason: str
) -> None:
    """Mark the member disconnected, forget their tokens and send them a reconnect link.
    `member_user_id` may also be the member's Cronofy `sub` (what a channel notification
    carries). Nothing is sent when they were already disconnected."""
    member = await services.store.get_member(org_id, member_user_id)
    if member is None:
        member = await find_member_by_sub(services, org_id, member_user_id)
    if member is None:
        return
    was_connected = member.connected
    member.connected = False
    member.access_token_enc = None
    member.refresh_token_enc = None
    member.token_expires_at = None
    member.updated_at = services.clock()
    await services.store.put_member(member)
    log.info(logs.CRONOFY_DISCONNECTED, member.user_id, org_id, reason)
    if not was_connected:
        return
    org = await services.store.get_org(org_id)
    if org is None:
        return
    try:
        url: str | None = await authorize_url_for(services, org_id, member.user_id)
    except NotSetUp:
        url = None
    target = DeliveryTarget(org.platform, org_id, "dm", user_id=member.user_id)
    await services.store.enqueue(
        [notice_job(org_id, target, scheduling.reconnect_prompt(url), now=services.clock())]
    )


async def access_token(
    services: Services,
    member: Member,
    keys: CronofyKeys,
    *,
    force_refresh: bool = False,
    client: CronofyClient | None = None,
) -> str:
    """The member's access token, refreshed first when it is about to expire (or forced).
    A refused refresh disconnects the member and raises CronofyAuthExpired."""
    if not member.connected or not member.access_token_enc:
        raise CronofyAuthExpired(scheduling.CALENDAR_NOT_CONNECTED)
    now = services.clock()
    try:
        token = services.secrets.decrypt(member.access_token_enc)
        refresh = services.secrets.decrypt_optional(member.refresh_token_enc)
    except SecretKeyRetired:
        await handle_disconnected(
            services, member.org_id, member.user_id, "stored token unreadable"
        )
        raise CronofyAuthExpired(scheduling.CONNECTION_UNREADABLE) from None
    due = member.token_expires_at is not None and member.token_expires_at - now < REFRESH_MARGIN
    if not (force_refresh or due):
        return token
    # One refresh at a time per member: Cronofy may rotate the refresh token, and a second
    # refresh with the old one would fail and disconnect a working connection.
    async with _refresh_lock(member.org_id, member.user_id):
        latest = await services.store.get_member(member.org_id, member.user_id)
        if latest is not None and latest.access_token_enc != member.access_token_enc:
            _copy_tokens(latest, member)
            if latest.connected and latest.access_token_enc:
                return services.secrets.decrypt(latest.access_token_enc)
            raise CronofyAuthExpired(scheduling.CALENDAR_NOT_CONNECTED)
        return await _refresh(services, member, keys, refresh, client)


async def _refresh(
    services: Services,
    member: Member,
    keys: CronofyKeys,
    refresh: str | None,
    client: CronofyClient | None,
) -> str:
    if not refresh:
        await handle_disconnected(services, member.org_id, member.user_id, "no refresh token")
        raise CronofyAuthExpired(scheduling.CONNECTION_EXPIRED)
    try:
        grant = await (client or cronofy_client(services)).refresh(keys, refresh)
    except CronofyRequestFailed:
        # another replica may have refreshed (and rotated the token) meanwhile
        latest = await services.store.get_member(member.org_id, member.user_id)
        if (
            latest is not None
            and latest.connected
            and latest.access_token_enc
            and latest.refresh_token_enc != member.refresh_token_enc
        ):
            _copy_tokens(latest, member)
            return services.secrets.decrypt(latest.access_token_enc)
        await handle_disconnected(services, member.org_id, member.user_id, "refresh refused")
        raise CronofyAuthExpired(scheduling.CONNECTION_NOT_ACCEPTED) from None
    _store_grant(services, member, grant, services.clock())
    member.updated_at = services.clock()
    await services.store.put_member(member)
    log.info(logs.CRONOFY_REFRESHED, member.user_id, member.org_id)
    return grant.access_token


_refresh_locks: dict[tuple[int, str, str], asyncio.Lock] = {}


def _refresh_lock(org_id: str, user_id: str) -> asyncio.Lock:
    key = (id(asyncio.get_running_loop()), org_id, user_id)
    lock = _refresh_locks.get(key)
    if lock is None:
        lock = _refresh_locks[key] = asyncio.Lock()
    return lock


def _copy_tokens(source: Member, target: Member) -> None:
    target.access_token_enc = source.access_token_enc
    target.refresh_token_enc = source.refresh_token_enc
    target.token_expires_at = source.token_expires_at
    target.connected = source.connected


async def call_as_member(
    services: Services,
    org_id: str,
    user_id: str,
    call: Callable[[CronofyKeys, Member, str], Awaitable[T]],
    *,
    client: CronofyClient | None = None,
) -> T:
    """Run `call(keys, member, access_token)`; on a 401 refresh once and try again.
    Raises NotConnected (with a fresh connect link) when the member has no connection."""
    _org, keys = await _org_and_keys(services, org_id)
    member = await services.store.get_member(org_id, user_id)
    try:
        if member is None:
            raise CronofyAuthExpired(scheduling.CALENDAR_NOT_CONNECTED)
        token = await access_token(services, member, keys, client=client)
        try:
            return await call(keys, member, token)
        except CronofyUnauthorized:
            token = await access_token(services, member, keys, force_refresh=True, client=client)
            try:
                return await call(keys, member, token)
            except CronofyUnauthorized:
                await handle_disconnected(services, org_id, user_id, "token refused after refresh")
                raise CronofyAuthExpired(scheduling.CONNECTION_REFUSED) from None
    except CronofyAuthExpired:
        raise NotConnected(await authorize_url_for(services, org_id, user_id)) from None


async def disconnect(
    services: Services, org_id: str, user_id: str, *, client: CronofyClient | None = None
) -> bool:
    """Revoke at Cronofy and forget the tokens. False when there was nothing to disconnect.
    When Cronofy cannot be reached nothing changes (CronofyUnreachable is raised)."""
    member = await services.store.get_member(org_id, user_id)
    if member is None or not (
        member.connected or member.access_token_enc or member.refresh_token_enc
    ):
        return False
    org = await services.store.get_org(org_id)
    keys = None
    if org is not None:
        try:
            keys = org_keys(services, org)
        except SecretKeyRetired:
            keys = None
    token = None
    try:
        token = services.secrets.decrypt_optional(member.refresh_token_enc) or (
            services.secrets.decrypt_optional(member.access_token_enc)
        )
    except SecretKeyRetired:
        token = None
    if keys is not None and token:
        try:
            await (client or cronofy_client(services)).revoke(keys, token)
        except CronofyRequestFailed as exc:
            # the token is already dead at Cronofy: nothing left to revoke
            log.info(logs.CRONOFY_REVOKE_FAILED, user_id, org_id, exc.status)
    member.connected = False
    member.access_token_enc = None
    member.refresh_token_enc = None
    member.token_expires_at = None
    member.cronofy_sub = None
    member.updated_at = services.clock()
    await services.store.put_member(member)
    log.info(logs.CRONOFY_DISCONNECTED, user_id, org_id, "disconnected by the member")
    return True
