"""`python -m bot manifest teams --app-id <guid> --url <https://host>`: the app package.

Writes the zip a Teams admin uploads (Teams admin center > Manage apps > Upload, or
"Upload a custom app" in Teams): manifest.json filled in for this deployment, plus the icons.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MANIFEST_DIR = Path(__file__).resolve().parents[2] / "manifest" / "teams"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class ManifestError(ValueError):
    pass


def load_template(folder: Path = MANIFEST_DIR) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def build_manifest(
    template: dict[str, Any],
    *,
    app_id: str,
    url: str,
    teams_app_id: str | None = None,
    version: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The manifest for one deployment: bot id, app id, the bot's domain, links."""
    if not GUID.match(app_id):
        raise ManifestError(
            f"--app-id must be the Azure Bot's Microsoft App ID (a GUID), got {app_id!r}"
        )
    if teams_app_id is not None and not GUID.match(teams_app_id):
        raise ManifestError(f"--teams-app-id must be a GUID, got {teams_app_id!r}")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError(f"--url must be the bot's public https URL, got {url!r}")
    if version is not None and not VERSION.match(version):
        raise ManifestError(f"--version must look like 1.2.3, got {version!r}")
    host = parts.hostname
    base = f"https://{parts.netloc}"
    manifest = copy.deepcopy(template)
    manifest["id"] = teams_app_id or app_id
    for bot in manifest["bots"]:
        bot["botId"] = app_id
    manifest["validDomains"] = [host]
    manifest["developer"]["websiteUrl"] = base
    manifest["developer"]["privacyUrl"] = f"{base}/privacy"
    manifest["developer"]["termsOfUseUrl"] = f"{base}/terms"
    if version:
        manifest["version"] = version
    if name:
        manifest["name"]["short"] = name[:30]
    return manifest


def write_package(manifest: dict[str, Any], out: Path, folder: Path = MANIFEST_DIR) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for icon in ("color.png", "outline.png"):
            package.write(folder / icon, icon)


def main(argv: list[str], *, app_id: str | None = None, url: str | None = None) -> int:
    """`app_id` (MICROSOFT_APP_ID) and `url` (BOT_PUBLIC_URL) stand in for the options."""
    parser = argparse.ArgumentParser(
        prog="python -m bot manifest teams", description="Build the Teams app package (zip)."
    )
    parser.add_argument(
        "--app-id",
        default=app_id,
        required=not app_id,
        help="the Azure Bot's Microsoft App ID (GUID; default: MICROSOFT_APP_ID)",
    )
    parser.add_argument(
        "--url",
        default=url,
        required=not url,
        help="the bot's public https URL (default: BOT_PUBLIC_URL)",
    )
    parser.add_argument(
        "--teams-app-id", help="a separate Teams app id (default: the bot's app id)"
    )
    parser.add_argument("--version", help="package version, e.g. 1.0.1 (bump it for each upload)")
    parser.add_argument("--name", help="short app name shown in Teams (default Slotbot)")
    parser.add_argument("--out", default="slotbot-teams.zip", help="zip to write")
    args = parser.parse_args(argv)
    try:
        manifest = build_manifest(
            load_template(),
            app_id=args.app_id,
            url=args.url,
            teams_app_id=args.teams_app_id,
            version=args.version,
            name=args.name,
        )
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    write_package(manifest, out)
    print(f"wrote {out}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0
