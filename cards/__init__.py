"""Every message Slotbot shows, as neutral cards, and their pure renderers (Block Kit,
Adaptive Cards, plain text).

Cards are made by one module per feature, each function taking plain facts (names, URLs,
timezone-aware datetimes) and returning a `Card` or a text:

    scheduling  connecting a calendar, scheduling links, a member's status
    candidates  candidate profiles and timelines, upcoming interviews
    alerts      booking alerts, their follow-ups, notices around their delivery
    reminders   the reminder before an interview, /schedule reminders' answers
    setup       the Cronofy setup form, its outcome, reset
    admin       /cronofy status, admins, where alerts go
    help        the help card, usage lines, what is wrong with a typed command
    errors      errors, notices, confirmations, and the adapters' own short answers
    home        the Slack App Home tab
    pages       the browser pages after a calendar connect or a booking
    actions     every action id, form id and form field name the cards carry back

Then render a card for a platform:

    from cards.alerts import alert
    from cards.slack import to_slack            # SlackMessage(blocks, text)
    from cards.teams import to_teams            # Adaptive Card 1.5 dict
    from cards.text import to_text              # plain text

    card = alert("booked", view, audience="channel")

Text in a card is plain and untrusted; each renderer escapes it for its platform and
enforces the platform's limits. Nothing here imports a chat SDK, nor anything from `bot`
or `adapters`.
"""
