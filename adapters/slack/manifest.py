"""`python -m bot manifest slack --url https://bot.example.org`: Slotbot's Slack app manifest
with this deployment's URLs filled in, ready to paste into "Create New App → From a manifest"."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

PLACEHOLDER_URL = "https://bot.example.com"
MANIFEST_PATH = Path(__file__).resolve().parents[2] / "manifest" / "slack.yaml"


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a manifest object")
    return data


def _replace_urls(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return base + value[len(PLACEHOLDER_URL) :] if value.startswith(PLACEHOLDER_URL) else value
    if isinstance(value, list):
        return [_replace_urls(item, base) for item in value]
    if isinstance(value, dict):
        return {key: _replace_urls(item, base) for key, item in value.items()}
    return value


def build_manifest(
    url: str, *, socket_mode: bool = False, name: str | None = None
) -> dict[str, Any]:
    """The manifest for a deployment at `url` (no trailing slash needed).

    Socket Mode needs no request URLs: they are dropped, and the OAuth redirect is kept only
    for multi-workspace installs over HTTP.
    """
    base = url.rstrip("/")
    manifest: dict[str, Any] = _replace_urls(load_manifest(), base)
    if name:
        manifest["display_information"]["name"] = name
        manifest["features"]["bot_user"]["display_name"] = name
    if socket_mode:
        settings = manifest["settings"]
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        for command in manifest["features"]["slash_commands"]:
            command.pop("url", None)
        manifest["oauth_config"].pop("redirect_urls", None)
    return manifest


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"Slack only calls https:// URLs, got {value!r} (use --socket-mode for local use)"
        )
    if parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(f"the URL must not carry a query or fragment: {value!r}")
    return value


def main(argv: list[str], *, default_url: str | None = None) -> int:
    """`default_url` (BOT_PUBLIC_URL) stands in for --url when it is an https address."""
    parser = argparse.ArgumentParser(
        prog="python -m bot manifest slack",
        description="Print Slotbot's Slack app manifest with your public URL filled in.",
    )
    parser.add_argument(
        "--url",
        type=_check_url,
        default=None,
        help="the https:// address Slack reaches Slotbot at (default: BOT_PUBLIC_URL, when "
        "it is https)",
    )
    parser.add_argument(
        "--socket-mode",
        action="store_true",
        help="no public URL: the app connects out with SLACK_APP_TOKEN (local development)",
    )
    parser.add_argument("--name", default=None, help="app and bot display name (default Slotbot)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    args = parser.parse_args(argv)
    if args.url is None and not args.socket_mode and default_url:
        if urlsplit(default_url).scheme == "https":
            args.url = default_url
    if args.url is None and not args.socket_mode:
        parser.error("--url is required (or an https BOT_PUBLIC_URL, or --socket-mode)")
    manifest = build_manifest(
        args.url or PLACEHOLDER_URL, socket_mode=args.socket_mode, name=args.name
    )
    if args.json:
        sys.stdout.write(json.dumps(manifest, indent=2) + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
    return 0
