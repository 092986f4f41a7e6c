"""The Teams activity handler: messages and card actions in, the neutral command layer, cards out.

What a turn says is sent while Teams waits for the turn's answer, within the turn's deadline
(`adapters.teams.http`). A message that cannot be sent by then (the connector slow, down or
refusing) is handed to the outbox as a notice job for the same conversation or member, and so
is everything the turn says after it, in order; the turn itself is answered.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationReference,
)
from botbuilder.schema.teams import TeamInfo

from adapters.teams import log_lines as teams_logs
from adapters.teams.delivery import TeamsDelivery
from adapters.teams.mentions import neutral_text, open_origin, seal_origin, without_bot_mention
from adapters.teams.refs import (
    NAME,
    ConversationRefs,
    channel_of,
    org_id_for,
    tenant_of,
    user_id_of,
)
from adapters.teams.render import card_activity, card_content, tag_actions, with_errors
from adapters.teams.retry import with_retry
from bot.chat import (
    Actor,
    Conversation,
    ConversationKind,
    DeliveryTarget,
    Reply,
    Turn,
    TurnKind,
)
from bot.commands import handle_turn
from bot.errors import DeliveryError
from bot.org_state import deactivate_org, reactivate_org
from bot.outbox import notice_job
from bot.runtime import Services
from cards import actions
from cards import errors as say
from cards.help import help_card
from cards.model import Card

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"
# button data we add to cards moved from a channel into a 1:1 chat
ORIGIN_KEY = "slotbot_origin"


def conversation_kind(activity: Activity) -> ConversationKind:
    kind = activity.conversation.conversation_type if activity.conversation else None
    if kind == "channel":
        return "channel"
    if kind == "groupChat":
        return "group"
    return "dm"


def invoke_body(status: int, content_type: str, value: object) -> dict[str, object]:
    """The body of an adaptiveCard/action invoke response (Universal Actions)."""
    return {"statusCode": status, "type": content_type, "value": value}


# what a button puts in the data it sends besides the inputs of its card
_BUTTON_DATA = frozenset({"action_id", "verb", "value", "msteams", ORIGIN_KEY})


def is_form(action_id: str, data: dict[str, Any]) -> bool:
    """A form's submit button, or a submission that carries inputs but lost its button's
    id (cards from an older version): the core knows the form by its id, or its inputs."""
    if action_id in actions.FORMS:
        return True
    return not action_id and any(key not in _BUTTON_DATA for key in data)


def toast_for(replies: list[Reply]) -> str:
    """The short answer to a button press: an error says what went wrong, never "Done."."""
    return say.action_answer([reply.card for reply in replies])


def zone_of(activity: Activity) -> str | None:
    """The sender's time zone: the activity's own, or what their client says of itself."""
    if isinstance(activity.local_timezone, str) and activity.local_timezone:
        return str(activity.local_timezone)
    for entity in activity.entities or []:
        extra = getattr(entity, "additional_properties", None) or {}
        if getattr(entity, "type", None) == "clientInfo" and isinstance(extra.get("timezone"), str):
            return str(extra["timezone"]) or None
    return None


def command_text(activity: Activity) -> str:
    """The command the member typed, without the bot's @mention or a leading slash."""
    text = without_bot_mention(activity).replace("&nbsp;", " ").strip()
    return text[1:].lstrip() if text.startswith("/") else text


def unhandled_invoke(name: str) -> InvokeResponse:
    """The answer to an invoke Slotbot offers nothing for (a message extension, a task module,
    a tab, a sign-in step, a name it does not know): answered, never failed. Where Teams shows
    the answer (a task module, a message extension), it says Slotbot does not offer that."""
    family = name.split("/", 1)[0]
    body: dict[str, Any] | None = None
    if family == "task":
        body = {"task": {"type": "message", "value": say.NOT_OFFERED_HERE}}
    elif family == "composeExtension":
        body = {"composeExtension": {"type": "message", "text": say.NOT_OFFERED_HERE}}
    elif family == "config":
        body = {
            "responseType": "config",
            "config": {"type": "message", "value": say.NOT_OFFERED_HERE},
        }
    return InvokeResponse(status=200, body=body)


def targets_of(activity: Activity) -> tuple[DeliveryTarget, DeliveryTarget]:
    """Where the outbox sends, later, what a turn could not send now: (the conversation the
    activity came from, the member's 1:1 chat with Slotbot)."""
    org_id = org_id_for(tenant_of(activity))
    member = DeliveryTarget(platform=NAME, org_id=org_id, kind="dm", user_id=user_id_of(activity))
    if conversation_kind(activity) == "dm":
        return member, member
    kind = conversation_kind(activity)
    conv_id = channel_of(activity) if kind == "channel" else activity.conversation.id
    here = DeliveryTarget(platform=NAME, org_id=org_id, kind="channel", conversation_id=conv_id)
    return here, member


class SlotbotTeamsBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self, services: Services, refs: ConversationRefs, delivery: TeamsDelivery, app_id: str
    ) -> None:
        self.services = services
        self.refs = refs
        self.delivery = delivery
        self.app_id = app_id

    # every turn -----------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if not self.is_removal(activity):
            # the freshest service URL and a way back into this conversation, every time
            await self.refs.remember(activity)
            if self.is_install(activity):
                await self.reinstalled(activity)
        await super().on_turn(turn_context)

    @staticmethod
    def is_install(activity: Activity) -> bool:
        """An activity that shows Slotbot is installed where it came from: the install itself,
        the bot added to a team or chat, or anyone talking to it."""
        if activity.type == "installationUpdate":
            return activity.action in ("add", "add-upgrade")
        if activity.type == "conversationUpdate":
            added = activity.members_added or []
            return activity.recipient is not None and any(
                m.id == activity.recipient.id for m in added
            )
        return activity.type in ("message", "invoke")

    @staticmethod
    def is_removal(activity: Activity) -> bool:
        if activity.type == "installationUpdate":
            return activity.action in ("remove", "remove-upgrade")
        if (
            activity.type == "conversationUpdate"
            and activity.members_removed
            and activity.recipient
        ):
            return any(m.id == activity.recipient.id for m in activity.members_removed)
        return False

    # who and where ----------------------------------------------------------------

    def turn_for(
        self,
        activity: Activity,
        kind: TurnKind,
        conversation: Conversation | None = None,
        **fields: Any,
    ) -> Turn:
        """What the activity's sender did, as the core's Turn."""
        org_id = org_id_for(tenant_of(activity))
        sender = activity.from_property
        actor = Actor(
            platform=NAME,
            org_id=org_id,
            user_id=user_id_of(activity),
            display_name=(sender.name or "") if sender else "",
            is_platform_admin=False,  # Teams gives no admin flag without Graph
        )
        if conversation is None:
            kind_of = conversation_kind(activity)
            data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
            channel = data.get("channel") if isinstance(data.get("channel"), dict) else {}
            conversation = Conversation(
                platform=NAME,
                org_id=org_id,
                conversation_id=channel_of(activity)
                if kind_of == "channel"
                else (activity.conversation.id if activity.conversation else ""),
                kind=kind_of,
                name=str(channel.get("name") or "") if isinstance(channel, dict) else "",
            )
        locale = activity.locale if isinstance(activity.locale, str) else None
        return Turn(
            actor, conversation, kind, zone=zone_of(activity), locale=locale or None, **fields
        )

    # messages -----------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value:
            await self.on_submit(turn_context, activity.value)
            return
        if not tenant_of(activity):
            try:
                await with_retry(lambda: turn_context.send_activity(say.OUTSIDE_TENANT))
            except DeliveryError as exc:  # no tenant, no org: nothing to hand the outbox
                log.warning(teams_logs.TEAMS_REPLY_DROPPED, exc.reason)
            return
        # anything that is not a command gets "I didn't understand" and the short help from
        # the command layer; mentions of people become ids the core can trust
        text, mentions = await neutral_text(turn_context, command_text(activity))
        turn = self.turn_for(activity, "command", text=text, mentions=mentions)
        replies = await handle_turn(self.services, turn)
        await self.deliver(turn_context, turn, replies)

    async def on_submit(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """An Action.Submit button (or its fallback for an Action.Execute) on one of our cards."""
        activity = turn_context.activity
        data = dict(value)
        action_id = str(data.get("action_id") or data.get("verb") or "")
        if is_form(action_id, data):
            content, card = await self.form_reply(activity, action_id, data)
            message = card_activity(content)
            here, _ = targets_of(activity)
            if activity.reply_to_id:
                message.id = activity.reply_to_id
                await self.send(turn_context, message, card, here, update=True)
            else:
                await self.send(turn_context, message, card, here)
            return
        await self.action(turn_context, action_id, data)

    # Action.Execute ------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        # the action arrives as a plain dict, not a model object
        action = value.get("action")
        if activity.name != "adaptiveCard/action":
            return unhandled_invoke(str(activity.name or ""))
        # botbuilder's own handler raises (a 500) on an invoke without an action object
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return InvokeResponse(
                status=400,
                body=invoke_body(
                    400,
                    "application/vnd.microsoft.error",
                    {"code": "BadRequest", "message": "only Action.Execute is handled"},
                ),
            )
        # answered here rather than through on_adaptive_card_invoke: its response model
        # cannot carry the plain-text "message" answer Teams accepts
        verb = str(action.get("verb") or "")
        raw = action.get("data")
        data: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        action_id = str(data.get("action_id") or verb)
        if is_form(action_id, data):
            card = await self.form(activity, action_id, data)
            return InvokeResponse(status=200, body=invoke_body(200, CARD_CONTENT_TYPE, card))
        note = await self.action(turn_context, action_id, data)
        return InvokeResponse(status=200, body=invoke_body(200, MESSAGE_CONTENT_TYPE, note))

    # forms ---------------------------------------------------------------------------

    async def form(self, activity: Activity, form_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """A submitted form; the card to show in its place (the form again, with the
        problems on it, when it was refused)."""
        content, _ = await self.form_reply(activity, form_id, data)
        return content

    async def form_reply(
        self, activity: Activity, form_id: str, data: dict[str, Any]
    ) -> tuple[dict[str, Any], Card]:
        """`form`'s card, and the core's card it was made from."""
        values = {k: str(v) for k, v in data.items() if k not in _BUTTON_DATA and v is not None}
        value = data.get("value")
        turn = self.turn_for(
            activity,
            "form",
            action_id=form_id,
            values=values,
            value=value if isinstance(value, str) else "",
        )
        replies = await handle_turn(self.services, turn)
        reply = replies[0]
        if not reply.form_errors:
            return card_content(reply.card), reply.card
        content = with_errors(card_content(reply.form_again or reply.card), reply.form_errors)
        return content, reply.card

    # buttons -------------------------------------------------------------------------

    async def action(self, turn_context: TurnContext, action_id: str, data: dict[str, Any]) -> str:
        """A button on one of our cards; returns a short confirmation for the member."""
        activity = turn_context.activity
        value = str(data.get("value") or "")
        # the origin comes back from the client: only one Slotbot sealed for this member counts
        sealed = str(data.get(ORIGIN_KEY) or "")
        origin = (
            open_origin(self.services.secrets, sealed, tenant_of(activity), user_id_of(activity))
            if sealed
            else None
        )
        conversation = None
        target: ConversationReference | None = None
        if origin:
            stored = await self.refs.conversation(origin)
            if stored is not None and stored.tenant_id == tenant_of(activity):
                target = stored.reference
                kinds: dict[str, ConversationKind] = {"channel": "channel", "groupChat": "group"}
                conversation = Conversation(
                    platform=NAME,
                    org_id=org_id_for(stored.tenant_id),
                    conversation_id=origin,
                    kind=kinds.get(stored.kind, "dm"),
                )
        turn = self.turn_for(activity, "action", conversation, action_id=action_id, value=value)
        replies = await handle_turn(self.services, turn)
        await self.deliver(turn_context, turn, replies, public_to=target)
        return toast_for(replies)

    # replies -------------------------------------------------------------------------

    async def deliver(
        self,
        turn_context: TurnContext,
        turn: Turn,
        replies: list[Reply],
        *,
        public_to: ConversationReference | None = None,
    ) -> None:
        """Post the replies: public ones to the conversation, private ones to the member.

        Teams has no ephemeral messages, so a private answer to a command typed in a channel
        or group chat goes to the member's 1:1 chat with the bot, and the channel gets a
        one-line pointer instead of silence.

        A reply that cannot be sent within the turn's deadline (or that the connector
        refuses) goes to the outbox as a notice for the same place, and every reply after it
        too, so they keep their order; an answer moved to the 1:1 chat then loses its way back
        to the channel it was asked in (its Share posts in the 1:1 chat).
        """
        activity = turn_context.activity
        in_personal = conversation_kind(activity) == "dm"
        here, member = targets_of(activity)
        if public_to is not None:
            # a card shared from a 1:1 chat goes to the conversation it was asked for in
            here = DeliveryTarget(
                platform=NAME,
                org_id=turn.conversation.org_id,
                kind="dm" if turn.conversation.kind == "dm" else "channel",
                conversation_id=turn.conversation.conversation_id,
                user_id=turn.actor.user_id if turn.conversation.kind == "dm" else None,
            )
        queued = False  # once one reply waits in the outbox, the rest follow it there
        moved_to_personal = False
        for reply in replies:
            content = card_content(reply.card)
            if reply.visibility == "public":
                target, message = here, card_activity(content)
            elif in_personal:
                target, message = member, card_activity(content)
            else:
                target = member
                origin = seal_origin(
                    self.services.secrets,
                    tenant_of(activity),
                    user_id_of(activity),
                    turn.conversation.conversation_id,
                )
                message = card_activity(tag_actions(content, {ORIGIN_KEY: origin}))
            if queued:
                await self.send_later(activity, reply.card, target, None)
                moved_to_personal = moved_to_personal or (target is member and not in_personal)
                continue
            try:
                if target is member and not in_personal:
                    await self.delivery.post(await self.personal_for(activity), message)
                    moved_to_personal = True
                elif reply.visibility == "public" and public_to is not None:
                    await self.delivery.post(public_to, message)
                else:
                    await with_retry(lambda m=message: turn_context.send_activity(m))  # type: ignore[misc]
            except DeliveryError as exc:
                if target is member and not in_personal and exc.permanent:
                    # no 1:1 chat can be had: a private answer never falls back to the
                    # channel, so say how to get it
                    log.warning(teams_logs.TEAMS_PRIVATE_REPLY_FAILED, exc.reason)
                    notice = MessageFactory.text(say.PRIVATE_REPLY_FAILED)
                    await self.send(turn_context, notice, say.note(say.PRIVATE_REPLY_FAILED), here)
                    return
                await self.send_later(activity, reply.card, target, exc)
                queued = True
                moved_to_personal = moved_to_personal or (target is member and not in_personal)
        if moved_to_personal:
            text = say.answered_privately(turn.actor.display_name)
            if queued:
                await self.send_later(activity, say.note(text), here, None)
            else:
                await self.send(turn_context, MessageFactory.text(text), say.note(text), here)

    async def send(
        self,
        turn_context: TurnContext,
        message: Activity,
        card: Card,
        target: DeliveryTarget,
        *,
        update: bool = False,
    ) -> None:
        """Send (or, with `update`, put in place of the card acted on) `message` in this
        turn; when that cannot be done in time, the outbox sends `card` to `target` later (as
        a new message, even for an update)."""
        try:
            if update:
                await with_retry(lambda: turn_context.update_activity(message))
            else:
                await with_retry(lambda: turn_context.send_activity(message))
        except DeliveryError as exc:
            await self.send_later(turn_context.activity, card, target, exc)

    async def send_later(
        self,
        activity: Activity,
        card: Card,
        target: DeliveryTarget,
        failed: DeliveryError | None,
    ) -> None:
        """Hand `card` to the outbox for `target` (`failed`: why it was not sent now)."""
        job = notice_job(target.org_id, target, card, now=self.services.clock())
        await self.services.store.enqueue([job])
        if failed is not None:
            log.warning(teams_logs.TEAMS_REPLY_QUEUED, failed.reason, job.job_id)

    async def personal_for(self, activity: Activity) -> ConversationReference:
        tenant = tenant_of(activity)
        user = user_id_of(activity)
        return await self.delivery.personal_reference(tenant, user)

    # install / uninstall ---------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if tenant_of(activity):
            welcome = help_card("teams")
            here, _ = targets_of(activity)
            await self.send(turn_context, card_activity(card_content(welcome)), welcome, here)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self.uninstalled(turn_context.activity)

    async def on_teams_members_removed(
        self, members_removed: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if any(member.id == bot_id for member in members_removed):
            await self.uninstalled(activity)

    async def uninstalled(self, activity: Activity) -> None:
        tenant = tenant_of(activity)
        if not tenant:
            return
        await self.refs.forget(activity)
        if await self.refs.tenant_has_installs(tenant):
            return
        count = await deactivate_org(self.services, org_id_for(tenant))
        log.info(teams_logs.TEAMS_UNINSTALLED, tenant, count)

    async def reinstalled(self, activity: Activity) -> None:
        """Slotbot is back in the tenant: an org an uninstall turned off is on again, and the
        alerts held meanwhile go out."""
        tenant = tenant_of(activity)
        if tenant:
            released = await reactivate_org(self.services, org_id_for(tenant))
            if released is not None:
                log.info(teams_logs.TEAMS_REINSTALLED, tenant, released)
