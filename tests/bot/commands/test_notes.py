"""The note after an interview, command side: /cronofy feedback, the Add note button and the
submitted note, on both stores. Ids come back from the client and are checked."""

from __future__ import annotations

import pytest

from bot.chat import Reply, Turn
from bot.commands import CommandContext, handle_turn
from bot.runtime import Services
from bot.store.records import Booking, Candidate, Member, Org
from cards import actions
from cards.feedback import MAX_NOTE, NoteTarget
from cards.slack import to_slack
from cards.teams import to_teams
from tests.bot.commands.test_dispatch import ADMIN, RECRUITER, org_ready, say
from tests.bot.commands.turns import run_action
from tests.bot.cronofy.support import ORG_ID, actor, card_text, ctx
from tests.cards.checks import assert_slack_inert, assert_teams_inert, teams_texts

__all__ = ["org_ready"]  # the fixture, imported for these tests

INTERVIEWER = "U_PANEL"
STRANGER = "U_STRANGER"  # a member of the org, not on the panel
OTHER_ORG = "slack:T0OTHER"
CANDIDATE = "cand_n1"
BOOKING = "srq_note_1"
TARGET = NoteTarget(CANDIDATE, BOOKING)


@pytest.fixture
async def booked(org_ready: Services) -> Services:
    """A candidate with a booking whose panel is the recruiter and one interviewer."""
    store = org_ready.store
    for user_id, name, email in (
        (RECRUITER, "Rita Recruiter", "rita@example.com"),
        (INTERVIEWER, "Ivan Interviewer", "ivan@example.com"),
        (STRANGER, "Sam Stranger", "sam@example.com"),
    ):
        await store.put_member(
            Member(ORG_ID, user_id, display_name=name, email=email, connected=True)
        )
    await store.put_candidate(
        Candidate(ORG_ID, CANDIDATE, "jane@example.com", "Jane Doe", RECRUITER)
    )
    await store.put_booking(
        Booking(
            ORG_ID,
            BOOKING,
            candidate_id=CANDIDATE,
            recruiter_id=RECRUITER,
            start="2027-01-05T10:00:00Z",
            end="2027-01-05T10:45:00Z",
            attendees=["ivan@example.com"],
        )
    )
    # another org, with a candidate of its own
    await store.put_org(Org(org_id=OTHER_ORG, platform="slack"))
    await store.put_candidate(Candidate(OTHER_ORG, "cand_foreign", "x@example.com", "Xavier"))
    return org_ready


def _who(services: Services, user: str) -> CommandContext:
    return ctx(services, actor(user), "D_DM", "dm")


async def submit(services: Services, user: str, value: str, text: str) -> Reply:
    who = _who(services, user)
    turn = Turn(
        who.actor,
        who.conversation,
        "form",
        action_id=actions.NOTE_FORM,
        values={actions.NOTE_TEXT: text},
        value=value,
    )
    [reply] = await handle_turn(services, turn)
    return reply


async def notes_of(services: Services, candidate: str = CANDIDATE, org: str = ORG_ID) -> list[str]:
    timeline = await services.store.list_timeline(org, candidate)
    return [entry.note for entry in timeline if entry.kind == "note"]


# --- /cronofy feedback ------------------------------------------------------------------


async def test_feedback_setting_is_shown_and_changed_by_admins_only_and_audited(
    org_ready: Services,
) -> None:
    services = org_ready
    assert "admin" in (await say(services, "cronofy feedback off", user=RECRUITER)).lower()
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.feedback is True, "a non-admin changes nothing"

    shown = await say(services, "cronofy feedback", user=ADMIN)
    assert "On: 15 minutes after each interview ends" in shown
    assert "off" in await say(services, "cronofy feedback off", user=ADMIN)
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.feedback is False and org.feedback_delay_minutes == 15
    assert "Off:" in await say(services, "cronofy feedback", user=ADMIN)
    assert "Notes after interviews" not in await say(services, "cronofy status", user=ADMIN)
    await say(services, "cronofy feedback ON", user=ADMIN)
    org = await services.store.get_org(ORG_ID)
    assert org is not None and org.feedback is True
    status = await say(services, "cronofy status", user=ADMIN)
    assert "Notes after interviews" in status and "asked 15 minutes after the end" in status

    audit = await services.store.list_audit(ORG_ID)
    changes = [(a.action, a.actor) for a in audit if a.action.startswith("feedback.")]
    assert changes == [("feedback.on", ADMIN), ("feedback.off", ADMIN)]  # newest first
    assert "Say on or off" in await say(services, "cronofy feedback maybe", user=ADMIN)


# --- the Add note button ------------------------------------------------------------------


async def test_add_note_opens_the_form_for_the_candidate_and_booking(booked: Services) -> None:
    [reply] = await run_action(_who(booked, INTERVIEWER), actions.ADD_NOTE, TARGET.encode())
    assert reply.opens_form and reply.visibility == "private"
    assert reply.card.form_id == actions.NOTE_FORM
    assert [i.name for i in reply.card.inputs] == [actions.NOTE_TEXT]
    [save] = [b for b in reply.card.buttons if b.submit]
    assert NoteTarget.decode(save.value) == TARGET
    assert "Jane Doe" in card_text(reply.card)


@pytest.mark.parametrize(
    "value",
    [
        NoteTarget("cand_foreign", BOOKING).encode(),  # another org's candidate
        NoteTarget("cand_nobody", BOOKING).encode(),
        "not json",
        '{"c": 5}',
    ],
)
async def test_add_note_for_a_candidate_not_of_the_org_opens_nothing(
    booked: Services, value: str
) -> None:
    [reply] = await run_action(_who(booked, INTERVIEWER), actions.ADD_NOTE, value)
    assert not reply.opens_form
    assert "Note not saved" in card_text(reply.card)
    assert "Xavier" not in card_text(reply.card)


# --- the submitted note -------------------------------------------------------------------


async def test_a_note_lands_on_the_timeline_with_its_author_and_shows_in_the_profile(
    booked: Services,
) -> None:
    services = booked
    reply = await submit(services, INTERVIEWER, TARGET.encode(), "  Strong on systems design.\n")
    assert not reply.form_errors and reply.visibility == "update"
    assert "Note saved" in card_text(reply.card)
    [entry] = [e for e in await services.store.list_timeline(ORG_ID, CANDIDATE)]
    assert (entry.kind, entry.note, entry.recruiter_id, entry.booking_id, entry.at) == (
        "note",
        "Strong on systems design.",
        INTERVIEWER,
        BOOKING,
        services.clock(),
    )
    profile = await say(services, "schedule candidate jane@example.com", user=RECRUITER)
    assert "Note by Ivan Interviewer" in profile and "Strong on systems design." in profile


async def test_the_recruiter_and_an_admin_may_note_too(booked: Services) -> None:
    assert not (await submit(booked, RECRUITER, TARGET.encode(), "by the recruiter")).form_errors
    assert not (await submit(booked, ADMIN, TARGET.encode(), "by an admin")).form_errors
    assert await notes_of(booked) == ["by the recruiter", "by an admin"]


async def test_an_empty_note_is_refused_beside_its_input(booked: Services) -> None:
    for text in ("", "   \n  "):
        reply = await submit(booked, INTERVIEWER, TARGET.encode(), text)
        assert set(reply.form_errors) == {actions.NOTE_TEXT}
        assert "empty" in reply.form_errors[actions.NOTE_TEXT]
        assert reply.form_again is not None and reply.form_again.form_id == actions.NOTE_FORM
    assert await notes_of(booked) == []


async def test_a_note_over_the_cap_is_refused_whole_and_the_cap_itself_is_kept(
    booked: Services,
) -> None:
    reply = await submit(booked, INTERVIEWER, TARGET.encode(), "x" * (MAX_NOTE + 1))
    assert "2001 characters" in reply.form_errors[actions.NOTE_TEXT]
    assert "nothing was saved" in reply.form_errors[actions.NOTE_TEXT]
    assert reply.form_again is not None
    [field] = reply.form_again.inputs
    assert len(field.value) == MAX_NOTE + 1, "the form comes back with the text to shorten"
    assert await notes_of(booked) == []
    assert not (await submit(booked, INTERVIEWER, TARGET.encode(), "y" * MAX_NOTE)).form_errors
    assert await notes_of(booked) == ["y" * MAX_NOTE]


@pytest.mark.parametrize(
    ("user", "value"),
    [
        (INTERVIEWER, NoteTarget("cand_foreign", BOOKING).encode()),  # another org's candidate
        (INTERVIEWER, NoteTarget("cand_foreign").encode()),
        (INTERVIEWER, NoteTarget(CANDIDATE, "srq_someone_elses").encode()),
        (INTERVIEWER, NoteTarget(CANDIDATE).encode()),  # no booking: not on a panel
        (INTERVIEWER, "garbage"),
        (INTERVIEWER, ""),
        (STRANGER, TARGET.encode()),  # a member, not on this booking's panel
        ("U_NOT_A_MEMBER", TARGET.encode()),
    ],
)
async def test_a_note_about_someone_not_yours_is_refused_and_nothing_stored(
    booked: Services, user: str, value: str
) -> None:
    reply = await submit(booked, user, value, "sneaky")
    assert set(reply.form_errors) == {"form"}
    assert "Note not saved" in card_text(reply.card)
    assert await notes_of(booked) == []
    assert await notes_of(booked, "cand_foreign", OTHER_ORG) == []


async def test_markdown_in_a_note_is_shown_as_written_and_pings_nobody(booked: Services) -> None:
    hostile = "<!channel> *bold* <https://evil.test|trust me> [x](javascript:alert(1)) <at>All</at>"
    assert not (await submit(booked, INTERVIEWER, TARGET.encode(), hostile)).form_errors
    assert await notes_of(booked) == [hostile], "stored as written"
    who = _who(booked, RECRUITER)
    [reply] = await handle_turn(
        booked,
        Turn(who.actor, who.conversation, "command", text="schedule candidate jane@example.com"),
    )
    slack = to_slack(reply.card)
    assert_slack_inert(slack.blocks, slack.text)
    # shown as plain text, or escaped where Slack would read mrkdwn
    assert any(hostile in text for text in _texts(slack.blocks, "plain_text")) or any(
        "&lt;!channel&gt;" in text for text in _texts(slack.blocks, "mrkdwn")
    )
    assert not any("<!channel>" in text for text in _texts(slack.blocks, "mrkdwn"))
    teams = to_teams(reply.card)
    assert_teams_inert(teams)
    [shown] = [t for t in teams_texts(teams) if "javascript" in t]
    assert "\\[x\\](javascript:" in shown, "the link markup is escaped, not a link"


def _texts(node: object, kind: str) -> list[str]:
    """Every Block Kit text object of `kind` (plain_text, mrkdwn) in `node`."""
    if isinstance(node, dict):
        found = [str(node["text"])] if node.get("type") == kind and "text" in node else []
        return found + [t for v in node.values() for t in _texts(v, kind)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v, kind)]
    return []
