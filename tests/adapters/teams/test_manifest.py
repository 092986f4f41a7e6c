"""The Teams app package: manifest valid against Microsoft's 1.17 schema, icons as Teams wants."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from adapters.teams.manifest import MANIFEST_DIR, ManifestError, build_manifest, load_template, main
from tests.support.schemas import teams_manifest_validator

REPO = Path(__file__).resolve().parents[3]
APP_ID = "0f4c2a55-8d3b-4c7e-9a51-2b6f1e0d9c33"


def schema_validator() -> jsonschema.Draft7Validator:
    return teams_manifest_validator()


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    color_type = -1
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert color_type == 6, "RGBA expected"
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0
        for x in range(width):
            r, g, b, a = row[1 + x * 4 : 5 + x * 4]
            pixels.append((r, g, b, a))
    return width, height, pixels


def test_committed_manifest_is_valid_1_17() -> None:
    manifest = load_template()
    assert manifest["manifestVersion"] == "1.17"
    errors = sorted(schema_validator().iter_errors(manifest), key=str)
    assert errors == []


def test_command_lists_cover_personal_and_team_scopes() -> None:
    lists = load_template()["bots"][0]["commandLists"]
    scopes = {scope for entry in lists for scope in entry["scopes"]}
    assert {"personal", "team"} <= scopes
    titles = {c["title"] for entry in lists for c in entry["commands"]}
    assert {"help", "schedule link", "cronofy setup", "cronofy alerts here"} <= titles


def test_built_manifest_fills_in_the_deployment_and_stays_valid() -> None:
    manifest = build_manifest(
        load_template(), app_id=APP_ID, url="https://slotbot.acme.test:8443/", version="1.0.3"
    )
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["slotbot.acme.test"]
    assert manifest["developer"]["privacyUrl"] == "https://slotbot.acme.test:8443/privacy"
    assert manifest["version"] == "1.0.3"
    assert list(schema_validator().iter_errors(manifest)) == []


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"app_id": "not-a-guid", "url": "https://x.test"}, "--app-id"),
        ({"app_id": APP_ID, "url": "http://x.test"}, "--url"),
        ({"app_id": APP_ID, "url": "https://x.test", "version": "1"}, "--version"),
        ({"app_id": APP_ID, "url": "https://x.test", "teams_app_id": "x"}, "--teams-app-id"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        build_manifest(load_template(), **kwargs)


def test_cli_writes_the_zip_teams_accepts(tmp_path: Path) -> None:
    out = tmp_path / "slotbot-teams.zip"
    code = main(["--app-id", APP_ID, "--url", "https://bot.acme.test", "--out", str(out)])
    assert code == 0
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert manifest["bots"][0]["botId"] == APP_ID
        assert list(schema_validator().iter_errors(manifest)) == []
        assert read_png(package.read("color.png"))[:2] == (192, 192)


def test_cli_refuses_a_bad_app_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.zip"
    assert main(["--app-id", "1234", "--url", "https://bot.acme.test", "--out", str(out)]) == 2
    assert "GUID" in capsys.readouterr().err
    assert not out.exists()


def test_color_icon_is_192_and_opaque() -> None:
    width, height, pixels = read_png((MANIFEST_DIR / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    assert all(a == 255 for *_, a in pixels)


def test_outline_icon_is_32_white_on_transparent() -> None:
    width, height, pixels = read_png((MANIFEST_DIR / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    assert all(p == (255, 255, 255, 255) or p[3] == 0 for p in pixels)
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_icons_match_the_generator(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_icons", MANIFEST_DIR / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(tmp_path)]) == 0
    for name in ("color.png", "outline.png"):
        assert (tmp_path / name).read_bytes() == (MANIFEST_DIR / name).read_bytes()
