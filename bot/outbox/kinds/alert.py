"""The "alert" job: a booking event told to one conversation (a routed channel, or the
recruiter's direct messages), as one message per booking that shows its newest state.

Stored payload: {"target": <DeliveryTarget dict>, "target_name": <channel name or "">,
"audience": "channel" | "dm", "booking_id": <facts.booking_id>, "seq": <booking version>,
"facts": <AlertFacts dict, already cut to the audience>}.

Current state. `seq` is the booking version the job's event produced, and each stored message
reference carries the version its message shows: the message is drawn from the booking as it
stands now, and a job older than what the message shows changes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.alerts.render import AlertFacts, Audience, alert_card, follow_up_card
from bot.chat import DeliveryFailure, DeliveryTarget
from bot.errors import DeliveryError
from bot.outbox.jobs import BadJob, Delivered, JobKind, SentMarker, parse_target, target_to_dict
from bot.outbox.kinds.notice import notice_job
from bot.store.records import Booking, BookingMessage
from cards.alerts import error_invite_bot

if TYPE_CHECKING:
    from bot.outbox.attempt import Attempt

# the admins are asked to add Slotbot to a channel at most once in this long
INVITE_NOTICE_TTL = 7 * 24 * 3600.0
# failures of a channel post that someone in the org has to fix in the chat platform
_ADMINS_CAN_FIX = (DeliveryFailure.NOT_MEMBER, DeliveryFailure.GONE)


@dataclass(frozen=True)
class Alert:
    target: DeliveryTarget
    facts: AlertFacts  # cut to the audience when the job was made: nothing more is stored
    seq: int = 0
    target_name: str = ""  # the channel's name when it was routed, for the admins' notice

    @property
    def audience(self) -> Audience:
        return "channel" if self.target.kind == "channel" else "dm"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": target_to_dict(self.target),
            "target_name": self.target_name,
            "audience": self.audience,
            "booking_id": self.facts.booking_id,
            "seq": self.seq,
            "facts": self.facts.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        target = parse_target(data.get("target"))
        try:
            facts = AlertFacts.from_dict(data.get("facts"))
        except (ValueError, TypeError) as exc:
            raise BadJob(f"facts: {exc}") from None
        seq, name = data.get("seq"), data.get("target_name")
        return cls(
            target=target,
            facts=facts,
            # jobs written before booking versions existed carry none: they change any message
            seq=seq if isinstance(seq, int) else 0,
            target_name=name if isinstance(name, str) else "",
        )


async def deliver_alert(attempt: Attempt, alert: Alert) -> Delivered:
    target, facts, seq = alert.target, alert.facts, alert.seq
    store = attempt.services.store
    org_id = attempt.job.org_id
    adapter = attempt.adapter(target.platform)
    booking_id = facts.booking_id
    booking: Booking | None = None
    if booking_id is None:
        original = None
    else:
        # read together: one trip to the store (the booking goes unused when the message
        # already shows a newer event)
        refs, booking = await asyncio.gather(
            store.get_message_refs(org_id, booking_id), store.get_booking(org_id, booking_id)
        )
        original = refs.get(target.key)
    if booking_id is None or facts.kind == "other":
        # an unrecognised event is a note in the booking's thread: the message stays as it is
        if original is not None:
            await adapter.reply_in_thread(original, follow_up_card(facts))
            attempt.sent()
            return Delivered(target.platform, f"{target.key}, noted on {booking_id}")
        await adapter.send(target, alert_card(facts, alert.audience))
        attempt.sent()
        return Delivered(target.platform, target.key)
    if original is not None and seq and original.seq >= seq:
        # the message already shows this event or a newer one: nothing to change or say
        return Delivered(target.platform, f"{target.key}, {booking_id} already newer")
    card = alert_card(current_facts(facts, booking, seq), alert.audience)
    if original is not None:
        # one booking, one message: change it in place and say so in its thread
        try:
            await adapter.update(original, card)
        except DeliveryError as exc:
            if exc.failure is not DeliveryFailure.GONE:
                raise
            original = None  # the message is gone: post a new one below
        if original is not None:
            await adapter.reply_in_thread(original, follow_up_card(facts))
            shown = dataclasses.replace(original, seq=seq)
            # the reference, carrying the event's sequence number, is written with the ack
            attempt.sent(BookingMessage(org_id, booking_id, target.key, shown))
            return Delivered(target.platform, f"{target.key}, updated {booking_id}")
    ref = dataclasses.replace(await adapter.send(target, card), seq=seq)
    attempt.sent(BookingMessage(org_id, booking_id, target.key, ref))
    return Delivered(target.platform, target.key)


async def record_alert_sent(attempt: Attempt, alert: Alert, marker: SentMarker) -> Delivered:
    """Sent by a worker that died before acking: record where the message is, send nothing.

    Other jobs for the booking may have run while this one waited to be claimed again, and
    stored the reference of a message showing a newer version: that one stays. (Every job
    that writes this reference holds its conversation's lane, so nothing writes it between
    this read and this write.)"""
    target, facts = alert.target, alert.facts
    booking_id = facts.booking_id
    if marker.ref is not None and booking_id and facts.kind != "other":
        store = attempt.services.store
        org_id = attempt.job.org_id
        stored = (await store.get_message_refs(org_id, booking_id)).get(target.key)
        if stored is None or stored.seq < marker.ref.seq:
            await store.put_message_ref(org_id, booking_id, target.key, marker.ref)
    return Delivered(target.platform, f"{target.key}, already sent")


async def tell_admins_once(attempt: Attempt, alert: Alert, error: DeliveryError) -> None:
    """Once per channel: ask the org's admins to add Slotbot where it cannot post."""
    target = alert.target
    if target.kind != "channel" or error.failure not in _ADMINS_CAN_FIX:
        return
    conversation = target.conversation_id or ""
    org_id = attempt.job.org_id
    store = attempt.services.store
    if not await store.claim_once(f"alerts_invite:{org_id}:{conversation}", INVITE_NOTICE_TTL):
        return
    org = await store.get_org(org_id)
    if org is None or not org.admins:
        return
    name = alert.target_name.lstrip("#") or conversation
    card = error_invite_bot(name, org.platform)
    now = attempt.services.clock()
    await attempt.enqueue(
        [
            notice_job(
                org.org_id, DeliveryTarget(org.platform, org.org_id, "dm", user_id=a), card, now=now
            )
            for a in org.admins
        ]
    )


KIND = JobKind(
    name="alert",
    parse=Alert.from_dict,
    deliver=deliver_alert,
    finish_sent=record_alert_sent,
    undeliverable=tell_admins_once,
)


def current_facts(facts: AlertFacts, booking: Booking | None, seq: int) -> AlertFacts:
    """What the booking's message shows: this job's event, or the booking's newer state when
    the booking has moved on since (a later event whose own job is on its way)."""
    if booking is None or booking.version <= seq or booking.state == "other":
        return facts
    return dataclasses.replace(
        facts,
        kind=booking.state,
        start=booking.start,
        end=booking.end,
        zone=booking.zone,
        previous_start=None,
        previous_end=None,
        meeting_url=booking.meeting_url,
        reschedule_url=booking.reschedule_url,
        decline_url=booking.decline_url,
    )
