"""Teams command text to Slotbot's neutral command text, and signed button origins.

A member picked in Teams arrives as `<at>Bob</at>` in the text with a `mention` entity that
names the account. The core reads `@<aadObjectId>` (the id `Actor.user_id` uses on Teams) and
takes the name from `Mentions`; a mention whose account cannot be told is left as an id the
core refuses, never guessed from the name.

Private answers to a channel command are moved to the member's 1:1 chat, and their buttons
carry the channel they came from so Share posts there. That value comes back from the client,
so it is sealed with the service's secret key (Fernet: authenticated, shared by every replica,
survives restarts, rotates with `BOT_SECRET_KEYS`) together with the tenant and member it was
given to; a forged, altered or borrowed origin is ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity

from adapters.teams import log_lines as teams_logs
from bot.commands import Mentions
from bot.errors import SecretKeyRetired
from bot.secrets import SecretBox

log = logging.getLogger(__name__)

MAX_MENTIONS = 5
LOOKUP_TIMEOUT = 10.0


def _mention_entities(activity: Activity) -> list[tuple[str, dict[str, Any]]]:
    """(tag text, mentioned account) of each mention entity, the bot's own left out."""
    found: list[tuple[str, dict[str, Any]]] = []
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if str(getattr(entity, "type", "") or "").lower() != "mention":
            continue
        props = getattr(entity, "additional_properties", None) or {}
        mentioned, tag = props.get("mentioned"), props.get("text")
        if not isinstance(mentioned, dict) or not isinstance(tag, str) or not tag:
            continue
        if mentioned.get("id") == bot_id:
            continue
        found.append((tag, mentioned))
    return found


def without_bot_mention(activity: Activity) -> str:
    """The activity's text without the tags that @mention the bot itself. An entity of any
    other shape is left alone (botbuilder's own removal fails on one, and reads the tag as a
    regular expression)."""
    text = activity.text if isinstance(activity.text, str) else ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if str(getattr(entity, "type", "") or "").lower() != "mention":
            continue
        props = getattr(entity, "additional_properties", None) or {}
        mentioned, tag = props.get("mentioned"), props.get("text")
        if isinstance(mentioned, dict) and mentioned.get("id") == bot_id and isinstance(tag, str):
            text = text.replace(tag, "") if tag else text
    return text


async def _aad_object_id(turn_context: TurnContext, member_id: str) -> str:
    """The account's Entra object id from the conversation roster; "" when not found."""
    try:
        member = await asyncio.wait_for(
            TeamsInfo.get_member(turn_context, member_id), timeout=LOOKUP_TIMEOUT
        )
    except Exception as exc:  # any connector failure means "cannot tell"
        log.warning(teams_logs.TEAMS_MEMBER_LOOKUP_FAILED, type(exc).__name__)
        return ""
    return str(getattr(member, "aad_object_id", "") or "")


async def neutral_text(turn_context: TurnContext, text: str) -> tuple[str, Mentions]:
    """`text` with each `<at>…</at>` of a person replaced by `@<aadObjectId>`."""
    users: dict[str, str] = {}
    for tag, mentioned in _mention_entities(turn_context.activity)[:MAX_MENTIONS]:
        if tag not in text:
            continue
        member_id = str(mentioned.get("id") or "")
        aad = str(mentioned.get("aadObjectId") or "")
        # "29:…" is a person; "19:…" a channel, team or tag, which is never a user
        if not aad and member_id.startswith("29:"):
            aad = await _aad_object_id(turn_context, member_id)
        if aad:
            users[aad] = str(mentioned.get("name") or "")
            text = text.replace(tag, f" @{aad} ")
        else:
            text = text.replace(tag, f" @{member_id or 'unknown'} ")
    return " ".join(text.split()), Mentions(users=users)


def seal_origin(secrets: SecretBox, tenant_id: str, user_id: str, conversation_id: str) -> str:
    """The value a moved card's buttons carry: which conversation, for whom, tamper-proof."""
    plain = json.dumps({"t": tenant_id, "u": user_id, "c": conversation_id}, separators=(",", ":"))
    return secrets.encrypt(plain)


def open_origin(secrets: SecretBox, sealed: str, tenant_id: str, user_id: str) -> str | None:
    """The conversation id sealed for this tenant and member; None for anything else."""
    if not sealed or len(sealed) > 2000:
        return None
    try:
        data = json.loads(secrets.decrypt(sealed))
    except (SecretKeyRetired, ValueError):
        return None
    if not isinstance(data, dict) or data.get("t") != tenant_id or data.get("u") != user_id:
        return None
    conversation = data.get("c")
    return conversation if isinstance(conversation, str) and conversation else None
