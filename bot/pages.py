"""The browser pages Slotbot serves (the OAuth redirect's outcome, the booked page, a 429):
a title and a paragraph from `cards.pages`, escaped into one small HTML page; and `limited`,
the rate limit per client address of every route anyone can reach without credentials."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot import logs
from bot.ratelimit import client_address
from bot.runtime import PAGE_LIMITER, SERVICES
from cards.pages import Page, too_many_requests

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · Slotbot</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto; line-height: 1.5">
<h1>{title}</h1><p>{message}</p></body></html>
"""


def html_page(status: int, page: Page, *, headers: Mapping[str, str] | None = None) -> web.Response:
    body = _PAGE.format(title=html.escape(page.title), message=html.escape(page.message))
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        },
    )


def limited(handler: Handler) -> Handler:
    """`handler`, answering 429 with Retry-After to a client address over the app's limit."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        limiter = request.app.get(PAGE_LIMITER)
        if limiter is not None:
            address = client_address(request, request.app[SERVICES].settings.proxy_hops)
            wait, first = limiter.check(address)
            if wait > 0:
                if first:
                    log.warning(logs.RATE_LIMITED, address, request.path)
                return html_page(
                    429,
                    too_many_requests(),
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
        return await handler(request)

    return guarded
