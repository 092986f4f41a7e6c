"""Turning Slack Web API failures into `DeliveryError`s that say what happened and what to do.

Each error code Slack answers is mapped to a `DeliveryFailure`, the only thing the outbox
worker acts on; the code itself stays the error's `reason` (shown with the dead letter), and
the message says in words what a person should do.
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.chat import DeliveryFailure
from bot.errors import DeliveryError

GONE = DeliveryFailure.GONE
NOT_MEMBER = DeliveryFailure.NOT_MEMBER
AUTH = DeliveryFailure.AUTH
REJECTED = DeliveryFailure.REJECTED


class KnownError(NamedTuple):
    failure: DeliveryFailure
    advice: str  # what a person should do about it


# error code -> what it means for a delivery, and what to do; none of these heal by retrying.
# Slack answers `channel_not_found` for a private channel Slotbot was never invited to as much
# as for a deleted one, and inviting Slotbot fixes the first: the channel is the problem, not
# the message, so it is "not a member". A message that can no longer be updated is "gone": the
# worker posts a new one instead.
KNOWN_ERRORS: dict[str, KnownError] = {
    "not_in_channel": KnownError(
        NOT_MEMBER,
        "Slotbot is not a member of this channel. Invite it with `/invite @Slotbot` in the "
        "channel, or send alerts elsewhere with `/cronofy alerts #channel`.",
    ),
    "channel_not_found": KnownError(
        NOT_MEMBER,
        "The channel no longer exists, or it is private and Slotbot was not invited. Invite "
        "Slotbot with `/invite @Slotbot`, or send alerts elsewhere with `/cronofy alerts #channel`.",
    ),
    "is_archived": KnownError(
        GONE,
        "The channel is archived. Unarchive it, or send alerts elsewhere with "
        "`/cronofy alerts #channel`.",
    ),
    "invalid_auth": KnownError(
        AUTH,
        "Slotbot's Slack token is not valid for this workspace. Reinstall the Slack app, "
        "or update SLACK_BOT_TOKEN.",
    ),
    "not_authed": KnownError(
        AUTH, "Slotbot has no Slack token for this workspace. Install the Slack app."
    ),
    "account_inactive": KnownError(
        AUTH, "Slotbot's Slack token belongs to a deactivated app or user. Reinstall the Slack app."
    ),
    "token_revoked": KnownError(
        AUTH, "Slotbot's Slack token was revoked. Reinstall the Slack app to resume."
    ),
    "token_expired": KnownError(
        AUTH, "Slotbot's Slack token expired. Reinstall the Slack app to resume."
    ),
    "missing_scope": KnownError(
        AUTH,
        "Slotbot's Slack app lacks a permission it needs. Reinstall it from the current "
        "manifest (manifest/slack.yaml).",
    ),
    "user_not_found": KnownError(GONE, "That Slack user no longer exists in this workspace."),
    "user_disabled": KnownError(GONE, "That Slack user has been deactivated."),
    "cannot_dm_bot": KnownError(REJECTED, "Slotbot cannot send direct messages to another bot."),
    "restricted_action": KnownError(
        NOT_MEMBER, "A workspace setting stops Slotbot from posting in this channel."
    ),
    "msg_too_long": KnownError(REJECTED, "The message is too long for Slack."),
    "invalid_blocks": KnownError(REJECTED, "Slack rejected the message layout (invalid_blocks)."),
    "message_not_found": KnownError(GONE, "The original message is gone; it cannot be updated."),
    "cant_update_message": KnownError(GONE, "Slack does not allow Slotbot to update that message."),
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
    """Map a Slack API error to the failure it is: a rate limit, one of `KNOWN_ERRORS`, or
    (any other code) a transient failure worth another try.

    `reason` is Slack's error code (channel_not_found, not_in_channel, …); the message says in
    words what to do about it."""
    response = exc.response
    code = str(response.get("error") or "unknown_error")
    status = response.status_code
    if status == 429 or code == "ratelimited":
        header = response.headers.get("Retry-After") or response.headers.get("retry-after")
        seconds = _retry_after(header if isinstance(header, str) else None)
        return DeliveryError(
            f"Slack rate-limited {method}; retry in {seconds:g}s",
            failure=DeliveryFailure.RATE_LIMITED,
            retry_after=seconds,
            reason="ratelimited",
        )
    known = KNOWN_ERRORS.get(code)
    if known is not None:
        return DeliveryError(
            f"Slack {method} failed: {code}. {known.advice}", failure=known.failure, reason=code
        )
    return DeliveryError(
        f"Slack {method} failed: {code}", failure=DeliveryFailure.TRANSIENT, reason=code
    )


def delivery_error_from_transport(exc: BaseException, method: str) -> DeliveryError:
    """A connection failure or timeout: worth another try later."""
    if isinstance(exc, asyncio.TimeoutError):
        what = "timed out"
    elif isinstance(exc, aiohttp.ClientError):
        what = f"connection failed ({type(exc).__name__})"
    else:
        what = f"failed ({type(exc).__name__})"
    return DeliveryError(
        f"Slack {method} {what}", failure=DeliveryFailure.TRANSIENT, reason="slack_unreachable"
    )
