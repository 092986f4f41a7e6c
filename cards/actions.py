"""Every id a card carries back to Slotbot, in one place.

Buttons send an action id (and a value); the setup form is known by its form ids and its
field names. The cards put these ids on their buttons and inputs, the command layer and
the adapters compare against them: everybody imports them from here, nobody spells them
out (a test keeps `bot/` and `adapters/` free of these literals).
"""

from __future__ import annotations

# --- buttons the command layer answers (bot.commands.run_action) --------------------------

SHARE_LINK = "link.share"  # value: which of the presser's links to post ("own", "tracked:…")
CANDIDATE_PROFILE = "candidate.profile"  # value: the candidate's opaque id
RESET_CONFIRM = "cronofy.reset.confirm"  # value: the org the reset was asked for
CONFIRM_CANCEL = "confirm.cancel"  # value: the action id that was not confirmed
OPEN_SETUP = "setup.open"
# "Add note" on the prompt after an interview; value: `note_target` (candidate and booking)
ADD_NOTE = "feedback.add_note"
# Erase on the confirmation of /cronofy candidate erase and on a data request; value: the
# candidate's opaque id
ERASE_CONFIRM = "candidate.erase.confirm"

# ids that cards sent before the current ones; buttons already posted still carry them
CANCEL_LEGACY = "cancel"
OPEN_SETUP_LEGACY = "cronofy.setup.open"
SETUP_SUBMIT_LEGACY = "cronofy.setup.submit"

CANCEL_ACTIONS = (CONFIRM_CANCEL, CANCEL_LEGACY)
SETUP_OPEN_ACTIONS = (OPEN_SETUP, OPEN_SETUP_LEGACY)

# --- link buttons: the platform opens the URL, nothing comes back -------------------------

OPEN_LINK = "link.open"
CONNECT = "connect.open"
ALERT_MEETING = "alert.meeting"
ALERT_PROFILE = "alert.profile"
ALERT_RESCHEDULE = "alert.reschedule"
ALERT_DECLINE = "alert.decline"
REMINDER_MEETING = "reminder.meeting"

# --- the setup form -----------------------------------------------------------------------

SETUP_SUBMIT = "setup.submit"  # the form's submit button (Teams sends the inputs with it)
SETUP_SUBMIT_ACTIONS = (SETUP_SUBMIT, SETUP_SUBMIT_LEGACY)
SETUP_FORM = "cronofy_setup"  # the form as a Slack modal (its callback id)
SETUP_DONE_FORM = "cronofy_setup_done"  # the modal once submitted: checking, then the outcome

# the setup form, by every id a submission of it comes back with: its submit button's action
# id (a form's id), and the callback id of setup modals opened before that
SETUP_FORMS = (*SETUP_SUBMIT_ACTIONS, SETUP_FORM)

# --- the note after an interview ----------------------------------------------------------

# the form's id and its submit button's action id; the button's value (a Slack modal keeps it
# in its private metadata) says which candidate and booking the note is about
NOTE_FORM = "feedback.note"
NOTE_TEXT = "note_text"  # its one input

# every form the command layer answers, by the id a submission comes back with
FORMS = (*SETUP_FORMS, NOTE_FORM)

# the inputs the core reads, and the keys of the field errors it answers with
CLIENT_ID = "client_id"
CLIENT_SECRET = "client_secret"
DATA_CENTER = "data_center"
SETUP_FIELDS = (CLIENT_ID, CLIENT_SECRET, DATA_CENTER)
