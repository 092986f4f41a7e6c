"""HTTP routes of the cronofy feature."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add this feature's routes and background tasks to the app."""
