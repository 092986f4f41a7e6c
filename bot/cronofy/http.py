"""HTTP routes of the cronofy feature: the OAuth redirect of a recruiter's calendar connect,
and the page a candidate sees after booking through a Real-Time Scheduling link."""

from __future__ import annotations

import html
import logging

from aiohttp import web

from bot import logs
from bot.cronofy.connect import CallbackPage, handle_callback
from bot.cronofy.urls import BOOKED_PATH, CALLBACK_PATH
from bot.errors import StoreError
from bot.runtime import SERVICES
from cards import pages

log = logging.getLogger(__name__)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · Slotbot</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto; line-height: 1.5">
<h1>{title}</h1><p>{message}</p></body></html>
"""


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
    body = _PAGE.format(title=html.escape(page.title), message=html.escape(page.message))
    return web.Response(
        status=page.status,
        text=body,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def setup(app: web.Application) -> None:
    """Add this feature's routes to the app."""
    app.router.add_get(CALLBACK_PATH, oauth_callback)
    app.router.add_get(BOOKED_PATH, booked_page)
