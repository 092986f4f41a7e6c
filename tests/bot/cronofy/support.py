"""Shared set-up for the Cronofy and command-layer tests: services wired to the fake Cronofy."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.chat import Actor, Conversation
from bot.commands import CommandContext, Mentions
from bot.config import Settings
from bot.runtime import Services
from bot.secrets import SecretBox, generate_key
from bot.store.base import Store
from bot.store.records import Job
from cards.model import Card, card_from_dict
from cards.text import to_text
from tests.fakes.cronofy import FakeCronofy

ORG_ID = "slack:T0001"
PUBLIC_URL = "https://slotbot.example.com"
FAST_TIMEOUT = 0.5


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_settings(fake: FakeCronofy | None, **env: str) -> Settings:
    values = {"BOT_PUBLIC_URL": PUBLIC_URL, **env}
    if fake is not None:
        values.setdefault("CRONOFY_API_URL", fake.url)
        values.setdefault("CRONOFY_APP_URL", fake.url)
    settings = Settings.from_env(values)
    return dataclasses.replace(settings, cronofy_timeout=FAST_TIMEOUT)


def make_services(
    store: Store, fake: FakeCronofy | None, clock: Clock | None = None, **env: str
) -> Services:
    return Services(
        settings=make_settings(fake, **env),
        store=store,
        secrets=SecretBox([generate_key()]),
        clock=clock or Clock(),
    )


def actor(
    user_id: str = "U_ADMIN", *, platform_admin: bool = False, name: str = "Ada Admin"
) -> Actor:
    return Actor("slack", ORG_ID, user_id, display_name=name, is_platform_admin=platform_admin)


def ctx(
    services: Services,
    who: Actor,
    conversation_id: str = "C_HIRING",
    kind: str = "channel",
    *,
    users: dict[str, str] | None = None,
    channels: dict[str, str] | None = None,
) -> CommandContext:
    """`users`/`channels`: what the adapter resolved in the text (id -> name)."""
    return CommandContext(
        services=services,
        actor=who,
        conversation=Conversation("slack", ORG_ID, conversation_id, kind=kind, name="hiring"),  # type: ignore[arg-type]
        mentions=Mentions(users=users or {}, channels=channels or {}, can_name_channels=True),
    )


def card_text(card: Card) -> str:
    """Everything a card says, including button values and URLs, for assertions."""
    return to_text(card) + "\n" + repr(card)


async def pending_jobs(store: Store, now: float = 4_000_000_000.0) -> list[Job]:
    """Take (and acknowledge) every job that is due by `now`."""
    jobs = await store.claim_jobs("test", limit=100, visibility_timeout=60, now=now)
    for job in jobs:
        await store.ack_job(job.job_id)
    return jobs


def job_text(job: Job) -> str:
    card: Any = card_from_dict(job.payload["card"])
    return card_text(card)
