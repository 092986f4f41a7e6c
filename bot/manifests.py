"""`python -m bot manifest slack|teams ...`: hands over to the adapter that owns the manifest."""

from __future__ import annotations

import importlib
import sys

TARGETS = {"slack": "adapters.slack.manifest", "teams": "adapters.teams.manifest"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TARGETS:
        print("usage: python -m bot manifest slack|teams [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(TARGETS[argv[0]])
    code: int = module.main(argv[1:])
    return code
