"""The Slack adapter."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Mount the Slack routes and register the Slack delivery adapter."""
