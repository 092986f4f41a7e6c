"""`/schedule agenda [on [HH:MM] | off]`: the member's morning list of the day's interviews.

The setting lives on the member (`Member.agenda_at`), the next morning's message is a timer
(`bot.outbox.kinds.agenda`). The member's time zone is learnt here from the platform (the
turn's zone) and kept (`Member.chat_zone`); one the platform does not say, or zoneinfo does
not know, leaves the org's default in use, and the answers say which it is.
"""

from __future__ import annotations

from bot.chat import Reply
from bot.commands import CommandContext
from bot.commands import parser as p
from bot.lifecycle.agenda import member_zone, valid_zone
from bot.outbox.kinds.agenda import first_fire, next_agenda
from bot.store.records import Member
from bot.timers import agenda_key
from cards import agenda as cards


async def run(ctx: CommandContext, command: p.AgendaShow | p.AgendaOn | p.AgendaOff) -> Reply:
    services, actor = ctx.services, ctx.actor
    store, now = services.store, services.clock()
    member = await store.get_member(actor.org_id, actor.user_id)
    if member is None:
        member = Member(org_id=actor.org_id, user_id=actor.user_id, display_name=actor.display_name)
    org = await store.get_org(actor.org_id)
    changed = False
    said = ctx.zone if valid_zone(ctx.zone) is not None else None
    if said is not None and said != member.chat_zone:
        member.chat_zone = said
        changed = True
    zone, defaulted = member_zone(member.chat_zone, org.default_zone if org else None)
    shown = cards.AgendaZone(zone.key, defaulted)
    if isinstance(command, p.AgendaShow):
        if changed:
            await _save(ctx, member)
            # a zone learnt now moves the next morning's message to the new local time
            job = next_agenda(member, org, now=now)
            if job is not None:
                await store.enqueue([job])
        return Reply(cards.agenda_status(member.agenda_at, shown))
    if isinstance(command, p.AgendaOff):
        was_on = member.agenda_at is not None
        member.agenda_at = None
        await _save(ctx, member)
        # after the member is saved: a timer firing meanwhile reads "off" and sets no next
        await store.cancel_timers([agenda_key(actor.org_id, actor.user_id)])
        return Reply(cards.agenda_off(was_on))
    member.agenda_at = command.at
    await _save(ctx, member)
    job = next_agenda(member, org, now=now)
    assert job is not None  # the time was checked by the parser
    await store.enqueue([job])
    return Reply(cards.agenda_on(command.at, shown, first_fire(job)))


async def _save(ctx: CommandContext, member: Member) -> None:
    member.updated_at = ctx.services.clock()
    await ctx.services.store.put_member(member)
