"""The borders of the house: only adapters/ talks to chat SDKs; cards/ imports no SDK at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAT_SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")
ANY_SDK = (*CHAT_SDKS, "pycronofy", "aiohttp", "redis", "sqlite3", "requests", "msrest")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_core_imports_no_chat_sdk() -> None:
    assert offenders("bot", CHAT_SDKS) == []


def test_core_reaches_adapters_only_through_setup_hooks() -> None:
    direct = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for name in imported_modules(path)
        if name.startswith("adapters") and path.name not in ("app.py", "manifests.py")
    ]
    assert direct == []


def test_core_reads_no_platform_error_code() -> None:
    """The outbox acts on `DeliveryFailure`; what Slack or Teams answered stays in adapters/."""
    from adapters.slack.errors import KNOWN_ERRORS
    from adapters.teams.errors import FAILURE_BY_CODE

    codes = {*KNOWN_ERRORS, *FAILURE_BY_CODE, "ratelimited"}
    found = [
        f"{path.relative_to(ROOT)} names {code}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for code in sorted(codes)
        if f'"{code}"' in path.read_text(encoding="utf-8")
    ]
    assert found == []


def test_cards_import_no_sdk() -> None:
    assert offenders("cards", ANY_SDK) == []
    assert offenders("cards", ("bot", "adapters")) == []


@pytest.mark.parametrize("source", ["import slack_sdk\n", "from botbuilder.core import X\n"])
def test_the_check_catches_an_sdk_import(tmp_path: Path, source: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert imported_modules(module) & {"slack_sdk", "botbuilder.core"}
