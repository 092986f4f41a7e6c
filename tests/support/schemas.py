"""The third-party JSON Schemas in the repository's `schemas/` folder (see its README)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SLACK_SCHEMA_BASE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"


def load(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@cache
def adaptive_card_validator() -> jsonschema.Draft6Validator:
    schema = load("adaptive-card-1.5.json")
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema)


@cache
def teams_manifest_validator() -> jsonschema.Draft7Validator:
    # Draft 7, not the declared draft-04: the schema pins manifestVersion with `const`
    return jsonschema.Draft7Validator(load("teams-manifest-1.17.json"))


@cache
def slack_manifest_validator() -> jsonschema.Draft7Validator:
    registry: Registry[Any] = Registry().with_resources(
        [
            (
                SLACK_SCHEMA_BASE + f"manifest.schema.{v}.0.0.json",
                Resource.from_contents(load(f"slack-app-manifest-v{v}.json")),
            )
            for v in (1, 2)
        ]
    )
    return jsonschema.Draft7Validator(load("slack-app-manifest.json"), registry=registry)
