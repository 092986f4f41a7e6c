"""The one exception hierarchy of Slotbot.

Every error a caller may want to turn into a message for a person derives from
`SlotbotError`; its `public_message` never carries a secret or a token.
"""

from __future__ import annotations

from bot.chat import DeliveryFailure
from cards import errors as say


class SlotbotError(Exception):
    """Base of every error Slotbot raises on purpose."""

    public_message: str = say.SOMETHING_WENT_WRONG

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.public_message)
        if message:
            self.public_message = message


class ConfigError(SlotbotError):
    """The environment holds a value Slotbot cannot start with; the message names the variable."""


class StoreError(SlotbotError):
    """The store could not be opened or reached."""


class StaleBooking(StoreError):
    """commit_event refused a write decided on a booking that changed since it was read."""


class StoreUnavailable(StoreError):
    """The store is not answering (connection refused, timeout)."""


class StoreNotDurable(StoreError):
    """The Redis store would acknowledge writes Redis may still lose in a crash (no append-only
    file, or one fsynced only every second, and no WAITAOF): refused unless
    BOT_REDIS_DURABILITY=relaxed. The message says what to set."""


class StoreTooNew(StoreError):
    """The store was written by a newer Slotbot (a higher schema version than this one knows):
    opening it could lose what that version keeps, so it is refused."""


class MigrationFailed(StoreError):
    """A migration step failed; the message names the step and says where the store was left."""


class TransferError(StoreError):
    """A copy, backup or restore was refused (non-empty target, a foreign or damaged file)."""


class SecretError(SlotbotError):
    """A stored secret cannot be decrypted."""


class SecretKeyRetired(SecretError):
    """The value was encrypted under a key no longer in BOT_SECRET_KEYS: the user must reconnect."""

    public_message = say.CREDENTIAL_UNREADABLE


class CommandError(SlotbotError):
    """A command was malformed or not allowed; the message says what to do."""


class PermissionDenied(CommandError):
    public_message = say.NOT_ADMIN


class CronofyError(SlotbotError):
    """Base for failures talking to Cronofy."""


class CronofyUnreachable(CronofyError):
    public_message = say.CRONOFY_UNREACHABLE


class CronofyRejected(CronofyError):
    """Cronofy answered with a 4xx that the caller can explain (bad keys, bad code, 422)."""


class CronofyAuthExpired(CronofyError):
    """The member's Cronofy authorization is gone (refresh failed): they must reconnect."""


class DeliveryError(SlotbotError):
    """A chat platform refused or failed a delivery.

    `failure` is what the outbox worker acts on (see `bot.chat.DeliveryFailure`); `reason` is
    a short code for the dead letter and the logs (the platform's own, when it gave one), and
    the message says in words what to do about it. `retry_after` carries the platform's
    Retry-After in seconds when it sent one. An error whose cause is not known is transient:
    worth another try.
    """

    def __init__(
        self,
        message: str,
        *,
        failure: DeliveryFailure = DeliveryFailure.TRANSIENT,
        retry_after: float | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.failure = failure
        self.retry_after = retry_after
        self.reason = reason or message

    @property
    def permanent(self) -> bool:
        """Not worth another try (the job is dead-lettered)."""
        return self.failure.permanent
