"""Neutral message cards and their pure renderers (Block Kit, Adaptive Cards, plain text).

Build a card once with `cards.library` (or from `cards.model` elements), then render it:

    from cards import library
    from cards.slack import to_slack            # SlackMessage(blocks, text)
    from cards.teams import to_teams            # Adaptive Card 1.5 dict
    from cards.text import to_text              # plain text

    card = library.alert("booked", view, audience="channel")

Text in a card is plain and untrusted; each renderer escapes it for its platform and
enforces the platform's limits. Nothing here imports a chat SDK.
"""
