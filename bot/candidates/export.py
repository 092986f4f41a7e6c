"""Export: one candidate's own data (`/cronofy candidate export <email>`) as JSON behind a
short-lived private link, and every candidate of an org (`python -m bot export`, `cli`).

The link: a random token shown once in the admin's private answer; the store keeps only its
SHA-256, as a single-use state (`Store.put_oauth_state`, purpose "candidate_export") that
lapses after `LINK_TTL`. `GET /exports/<token>` consumes it and builds the document at that
moment, so a candidate erased in between is not served. The route needs no session: the
token is the credential, as good as a password for ten minutes, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from typing import Any

from aiohttp import web

from bot import logs
from bot.api.views import candidate_json
from bot.errors import StoreError
from bot.pages import limited
from bot.runtime import SERVICES, Services
from bot.store.base import Store
from bot.store.records import Booking, Candidate, OAuthState, TimelineEntry, to_dict

log = logging.getLogger(__name__)

EXPORT_PATH = "/exports/{token}"
LINK_TTL = 600.0  # seconds
PURPOSE = "candidate_export"
# everything a candidate's timeline can hold, read in one go
TIMELINE_LIMIT = 1_000_000
FORMAT_VERSION = 1


def _state_of(token: str) -> str:
    return "candidate_export:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def candidate_record(candidate: Candidate, timeline: list[TimelineEntry]) -> dict[str, Any]:
    """A candidate as exported: the profile and its timeline oldest first, in the same shape
    as the read API's candidate (`bot.api.views.candidate_json`), so one reader serves both."""
    return candidate_json(candidate, timeline)


async def candidate_document(store: Store, candidate: Candidate) -> dict[str, Any]:
    """Everything Slotbot keeps about one candidate: profile, timeline and bookings."""
    org_id = candidate.org_id
    timeline = await store.list_timeline(org_id, candidate.candidate_id, limit=TIMELINE_LIMIT)
    bookings: list[Booking] = [
        b for b in await store.list_bookings(org_id) if b.candidate_id == candidate.candidate_id
    ]
    return {
        "format": "slotbot.candidate",
        "version": FORMAT_VERSION,
        "org_id": org_id,
        **candidate_record(candidate, timeline),
        "bookings": [to_dict(b) for b in bookings],
    }


async def make_link(services: Services, candidate: Candidate, *, actor: str) -> str:
    """A single-use download link for the candidate's document, valid for LINK_TTL."""
    token = secrets.token_urlsafe(32)
    now = services.clock()
    await services.store.put_oauth_state(
        OAuthState(
            state=_state_of(token),
            purpose=PURPOSE,
            org_id=candidate.org_id,
            member_id=actor,
            expires_at=now + LINK_TTL,
            data={"candidate_id": candidate.candidate_id},
        )
    )
    log.info(logs.EXPORT_LINK_MADE, candidate.candidate_id, candidate.org_id, actor)
    base = services.settings.public_url.rstrip("/")
    return base + EXPORT_PATH.replace("{token}", token)


def _refused(status: int, code: str, why: str) -> web.Response:
    log.info(logs.EXPORT_REFUSED, why)
    return web.json_response({"error": code}, status=status, headers={"Cache-Control": "no-store"})


async def download(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    token = request.match_info.get("token", "")
    if not 20 <= len(token) <= 100:
        return _refused(404, "not_found", "malformed token")
    try:
        state = await services.store.consume_oauth_state(_state_of(token))
        if state is None or state.purpose != PURPOSE:
            return _refused(404, "not_found", "unknown or used token")
        if state.expires_at < services.clock():
            return _refused(410, "expired", "expired token")
        candidate_id = state.data.get("candidate_id")
        candidate = (
            await services.store.get_candidate(state.org_id, candidate_id)
            if isinstance(candidate_id, str)
            else None
        )
        if candidate is None:
            return _refused(404, "not_found", "candidate no longer on record")
        document = await candidate_document(services.store, candidate)
    except StoreError:
        return _refused(503, "unavailable", "store unavailable")
    log.info(logs.EXPORT_SERVED, candidate.candidate_id, candidate.org_id)
    return web.Response(
        body=json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="candidate-{candidate.candidate_id}.json"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def setup(app: web.Application) -> None:
    """Add the download route (rate-limited per client address like every public page)."""
    app.router.add_get(EXPORT_PATH, limited(download))
