"""Turning Slack Web API failures into `DeliveryError`s that say what to do."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.errors import DeliveryError

# error code -> what a person should do about it; none of these heal by retrying
PERMANENT_REASONS: dict[str, str] = {
    "not_in_channel": (
        "Slotbot is not a member of this channel. Invite it with `/invite @Slotbot` in the "
        "channel, or send alerts elsewhere with `/cronofy alerts #channel`."
    ),
    "channel_not_found": (
        "The channel no longer exists, or it is private and Slotbot was not invited. Invite "
        "Slotbot with `/invite @Slotbot`, or send alerts elsewhere with `/cronofy alerts #channel`."
    ),
    "is_archived": (
        "The channel is archived. Unarchive it, or send alerts elsewhere with "
        "`/cronofy alerts #channel`."
    ),
    "invalid_auth": (
        "Slotbot's Slack token is not valid for this workspace. Reinstall the Slack app, "
        "or update SLACK_BOT_TOKEN."
    ),
    "not_authed": "Slotbot has no Slack token for this workspace. Install the Slack app.",
    "account_inactive": (
        "Slotbot's Slack token belongs to a deactivated app or user. Reinstall the Slack app."
    ),
    "token_revoked": "Slotbot's Slack token was revoked. Reinstall the Slack app to resume.",
    "token_expired": "Slotbot's Slack token expired. Reinstall the Slack app to resume.",
    "missing_scope": (
        "Slotbot's Slack app lacks a permission it needs. Reinstall it from the current "
        "manifest (manifest/slack.yaml)."
    ),
    "user_not_found": "That Slack user no longer exists in this workspace.",
    "user_disabled": "That Slack user has been deactivated.",
    "cannot_dm_bot": "Slotbot cannot send direct messages to another bot.",
    "restricted_action": "A workspace setting stops Slotbot from posting in this channel.",
    "msg_too_long": "The message is too long for Slack.",
    "invalid_blocks": "Slack rejected the message layout (invalid_blocks).",
    "message_not_found": "The original message is gone; it cannot be updated.",
    "cant_update_message": "Slack does not allow Slotbot to update that message.",
}

DEFAULT_RETRY_AFTER = 1.0


def _retry_after(value: str | None) -> float:
    if value is None:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return seconds if seconds >= 0 else DEFAULT_RETRY_AFTER


def delivery_error_from_slack(exc: SlackApiError, method: str) -> DeliveryError:
    """Map a Slack API error to a permanent error or a retryable one.

    `reason` is Slack's error code (channel_not_found, not_in_channel, …), what the outbox
    worker decides on; the message says in words what to do about it."""
    response = exc.response
    code = str(response.get("error") or "unknown_error")
    status = response.status_code
    if status == 429 or code == "ratelimited":
        header = response.headers.get("Retry-After") or response.headers.get("retry-after")
        seconds = _retry_after(header if isinstance(header, str) else None)
        return DeliveryError(
            f"Slack rate-limited {method}; retry in {seconds:g}s",
            retry_after=seconds,
            reason="ratelimited",
        )
    advice = PERMANENT_REASONS.get(code)
    if advice is not None:
        return DeliveryError(
            f"Slack {method} failed: {code}. {advice}", permanent=True, reason=code
        )
    return DeliveryError(f"Slack {method} failed: {code}", reason=code)


def delivery_error_from_transport(exc: BaseException, method: str) -> DeliveryError:
    """A connection failure or timeout: worth another try later."""
    if isinstance(exc, asyncio.TimeoutError):
        what = "timed out"
    elif isinstance(exc, aiohttp.ClientError):
        what = f"connection failed ({type(exc).__name__})"
    else:
        what = f"failed ({type(exc).__name__})"
    return DeliveryError(f"Slack {method} {what}", reason="slack_unreachable")
