"""Conversation references, kept so Slotbot can write first (alerts, notices).

Everything lives in the store's kv namespace "teams_refs":
- "conv:<conversation id>": how to post into that conversation (channel, group chat, 1:1);
- "dm:<tenant>:<user id>": the member's 1:1 chat with the bot, once known;
- "member:<tenant>:<user id>": the member's Bot Framework id ("29:…"), to open a 1:1 chat;
- "tenant:<tenant>": the last service URL Teams used for the tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, ConversationReference

from bot.store.base import Store

NAMESPACE = "teams_refs"
# Teams' public service URL: used only when no activity from the tenant has been seen
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"


NAME = "teams"  # the platform's name: org ids are "teams:<tenant id>"


def org_id_for(tenant_id: str) -> str:
    """The one place a Teams org id is made."""
    return f"{NAME}:{tenant_id}"


def tenant_of(activity: Activity) -> str:
    """The tenant id: channelData.tenant.id (botbuilder drops conversation.tenantId)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and tenant["id"]:
        return str(tenant["id"])
    conversation = activity.conversation
    if conversation is not None:
        extra = getattr(conversation, "additional_properties", None) or {}
        for key in ("tenantId", "tenantID"):
            if isinstance(extra.get(key), str) and extra[key]:
                return str(extra[key])
        if getattr(conversation, "tenant_id", None):
            return str(conversation.tenant_id)
    return ""


def team_of(activity: Activity) -> str:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return str(team["id"])
    return ""


def channel_of(activity: Activity) -> str:
    """The channel's own id for a channel message (without the ";messageid=" thread part)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = data.get("channel")
    if isinstance(channel, dict) and isinstance(channel.get("id"), str) and channel["id"]:
        return str(channel["id"])
    conv_id = activity.conversation.id if activity.conversation else ""
    return (conv_id or "").split(";", 1)[0]


def user_id_of(activity: Activity) -> str:
    sender = activity.from_property
    if sender is None:
        return ""
    return str(sender.aad_object_id or sender.id or "")


@dataclass
class StoredRef:
    reference: ConversationReference
    tenant_id: str
    kind: str  # "personal" | "groupChat" | "channel"
    team_id: str = ""


def _reference_for(activity: Activity, conversation_id: str) -> ConversationReference:
    from botbuilder.core import TurnContext

    ref = TurnContext.get_conversation_reference(activity)
    if ref.conversation is not None:
        ref.conversation.id = conversation_id
    ref.activity_id = None
    return ref


class ConversationRefs:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def remember(self, activity: Activity) -> None:
        """Record how to reach this conversation, its sender, and the tenant's service URL."""
        tenant = tenant_of(activity)
        if not tenant or activity.conversation is None or not activity.service_url:
            return
        kind = activity.conversation.conversation_type or "personal"
        team = team_of(activity)
        conv_id = channel_of(activity) if kind == "channel" else activity.conversation.id
        ref = _reference_for(activity, conv_id)
        doc: dict[str, object] = {
            "reference": ref.serialize(),
            "tenant_id": tenant,
            "kind": kind,
            "team_id": team,
        }
        await self.store.kv_put(NAMESPACE, f"conv:{conv_id}", doc)
        bot_id = activity.recipient.id if activity.recipient is not None else None
        await self.store.kv_put(
            NAMESPACE,
            f"tenant:{tenant}",
            {"service_url": activity.service_url, "bot_id": bot_id or ""},
        )
        user = user_id_of(activity)
        sender = activity.from_property
        if user and sender is not None and sender.id and activity.type in ("message", "invoke"):
            await self.store.kv_put(
                NAMESPACE,
                f"member:{tenant}:{user}",
                {"from_id": sender.id, "name": sender.name or ""},
            )
            if kind == "personal":
                await self.store.kv_put(
                    NAMESPACE, f"dm:{tenant}:{user}", {"conversation_id": conv_id}
                )

    async def remember_personal(
        self, tenant: str, user: str, reference: ConversationReference
    ) -> None:
        conv_id = reference.conversation.id if reference.conversation else ""
        if not conv_id:
            return
        doc: dict[str, object] = {
            "reference": reference.serialize(),
            "tenant_id": tenant,
            "kind": "personal",
            "team_id": "",
        }
        await self.store.kv_put(NAMESPACE, f"conv:{conv_id}", doc)
        await self.store.kv_put(NAMESPACE, f"dm:{tenant}:{user}", {"conversation_id": conv_id})

    async def conversation(self, conversation_id: str) -> StoredRef | None:
        doc = await self.store.kv_get(NAMESPACE, f"conv:{conversation_id.split(';', 1)[0]}")
        if doc is None:
            return None
        reference = ConversationReference().deserialize(doc["reference"])
        return StoredRef(
            reference=reference,
            tenant_id=str(doc.get("tenant_id", "")),
            kind=str(doc.get("kind", "")),
            team_id=str(doc.get("team_id", "")),
        )

    async def personal(self, tenant: str, user: str) -> StoredRef | None:
        doc = await self.store.kv_get(NAMESPACE, f"dm:{tenant}:{user}")
        if doc is None:
            return None
        return await self.conversation(str(doc.get("conversation_id", "")))

    async def member(self, tenant: str, user: str) -> dict[str, Any] | None:
        return await self.store.kv_get(NAMESPACE, f"member:{tenant}:{user}")

    async def service_url(self, tenant: str) -> str:
        doc = await self.store.kv_get(NAMESPACE, f"tenant:{tenant}")
        if doc and isinstance(doc.get("service_url"), str):
            return str(doc["service_url"])
        return DEFAULT_SERVICE_URL

    async def forget(self, activity: Activity) -> None:
        """The bot left this team / chat / personal scope: drop every way to post there."""
        tenant = tenant_of(activity)
        team = team_of(activity)
        kind = activity.conversation.conversation_type if activity.conversation else ""
        conv_id = (
            channel_of(activity)
            if kind == "channel"
            else (activity.conversation.id if activity.conversation else "")
        )
        refs = await self.store.kv_list(NAMESPACE, "conv:")
        for key, doc in refs.items():
            same_team = bool(team) and doc.get("team_id") == team
            if key == f"conv:{conv_id}" or same_team:
                await self.store.kv_delete(NAMESPACE, key)
        if kind == "personal":
            user = user_id_of(activity)
            if user:
                await self.store.kv_delete(NAMESPACE, f"dm:{tenant}:{user}")

    async def tenant_has_installs(self, tenant: str) -> bool:
        refs = await self.store.kv_list(NAMESPACE, "conv:")
        return any(doc.get("tenant_id") == tenant for doc in refs.values())
