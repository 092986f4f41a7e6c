"""HTTP routes of the cronofy feature: the OAuth redirect of a recruiter's calendar connect,
and the page a candidate sees after booking through a Real-Time Scheduling link. Anyone can
reach both without credentials: each client address gets only so many requests
(`bot.pages.limited`)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot import logs
from bot.cronofy.connect import CallbackPage, handle_callback
from bot.cronofy.urls import BOOKED_PATH, CALLBACK_PATH
from bot.errors import StoreError
from bot.pages import html_page, limited
from bot.runtime import SERVICES
from cards import pages

log = logging.getLogger(__name__)


async def oauth_callback(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    params = {k: v for k, v in request.query.items() if isinstance(v, str)}
    try:
        page = await handle_callback(services, params)
    except StoreError:
        log.exception(logs.CRONOFY_CALLBACK_REJECTED, "store unavailable")
        page = CallbackPage.of(503, pages.connect_failed("store_down"))
    return _page(page)


async def booked_page(request: web.Request) -> web.Response:
    """Where Cronofy sends a candidate after they chose a time: the same words for everyone,
    nothing read from the request, nothing about the booking or the recruiter."""
    return _page(CallbackPage.of(200, pages.booked()))


def _page(page: CallbackPage) -> web.Response:
    return html_page(page.status, pages.Page(page.title, page.message))


def setup(app: web.Application) -> None:
    """Add this feature's routes to the app."""
    app.router.add_get(CALLBACK_PATH, limited(oauth_callback))
    app.router.add_get(BOOKED_PATH, limited(booked_page))
