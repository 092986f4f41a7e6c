"""Turning Bot Framework connector failures into `DeliveryError`s that say what happened.

The connector answers an HTTP status and, in its body, an error code
(`{"error": {"code": "BotNotInConversationRoster", "message": …}}`). Each answer is mapped to a
`DeliveryFailure`, the only thing the outbox worker acts on; the status stays the error's
`reason` (`teams_403`, shown with the dead letter) and the message names the code and says
what to do. The codes are those Microsoft documents for the bot conversation APIs.
"""

from __future__ import annotations

from botbuilder.schema import ErrorResponseException

from bot.chat import DeliveryFailure
from bot.errors import DeliveryError

# throttling, a concurrent change of the same conversation, and the gateway: worth another try
RETRYABLE = frozenset({412, 429, 502, 503, 504})

# the code says more than the status: these decide, whatever status came with them
FAILURE_BY_CODE: dict[str, DeliveryFailure] = {
    "BotNotInConversationRoster": DeliveryFailure.NOT_MEMBER,
    "ConversationBlockedByUser": DeliveryFailure.NOT_MEMBER,
    "BotDisabledByAdmin": DeliveryFailure.AUTH,
    "BotNotRegistered": DeliveryFailure.AUTH,
    "ConversationNotFound": DeliveryFailure.GONE,
    "MessageNotFound": DeliveryFailure.GONE,
    "ActivityNotFound": DeliveryFailure.GONE,
    "NotFound": DeliveryFailure.GONE,
    "MessageSizeTooBig": DeliveryFailure.REJECTED,
}
# any other code: by status (a status not listed here, e.g. 500, is transient)
FAILURE_BY_STATUS: dict[int, DeliveryFailure] = {
    400: DeliveryFailure.REJECTED,
    401: DeliveryFailure.AUTH,
    403: DeliveryFailure.NOT_MEMBER,
    404: DeliveryFailure.GONE,
    413: DeliveryFailure.REJECTED,
}

ADVICE: dict[DeliveryFailure, str] = {
    DeliveryFailure.NOT_MEMBER: (
        "Slotbot is not in this Teams conversation: add the Slotbot app to the team that has "
        "this channel, or route alerts to another channel with `cronofy alerts here`."
    ),
    DeliveryFailure.GONE: "The Teams message or conversation no longer exists.",
    DeliveryFailure.AUTH: (
        "Teams refused Slotbot's credentials: check MICROSOFT_APP_ID and "
        "MICROSOFT_APP_PASSWORD, and that a Teams admin has not blocked the Slotbot app."
    ),
    DeliveryFailure.REJECTED: "Teams refused the message itself.",
}


def status_of(exc: ErrorResponseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def code_of(exc: ErrorResponseException) -> str | None:
    """The connector's error code (`error.code` of the body), when it sent one."""
    body = getattr(exc, "error", None)
    code = getattr(getattr(body, "error", None), "code", None)
    return code if isinstance(code, str) and code else None


def retry_after_of(exc: ErrorResponseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, value)


def failure_of(status: int | None, code: str | None) -> DeliveryFailure:
    if status == 429:
        return DeliveryFailure.RATE_LIMITED
    if status in RETRYABLE or status is None:
        return DeliveryFailure.TRANSIENT
    if code is not None and code in FAILURE_BY_CODE:
        return FAILURE_BY_CODE[code]
    return FAILURE_BY_STATUS.get(status, DeliveryFailure.TRANSIENT)


def delivery_error_from_connector(exc: ErrorResponseException) -> DeliveryError:
    status, code = status_of(exc), code_of(exc)
    failure = failure_of(status, code)
    said = f"Teams answered {status}" + (f" ({code})" if code else "")
    advice = ADVICE.get(failure)
    return DeliveryError(
        f"{said}. {advice}" if advice else said,
        failure=failure,
        retry_after=retry_after_of(exc) if not failure.permanent else None,
        reason=f"teams_{status}",
    )
