"""Showing the core's replies on Slack: where a reply to one interaction goes, and how.

A private reply is ephemeral (or, through the response_url, visible only to the member), a
public one is posted in the conversation; a form opens as a modal.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import log_lines as slack_logs
from adapters.slack.delivery import retry_handlers
from adapters.slack.reach import SlackReach
from adapters.slack.render import modal_view, render_message
from bot.chat import Reply
from cards import setup as setup_cards
from cards.actions import SETUP_DONE_FORM

log = logging.getLogger(__name__)

SUBMIT_LABEL = "Save"


@dataclass
class ReplyChannel:
    """Where replies to one interaction go."""

    client: AsyncWebClient
    response_url: str | None
    channel_id: str | None
    user_id: str
    session: aiohttp.ClientSession | None = None
    trigger_id: str | None = None  # to open a modal (valid for 3 seconds)
    reach: SlackReach | None = None  # told whether Slack answered


async def send_replies(replies: list[Reply], where: ReplyChannel) -> None:
    for reply in replies:
        if reply.opens_form:
            await open_form(reply, where)
        else:
            await deliver_reply(reply, where)


def ack_answer(reply: Reply) -> dict[str, Any]:
    """A reply as the body of a slash command's ack: Slack shows it as it would the same
    message posted to the command's response_url."""
    message = render_message(reply.card)
    public = reply.visibility == "public"
    return {
        "text": message.text,
        "blocks": message.blocks,
        "response_type": "in_channel" if public else "ephemeral",
    }


async def deliver_reply(reply: Reply, where: ReplyChannel) -> None:
    message = render_message(reply.card)
    public = reply.visibility == "public"
    try:
        if where.response_url:
            # one shared HTTP session for every response_url post (bolt's respond() opens a
            # new session, and a new connection, per reply)
            webhook = AsyncWebhookClient(
                url=where.response_url,
                session=where.session,
                timeout=10,
                retry_handlers=retry_handlers(where.reach),
            )
            sent = await webhook.send(
                text=message.text,
                blocks=message.blocks,
                response_type="in_channel" if public else "ephemeral",
                replace_original=False,
            )
            if sent.status_code >= 400:
                log.warning(
                    slack_logs.SLACK_REPLY_FAILED, f"response_url answered {sent.status_code}"
                )
        elif public and where.channel_id:
            await where.client.chat_postMessage(
                channel=where.channel_id, text=message.text, blocks=message.blocks
            )
        elif where.channel_id and not where.channel_id.startswith("D"):
            await where.client.chat_postEphemeral(
                channel=where.channel_id,
                user=where.user_id,
                text=message.text,
                blocks=message.blocks,
            )
        else:
            # no conversation to answer in (App Home): the member's DM with Slotbot
            await where.client.chat_postMessage(
                channel=where.user_id, text=message.text, blocks=message.blocks
            )
    except SlackApiError as exc:
        log.warning(slack_logs.SLACK_REPLY_FAILED, exc.response.get("error"))
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning(slack_logs.SLACK_REPLY_FAILED, type(exc).__name__)


async def open_form(reply: Reply, where: ReplyChannel) -> None:
    """A form opens as a modal whose callback id is the form's id; the conversation it was
    asked for in rides along, so the submission knows where it came from, and so does the
    value of its submit button (the modal's own Submit takes that button's place)."""
    submit = next((b.value for b in reply.card.buttons if b.submit and b.value), "")
    context = {"channel_id": where.channel_id or ""}
    if submit:
        context["value"] = submit
    metadata = json.dumps(context)
    view = modal_view(reply.card, reply.card.form_id, SUBMIT_LABEL, private_metadata=metadata)
    if not where.trigger_id:
        await deliver_reply(Reply(setup_cards.form_without_trigger()), where)
        return
    try:
        await where.client.views_open(trigger_id=where.trigger_id, view=view)
    except SlackApiError as exc:
        log.warning(slack_logs.SLACK_REPLY_FAILED, exc.response.get("error"))
        await deliver_reply(Reply(setup_cards.form_not_opened()), where)


def form_answer(reply: Reply, field_names: set[str]) -> dict[str, Any]:
    """How a view submission is acked: the problems beside the inputs they are about, or
    the modal updated to show the outcome."""
    inline = {name: text for name, text in reply.form_errors.items() if name in field_names}
    if inline:
        return {"response_action": "errors", "errors": inline}
    return {"response_action": "update", "view": done_view(reply)}


def done_view(reply: Reply) -> dict[str, Any]:
    return modal_view(reply.card, SETUP_DONE_FORM)
