"""Calling the read API the way an ATS does, and checking each answer against the OpenAPI
document's schemas (jsonschema, draft 2020-12, which OpenAPI 3.1 uses)."""

from __future__ import annotations

from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.api.openapi import document

_DOC_URI = "urn:slotbot:openapi"
_REGISTRY: Registry[Any] = Registry().with_resource(
    _DOC_URI, Resource.from_contents(document("https://slotbot.test/api/v1"), DRAFT202012)
)


def check_schema(name: str, body: Any) -> None:
    """`body` is a valid `name` of the document's components (raises otherwise)."""
    schema = {"$ref": f"{_DOC_URI}#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(schema, registry=_REGISTRY).validate(body)


async def api_get(
    client: Any, path: str, token: str | None, *, schema: str | None = None, status: int = 200
) -> Any:
    """GET `path` with the token; the answer must have `status` and be JSON matching
    `schema` (Error for any refusal)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = await client.get(path, headers=headers)
    body = await response.json()
    assert response.status == status, body
    assert response.content_type == "application/json"
    wanted = "Error" if status >= 400 else schema
    if wanted is not None:
        check_schema(wanted, body)
    return body


async def all_events(client: Any, token: str, limit: int) -> list[dict[str, Any]]:
    """Every event, a page of `limit` at a time, each page resuming from next_cursor."""
    seen: list[dict[str, Any]] = []
    path = f"/api/v1/events?limit={limit}"
    for _ in range(1000):
        page = await api_get(client, path, token, schema="EventPage")
        assert len(page["events"]) <= limit
        seen += page["events"]
        if not page["has_more"]:
            return seen
        path = f"/api/v1/events?limit={limit}&after={page['next_cursor']}"
    raise AssertionError("the pages never ended")
