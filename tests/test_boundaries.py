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


def test_core_imports_no_adapter_and_nothing_by_name() -> None:
    """The core reaches platforms only through bot.platforms (entry points), never by
    importing an adapter or a module named in a string."""
    direct = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] == "adapters" or name == "importlib"
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


PLATFORM_NAMES = ("slack", "teams", "microsoft", "botframework", "bolt")


def platform_mentions(path: Path) -> list[str]:
    """Identifiers and string literals (docstrings and comments aside) that name a chat
    platform: the core speaks of orgs, members and conversations."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            text = node.value.lower()
        elif isinstance(node, ast.Name):
            text = node.id.lower()
        elif isinstance(node, ast.Attribute):
            text = node.attr.lower()
        else:
            continue
        if any(name in text for name in PLATFORM_NAMES):
            where = path.relative_to(ROOT) if ROOT in path.parents else path
            found.append(f"{where}:{getattr(node, 'lineno', '?')} {text[:60]!r}")
    return found


platform_mentions_at = platform_mentions


# a migration renames what earlier versions stored under names the adapters chose
STORED_NAMES = ROOT / "bot" / "store" / "migrations"


def test_core_names_no_chat_platform() -> None:
    mentions = [
        m
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if STORED_NAMES not in path.parents
        for m in platform_mentions(path)
    ]
    assert mentions == []


def test_the_platform_name_check_catches_a_name(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Slack is fine in a docstring."""\nif org.platform == "slack":\n    pass\n'
    )
    assert len(platform_mentions_at(sample)) == 1


def test_cards_import_no_sdk() -> None:
    assert offenders("cards", ANY_SDK) == []
    assert offenders("cards", ("bot", "adapters")) == []


@pytest.mark.parametrize("source", ["import slack_sdk\n", "from botbuilder.core import X\n"])
def test_the_check_catches_an_sdk_import(tmp_path: Path, source: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert imported_modules(module) & {"slack_sdk", "botbuilder.core"}


# --- cards are made in cards/ only ---------------------------------------------------------

# the same words with another meaning: the OAuth 2.0 parameters of Cronofy's (and of the
# console's local stand-in for it) and Microsoft's token endpoints, and a fragment Cronofy's
# notification types are matched on
OTHER_MEANINGS = {
    ("bot/cronofy/client.py", "client_id"),
    ("bot/cronofy/client.py", "client_secret"),
    ("adapters/console/standin.py", "client_id"),
    ("adapters/console/standin.py", "client_secret"),
    ("adapters/teams/credentials.py", "client_id"),
    ("adapters/teams/credentials.py", "client_secret"),
    ("bot/alerts/parse.py", "cancel"),
}
# what bot/ and adapters/ may take from the card model: the type and its stored form
MODEL_NAMES = {"Card", "Element", "card_to_dict", "card_from_dict"}


def action_ids() -> set[str]:
    from cards import actions

    return {
        value for name, value in vars(actions).items() if name.isupper() and isinstance(value, str)
    }


def string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def spelled_out(ids: set[str], root: Path = ROOT) -> list[str]:
    found = []
    for package in ("bot", "adapters"):
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root).as_posix()
            for literal in sorted(string_literals(path) & ids):
                if (where, literal) not in OTHER_MEANINGS:
                    found.append(f"{where} spells out {literal!r}: import it from cards.actions")
    return found


def test_action_ids_are_spelled_out_only_in_cards_actions() -> None:
    ids = action_ids()
    assert {"link.share", "setup.submit", "cronofy_setup", "client_secret"} <= ids
    assert spelled_out(ids) == []


def test_the_checks_catch_a_spelled_out_id_and_a_retired_import(tmp_path: Path) -> None:
    (tmp_path / "adapters").mkdir()
    module = tmp_path / "adapters" / "m.py"
    module.write_text(
        "from cards import library\n"
        'if action_id == "candidate.profile":\n'
        '    send(f"{who}", "connect.open")\n'
    )
    assert spelled_out(action_ids(), tmp_path) == [
        "adapters/m.py spells out 'candidate.profile': import it from cards.actions",
        "adapters/m.py spells out 'connect.open': import it from cards.actions",
    ]
    assert "cards.library" in imported_names(module)


def imported_names(path: Path) -> set[str]:
    """Modules imported, and `module.name` for every name taken from one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = imported_modules(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_retired_card_modules_stay_gone() -> None:
    """Cards live in the feature modules of cards/; no library or re-export layer is back."""
    retired = ("cards/library.py", "bot/cronofy/views.py")
    assert [path for path in retired if (ROOT / path).exists()] == []
    users = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("bot", "adapters", "cards", "tests", "bench")
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported_names(path)
        if name in ("cards.library", "bot.cronofy.views")
    ]
    assert users == []


def test_core_and_adapters_take_cards_from_cards_not_from_the_model() -> None:
    """What a person reads is decided in cards/: bot/ and adapters/ pass cards around and
    store them, but never assemble one from headers, sections and buttons themselves."""
    assembled = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("bot", "adapters")
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported_names(path)
        if name.startswith("cards.model.") and name.removeprefix("cards.model.") not in MODEL_NAMES
    ]
    assert assembled == []
