"""Signed outbound webhooks: an org's https endpoints told of each new timeline event.

- `addresses.py` — which URLs and addresses Slotbot may post to (https only, public
  addresses only), checked when a webhook is added and again at each send;
- `settings.py` — the variables (`BOT_WEBHOOK_*`);
- `signing.py` — the `Slotbot-Signature` header;
- `events.py` — the events (a versioned JSON shape) and the outbox jobs that carry them;
- `client.py` — one POST, to the address just checked and to no other;
- `commands.py` — `/cronofy webhook add|list|remove|test`.

The job itself is the outbox kind `bot.outbox.kinds.webhook`.
"""
