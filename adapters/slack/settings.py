"""Slack's settings, read from the environment the core's Settings were read from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import env_value, http_url, mask
from bot.errors import ConfigError

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    signing_secret: str | None = None
    bot_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings:
        """Every SLACK_* variable, validated; an error names the variable."""
        api_url = http_url("SLACK_API_URL", env_value(env, "SLACK_API_URL") or DEFAULT_API_URL)
        settings = cls(
            signing_secret=env_value(env, "SLACK_SIGNING_SECRET"),
            bot_token=env_value(env, "SLACK_BOT_TOKEN"),
            client_id=env_value(env, "SLACK_CLIENT_ID"),
            client_secret=env_value(env, "SLACK_CLIENT_SECRET"),
            app_token=env_value(env, "SLACK_APP_TOKEN"),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
        )
        if bool(settings.client_id) != bool(settings.client_secret):
            raise ConfigError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together "
                "(multi-workspace install)"
            )
        return settings

    @property
    def enabled(self) -> bool:
        return bool(self.signing_secret) or bool(self.app_token)

    @property
    def off_reason(self) -> str | None:
        return None if self.enabled else "SLACK_SIGNING_SECRET is not set"

    @property
    def multi_workspace(self) -> bool:
        return bool(self.client_id and self.client_secret)

    def describe(self) -> dict[str, str]:
        """Every Slack setting as text, secrets masked."""
        return {
            "slack_signing_secret": mask(self.signing_secret),
            "slack_bot_token": mask(self.bot_token),
            "slack_client_id": str(self.client_id),
            "slack_client_secret": mask(self.client_secret),
            "slack_app_token": mask(self.app_token),
            "slack_api_url": self.api_url,
        }
