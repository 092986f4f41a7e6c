"""The read API (`/api/v1/`): an org's candidates, timeline events and audit log as JSON, for
an ATS or a data warehouse, with bearer tokens an admin makes in chat (`tokens`).

- `tokens`   API tokens: made, listed, revoked (the `/cronofy api token` commands), checked
- `http`     the routes, through the core ingress chain (`bot.ingress`)
- `views`    records as the JSON the OpenAPI document (`openapi.json`) describes
- `cursors`  opaque cursors around the store's positions (`bot.store.feeds`)
"""
