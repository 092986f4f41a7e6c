"""`TeamsDelivery`: how the outbox worker posts, updates and threads cards in Teams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams.refs import ConversationRefs
from adapters.teams.render import render
from adapters.teams.retry import with_retry
from bot.chat import DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError, StoreError
from bot.org_state import APP_UNINSTALLED, uninstalled
from bot.runtime import Services
from bot.store.records import MessageRef
from cards.model import Card

CHANNEL_ID = "msteams"


def tenant_from_org(org_id: str) -> str:
    prefix, _, tenant = org_id.partition(":")
    if prefix != "teams" or not tenant:
        raise DeliveryError(
            f"not a Teams org: {org_id}", failure=DeliveryFailure.REJECTED, reason="not_teams"
        )
    return tenant


class TeamsDelivery:
    """Implements `bot.chat.DeliveryAdapter` for Microsoft Teams."""

    platform = "teams"

    def __init__(
        self, adapter: CloudAdapter, app_id: str, refs: ConversationRefs, services: Services
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.refs = refs
        self.services = services

    # DeliveryAdapter ----------------------------------------------------------

    async def send(self, target: DeliveryTarget, card: Card) -> MessageRef:
        tenant = tenant_from_org(target.org_id)
        await self.check_active(target.org_id)
        if target.kind == "channel":
            stored = await self.refs.conversation(target.conversation_id or "")
            if stored is None:
                # removed from the team (Teams said so, and its channels were forgotten), or
                # never added to it
                raise DeliveryError(
                    "Slotbot is not installed in that channel's team",
                    failure=DeliveryFailure.NOT_MEMBER,
                    reason="no_conversation_reference",
                )
            reference = stored.reference
            is_channel = stored.kind == "channel"
        else:
            reference = await self.personal_reference(tenant, target.user_id or "")
            is_channel = False
        message_id = await self.post(reference, render(card))
        conv_id = reference.conversation.id if reference.conversation else ""
        return MessageRef(
            platform="teams",
            conversation_id=conv_id,
            message_id=message_id,
            thread_id=message_id if is_channel else None,
            service_url=reference.service_url,
        )

    async def update(self, ref: MessageRef, card: Card) -> None:
        reference = await self.reference_for(ref)
        activity = render(card)
        activity.id = ref.message_id

        async def update(ctx: TurnContext) -> None:
            await with_retry(lambda: ctx.update_activity(activity))

        await self.run_proactive(reference, update)

    async def reply_in_thread(self, ref: MessageRef, card: Card) -> MessageRef:
        reference = await self.reference_for(ref)
        if ref.thread_id and reference.conversation is not None:
            # a channel post's replies live in the conversation "<channel>;messageid=<root>"
            reference.conversation.id = f"{ref.conversation_id};messageid={ref.thread_id}"
        message_id = await self.post(reference, render(card))
        return MessageRef(
            platform="teams",
            conversation_id=ref.conversation_id,
            message_id=message_id,
            thread_id=ref.thread_id,
            service_url=reference.service_url,
        )

    # helpers used by the bot too -----------------------------------------------

    async def check_active(self, org_id: str) -> None:
        """An org Slotbot was uninstalled from gets nothing; its alerts wait for a reinstall."""
        try:
            gone = await uninstalled(self.services, org_id)
        except StoreError as exc:
            raise DeliveryError(
                f"store unavailable: {type(exc).__name__}", failure=DeliveryFailure.TRANSIENT
            ) from None
        if gone:
            raise DeliveryError(
                "Slotbot was uninstalled from this Microsoft Teams tenant; reinstall it to resume.",
                failure=DeliveryFailure.AUTH,
                reason=APP_UNINSTALLED,
            )

    async def post(self, reference: ConversationReference, activity: Activity) -> str:
        """Send `activity` into the referenced conversation; return the new activity id."""
        sent: list[str] = []

        async def send(ctx: TurnContext) -> None:
            # botbuilder gives the continuation activity a made-up id, and send_activity would
            # answer it as a reply; without it the card starts a new post (thread) instead
            ctx.activity.id = None
            response = await with_retry(lambda: ctx.send_activity(activity))
            sent.append(response.id if response is not None and response.id else "")

        await self.run_proactive(reference, send)
        return sent[0] if sent else ""

    async def run_proactive(
        self, reference: ConversationReference, logic: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        # botbuilder hands errors raised inside a proactive turn to on_turn_error; carry them
        # out instead, so the outbox worker sees the failure and retries
        failures: list[BaseException] = []

        async def guarded(ctx: TurnContext) -> None:
            try:
                await logic(ctx)
            except Exception as exc:
                failures.append(exc)

        await self.adapter.continue_conversation(reference, guarded, self.app_id)
        if failures:
            raise failures[0]

    async def personal_reference(self, tenant: str, user_id: str) -> ConversationReference:
        """The member's 1:1 chat with the bot, created through the connector when needed."""
        stored = await self.refs.personal(tenant, user_id)
        if stored is not None:
            return stored.reference
        member = await self.refs.member(tenant, user_id)
        member_id = str(member.get("from_id", "")) if member else ""
        if not member_id and user_id.startswith("29:"):
            member_id = user_id
        if not member_id:
            # Slotbot has no chat with them, and cannot start one without their Teams id
            raise DeliveryError(
                "this member has not talked to Slotbot in Teams yet",
                failure=DeliveryFailure.NOT_MEMBER,
                reason="member_unknown",
            )
        service_url = await self.refs.service_url(tenant)
        bot_id = await self.bot_account_id(tenant)
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot_id),
            members=[ChannelAccount(id=member_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        created: list[ConversationReference] = []

        async def keep(ctx: TurnContext) -> None:
            created.append(TurnContext.get_conversation_reference(ctx.activity))

        await with_retry(
            lambda: self.adapter.create_conversation(
                self.app_id, keep, params, CHANNEL_ID, service_url, None
            )
        )
        if not created or created[0].conversation is None:
            raise DeliveryError(
                "Teams did not open a 1:1 chat",
                failure=DeliveryFailure.TRANSIENT,
                reason="create_conversation",
            )
        reference = created[0]
        reference.bot = ChannelAccount(id=bot_id)
        reference.user = ChannelAccount(id=member_id)
        await self.refs.remember_personal(tenant, user_id, reference)
        return reference

    async def bot_account_id(self, tenant: str) -> str:
        doc = await self.refs.store.kv_get("teams_refs", f"tenant:{tenant}")
        if doc and isinstance(doc.get("bot_id"), str) and doc["bot_id"]:
            return str(doc["bot_id"])
        return f"28:{self.app_id}" if self.app_id else "28:slotbot"

    async def reference_for(self, ref: MessageRef) -> ConversationReference:
        stored = await self.refs.conversation(ref.conversation_id)
        if stored is not None:
            reference = stored.reference
            reference.conversation = ConversationAccount(
                id=ref.conversation_id,
                conversation_type=reference.conversation.conversation_type
                if reference.conversation
                else None,
                tenant_id=stored.tenant_id,
            )
            if ref.service_url:
                reference.service_url = ref.service_url
            return reference
        if not ref.service_url:
            # the message cannot be reached any more: as good as deleted, so an update posts
            # a new one (which finds out whether Slotbot can still post there)
            raise DeliveryError(
                "no way to reach that Teams conversation any more",
                failure=DeliveryFailure.GONE,
                reason="no_conversation_reference",
            )
        return ConversationReference(
            channel_id=CHANNEL_ID,
            service_url=ref.service_url,
            conversation=ConversationAccount(id=ref.conversation_id),
        )
