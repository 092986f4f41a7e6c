"""The Teams adapter."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Mount the Teams routes and register the Teams delivery adapter."""
