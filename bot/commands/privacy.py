"""A candidate's own data, on the command side (admins only; the dispatcher checks the
commands, `erase_pressed` checks the button itself):

- `/cronofy candidate erase <email>` answers a confirmation with an Erase button carrying the
  candidate's id, and erases nothing; the button erases (`bot.candidates.erase`).
- `/cronofy candidate export <email>` answers a private ten-minute download link.
- `/cronofy retention [<days>|off]` shows or sets the org's retention, and sets or cancels
  its daily sweep.

Every answer is private: they name the candidate, or their data.
"""

from __future__ import annotations

from bot.candidates import erase as erasing
from bot.candidates import export, retention
from bot.chat import Reply, privately
from bot.commands import CommandContext
from bot.commands import parser as p
from bot.cronofy import admins
from bot.errors import PermissionDenied
from bot.org_state import get_or_new_org
from bot.outbox.kinds.retention import sweep_timer
from bot.store.records import AuditEntry
from cards import privacy as cards


async def run(ctx: CommandContext, command: p.Command) -> list[Reply]:
    services, actor = ctx.services, ctx.actor
    store = services.store
    if isinstance(command, p.CandidateErase | p.CandidateExport):
        candidate = await store.find_candidate_by_email(actor.org_id, command.email)
        if candidate is None:
            return privately(cards.no_candidate(command.email))
        if isinstance(command, p.CandidateExport):
            url = await export.make_link(services, candidate, actor=actor.user_id)
            return privately(cards.export_link(url, int(export.LINK_TTL // 60)))
        bookings = [
            b
            for b in await store.list_bookings(actor.org_id)
            if b.candidate_id == candidate.candidate_id
        ]
        return privately(
            cards.confirm_erase(
                candidate.email, candidate.name, candidate.candidate_id, len(bookings)
            )
        )
    org = await get_or_new_org(services, actor)
    if isinstance(command, p.RetentionShow):
        return privately(cards.retention_setting(org.retention_days))
    assert isinstance(command, p.RetentionSet)
    now = services.clock()
    org.retention_days = command.days
    org.updated_at = now
    await store.put_org(org)
    await store.append_audit(
        AuditEntry(
            org_id=org.org_id,
            actor=actor.user_id,
            action="retention.set",
            detail={"days": command.days},
            at=now,
        )
    )
    key = retention.retention_key(org.org_id)
    # the first sweep runs now: what is already older than the new setting goes today
    timer = sweep_timer(org, due=now, now=now)
    if timer is None:
        await store.cancel_timers([key])
    else:
        await store.enqueue([timer])
    return privately(cards.retention_set(command.days))


async def erase_pressed(ctx: CommandContext, candidate_id: str) -> list[Reply]:
    """Erase (on the confirmation, or on a data request): the id came back from the client,
    so it is looked up in the presser's own org only, and only an admin's press counts."""
    services, actor = ctx.services, ctx.actor
    if not admins.is_admin(services, await services.store.get_org(actor.org_id), actor):
        raise PermissionDenied()
    done = (
        await erasing.erase(services, actor.org_id, candidate_id, actor=actor.user_id)
        if candidate_id
        else None
    )
    if done is None:
        return privately(cards.already_erased())
    return privately(cards.erased(done.counts.to_dict()))
