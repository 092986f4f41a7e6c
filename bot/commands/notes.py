"""The note after an interview, on the command side: the org's setting (/cronofy feedback),
the Add note button that opens the note form, and the submitted note.

The candidate and booking a note is about come back from the client (the button's value,
the form's): they are checked against the store, within the actor's own org, before anything
is written. Notes go on the candidate's timeline and nowhere else: every answer is private.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from bot.chat import Reply
from bot.commands import CommandContext
from bot.commands import parser as p
from bot.cronofy import admins
from bot.errors import CommandError
from bot.lifecycle import panel
from bot.org_state import get_or_new_org
from bot.store.records import AuditEntry, Candidate, EventWrite, TimelineEntry
from bot.webhooks.events import note_event, webhook_jobs
from cards import actions
from cards import feedback as cards
from cards.feedback import NoteTarget
from cards.model import Card

# a note is written once per submission: its claim only has to outlive the write
NOTE_CLAIM_TTL = 60.0


async def feedback_command(ctx: CommandContext, command: p.FeedbackShow | p.FeedbackSet) -> Card:
    """`/cronofy feedback [on|off]` (admins only: checked by the dispatcher)."""
    services, actor = ctx.services, ctx.actor
    org = await get_or_new_org(services, actor)
    if isinstance(command, p.FeedbackShow):
        return cards.feedback_setting(on=org.feedback, delay_minutes=org.feedback_delay_minutes)
    now = services.clock()
    changed = org.feedback != command.on
    org.feedback = command.on
    if changed:
        org.updated_at = now
        await services.store.put_org(org)
        await services.store.append_audit(
            AuditEntry(
                org_id=org.org_id,
                actor=actor.user_id,
                action="feedback.on" if command.on else "feedback.off",
                detail={"delay_minutes": org.feedback_delay_minutes},
                at=now,
            )
        )
    return cards.feedback_set(on=org.feedback, delay_minutes=org.feedback_delay_minutes)


class NoteRefused(CommandError):
    """A note that cannot be saved (or its form opened): `field` is the input it is about,
    "form" for the whole form."""

    def __init__(self, message: str, field: str = "form") -> None:
        super().__init__(message)
        self.field = field


async def _allowed(ctx: CommandContext, target: NoteTarget | None) -> Candidate:
    """The candidate the note is about, when the actor may write one: the candidate is the
    org's, and the actor an admin, its recruiter, or a member on the panel (or the recruiter)
    of the booking named, a booking of that candidate. Anything else (a foreign id, a made-up
    one) is the same refusal."""
    services, actor = ctx.services, ctx.actor
    store = services.store
    admin = admins.is_admin(services, await store.get_org(actor.org_id), actor)
    if not admin and await store.get_member(actor.org_id, actor.user_id) is None:
        raise NoteRefused(cards.NOTE_NOT_A_MEMBER)
    if target is None:
        raise NoteRefused(cards.NOTE_NOT_ALLOWED)
    candidate = await store.get_candidate(actor.org_id, target.candidate_id)
    if candidate is None or candidate.org_id != actor.org_id:
        raise NoteRefused(cards.NOTE_NOT_ALLOWED)
    if admin or candidate.recruiter_id == actor.user_id:
        return candidate
    booking = (
        await store.get_booking(actor.org_id, target.booking_id) if target.booking_id else None
    )
    if booking is None or booking.candidate_id != candidate.candidate_id:
        raise NoteRefused(cards.NOTE_NOT_ALLOWED)
    if booking.recruiter_id == actor.user_id:
        return candidate
    if any(m.user_id == actor.user_id for m in await panel.interviewers(store, booking)):
        return candidate
    raise NoteRefused(cards.NOTE_NOT_ALLOWED)


async def open_note_form(ctx: CommandContext, value: str) -> list[Reply]:
    """Add note: the form, for the candidate the button names (when the actor may)."""
    target = NoteTarget.decode(value)
    try:
        candidate = await _allowed(ctx, target)
    except NoteRefused as exc:
        return [Reply(card=cards.note_refused(exc.public_message), visibility="private")]
    assert target is not None
    card = cards.note_form(candidate.name or candidate.email, target)
    return [Reply(card=card, visibility="private", opens_form=True)]


async def submit_note(ctx: CommandContext, value: str, values: Mapping[str, str]) -> Reply:
    """A submitted note: on the candidate's timeline with its author, or refused with why
    (nothing stored); the answer takes the form's place."""
    target = NoteTarget.decode(value)
    text = values.get(actions.NOTE_TEXT, "").replace("\r\n", "\n").strip()
    name = ""
    try:
        if not text:
            raise NoteRefused(cards.NOTE_EMPTY, actions.NOTE_TEXT)
        if len(text) > cards.MAX_NOTE:
            raise NoteRefused(cards.note_too_long(len(text)), actions.NOTE_TEXT)
        candidate = await _allowed(ctx, target)
    except NoteRefused as exc:
        card = cards.note_refused(exc.public_message)
        again = cards.note_form(name, target, text) if target is not None else None
        return Reply(
            card=card,
            visibility="update",
            form_errors={exc.field: exc.public_message},
            form_again=again,
        )
    assert target is not None
    entry = TimelineEntry(
        kind="note",
        at=ctx.services.clock(),
        booking_id=target.booking_id or None,
        recruiter_id=ctx.actor.user_id,
        note=text,
    )
    store = ctx.services.store
    org = await store.get_org(ctx.actor.org_id)
    jobs = (
        webhook_jobs(org, note_event(org.org_id, candidate, entry, now=entry.at), now=entry.at)
        if org is not None and org.webhooks
        else []
    )
    # the note and its webhook events in one write: "saved" never leaves a webhook untold
    await store.commit_event(
        EventWrite(
            dedupe_key=f"note:{uuid.uuid4().hex}",
            dedupe_ttl=NOTE_CLAIM_TTL,
            org_id=ctx.actor.org_id,
            candidate=candidate,
            timeline=entry,
            jobs=jobs,
        )
    )
    return Reply(card=cards.note_saved(candidate.name or candidate.email), visibility="update")
