"""Every path Slotbot serves for Cronofy, once, and the public URLs made from them."""

from __future__ import annotations

from bot.config import Settings

# the org's Universal Push Notification URL (org_key is random, per org)
PUSH_PATH = "/cronofy/push/{org_key}"
# where Cronofy sends a recruiter back after they connected their calendar
CALLBACK_PATH = "/cronofy/oauth/callback"
# where Cronofy sends a candidate after they booked through a Real-Time Scheduling link
BOOKED_PATH = "/cronofy/booked"


def _public(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + path


def push_url(settings: Settings, org_key: str) -> str:
    return _public(settings, PUSH_PATH.format(org_key=org_key))


def callback_url(settings: Settings) -> str:
    return _public(settings, CALLBACK_PATH)


def booked_url(settings: Settings) -> str:
    return _public(settings, BOOKED_PATH)
