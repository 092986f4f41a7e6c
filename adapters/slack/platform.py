"""Slack, as the core sees a platform (bot.platforms.Platform)."""

from __future__ import annotations

from aiohttp import web

from adapters.slack.runtime import mode_of, setup
from adapters.slack.settings import SlackSettings
from adapters.slack.turns import NAME, org_id_for
from bot.config import Settings
from bot.platforms import Command, Findings


class SlackPlatform:
    """Slack, as the core sees a platform (bot.platforms.Platform)."""

    name = NAME
    title = "Slack"

    def __init__(self, slack: SlackSettings, public_url: str | None = None) -> None:
        self.slack = slack
        self.public_url = public_url  # BOT_PUBLIC_URL: the manifest's default address

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackPlatform:
        return cls(SlackSettings.from_env(settings.env), settings.public_url)

    @property
    def enabled(self) -> bool:
        return self.slack.enabled

    @property
    def status(self) -> str:
        return self.slack.off_reason or mode_of(self.slack)

    def describe(self) -> dict[str, str]:
        return self.slack.describe()

    def check(self) -> Findings:
        found = Findings()
        slack = self.slack
        if slack.signing_secret and not (
            slack.bot_token or slack.multi_workspace or slack.app_token
        ):
            found.problems.append(
                "Slack can answer commands but cannot post alerts: set SLACK_BOT_TOKEN "
                "(one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (install in several)"
            )
        if slack.bot_token and not slack.bot_token.startswith("xoxb-"):
            found.problems.append("SLACK_BOT_TOKEN should be a bot token (it starts with xoxb-)")
        if slack.app_token and not slack.app_token.startswith("xapp-"):
            found.problems.append(
                "SLACK_APP_TOKEN should be an app-level token (it starts with xapp-)"
            )
        return found

    def setup(self, app: web.Application) -> None:
        setup(app, self.slack)

    def org_id(self, native_id: str) -> str:
        return org_id_for(native_id)

    def manifest(self, argv: list[str]) -> int:
        from adapters.slack.manifest import main

        return main(argv, default_url=self.public_url)

    def commands(self) -> dict[str, Command]:
        return {}


def platform(settings: Settings) -> SlackPlatform:
    """The entry point the core finds Slack by (pyproject.toml, `slotbot.platforms`)."""
    return SlackPlatform.from_settings(settings)
