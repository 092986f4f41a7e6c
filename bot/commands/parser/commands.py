"""The commands a member can type, as typed values: what `bot.commands.parser.parse` returns.

Each is a frozen dataclass of what its words said (an email lower-cased, a time as "HH:MM");
`Command` is any of them. Which need an admin, and which touch a candidate's own data, is
said here once (`ADMIN_COMMANDS`, `PRIVACY_COMMANDS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.lifecycle.agenda import DEFAULT_TIME as DEFAULT_AGENDA_TIME
from bot.store.records import BOOKING_KINDS
from cards import api as api_texts


@dataclass(frozen=True)
class Help:
    topic: str = ""  # "schedule", "cronofy" or "" for everything


@dataclass(frozen=True)
class Link:
    pass


@dataclass(frozen=True)
class LinkShare:
    pass


@dataclass(frozen=True)
class LinkSet:
    url: str


@dataclass(frozen=True)
class LinkFor:
    email: str  # lower-cased
    name: str = ""


@dataclass(frozen=True)
class Connect:
    pass


@dataclass(frozen=True)
class Disconnect:
    pass


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class CandidateShow:
    email: str


@dataclass(frozen=True)
class Upcoming:
    pass


@dataclass(frozen=True)
class DmAlerts:
    on: bool


@dataclass(frozen=True)
class AgendaShow:
    pass


@dataclass(frozen=True)
class AgendaOn:
    at: str = DEFAULT_AGENDA_TIME  # "HH:MM", the member's local time


@dataclass(frozen=True)
class AgendaOff:
    pass


@dataclass(frozen=True)
class RemindersShow:
    pass


@dataclass(frozen=True)
class RemindersSet:
    minutes: int | None  # None: off


@dataclass(frozen=True)
class Setup:
    pass


@dataclass(frozen=True)
class OrgStatus:
    pass


@dataclass(frozen=True)
class AlertsShow:
    pass


@dataclass(frozen=True)
class AlertsRoute:
    """Route these kinds to a channel: `channel_id` None means the current conversation."""

    kinds: tuple[str, ...] = BOOKING_KINDS
    channel_id: str | None = None


@dataclass(frozen=True)
class AlertsOff:
    channel_id: str | None = None  # None: the current conversation


@dataclass(frozen=True)
class AdminsShow:
    pass


@dataclass(frozen=True)
class AdminsAdd:
    user_id: str


@dataclass(frozen=True)
class AdminsRemove:
    user_id: str


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class FeedbackShow:
    pass


@dataclass(frozen=True)
class FeedbackSet:
    on: bool


@dataclass(frozen=True)
class WebhookList:
    pass


@dataclass(frozen=True)
class WebhookAdd:
    url: str  # as typed: checked (https, public addresses) by bot.webhooks.commands


@dataclass(frozen=True)
class WebhookRemove:
    url: str


@dataclass(frozen=True)
class WebhookTest:
    url: str


@dataclass(frozen=True)
class ApiTokenCreate:
    name: str


@dataclass(frozen=True)
class ApiTokenList:
    pass


@dataclass(frozen=True)
class ApiTokenRevoke:
    name: str


@dataclass(frozen=True)
class AuditShow:
    count: int = api_texts.DEFAULT_AUDIT


@dataclass(frozen=True)
class CandidateErase:
    email: str  # lower-cased; asks first (bot.commands.privacy)


@dataclass(frozen=True)
class CandidateExport:
    email: str


@dataclass(frozen=True)
class RetentionShow:
    pass


@dataclass(frozen=True)
class RetentionSet:
    days: int | None  # None: off


Command = (
    Help
    | Link
    | LinkShare
    | LinkSet
    | LinkFor
    | Connect
    | Disconnect
    | Status
    | CandidateShow
    | Upcoming
    | DmAlerts
    | AgendaShow
    | AgendaOn
    | AgendaOff
    | RemindersShow
    | RemindersSet
    | Setup
    | OrgStatus
    | AlertsShow
    | AlertsRoute
    | AlertsOff
    | AdminsShow
    | AdminsAdd
    | AdminsRemove
    | Reset
    | FeedbackShow
    | FeedbackSet
    | WebhookList
    | WebhookAdd
    | WebhookRemove
    | WebhookTest
    | ApiTokenCreate
    | ApiTokenList
    | ApiTokenRevoke
    | AuditShow
    | CandidateErase
    | CandidateExport
    | RetentionShow
    | RetentionSet
)

ADMIN_COMMANDS = (
    OrgStatus,
    AlertsShow,
    AlertsRoute,
    AlertsOff,
    AdminsShow,
    AdminsAdd,
    AdminsRemove,
    Reset,
    FeedbackShow,
    FeedbackSet,
    WebhookList,
    WebhookAdd,
    WebhookRemove,
    WebhookTest,
    ApiTokenCreate,
    ApiTokenList,
    ApiTokenRevoke,
    AuditShow,
    CandidateErase,
    CandidateExport,
    RetentionShow,
    RetentionSet,
)
PRIVACY_COMMANDS = (CandidateErase, CandidateExport, RetentionShow, RetentionSet)
