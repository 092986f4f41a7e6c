"""Microsoft Teams' settings, read from the environment the core's Settings were read from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import choice, env_value, flag, mask
from bot.errors import ConfigError

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str | None = None
    app_password: str | None = None
    app_type: str = "MultiTenant"
    app_tenant_id: str | None = None
    dev_mode: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsSettings:
        """Every MICROSOFT_* / TEAMS_* variable, validated; an error names the variable."""
        settings = cls(
            app_id=env_value(env, "MICROSOFT_APP_ID"),
            app_password=env_value(env, "MICROSOFT_APP_PASSWORD"),
            app_type=choice(
                "MICROSOFT_APP_TYPE",
                env_value(env, "MICROSOFT_APP_TYPE") or APP_TYPES[0],
                APP_TYPES,
            ),
            app_tenant_id=env_value(env, "MICROSOFT_APP_TENANT_ID"),
            dev_mode=flag("TEAMS_DEV_MODE", env_value(env, "TEAMS_DEV_MODE") or ""),
        )
        if settings.app_id and settings.app_type != "UserAssignedMSI" and not settings.app_password:
            raise ConfigError("MICROSOFT_APP_PASSWORD is required when MICROSOFT_APP_ID is set")
        if settings.app_type == "SingleTenant" and settings.app_id and not settings.app_tenant_id:
            raise ConfigError(
                "MICROSOFT_APP_TENANT_ID is required when MICROSOFT_APP_TYPE is SingleTenant"
            )
        return settings

    @property
    def enabled(self) -> bool:
        return bool(self.app_id) or self.dev_mode

    @property
    def off_reason(self) -> str | None:
        if self.enabled:
            return None
        return "MICROSOFT_APP_ID is not set (TEAMS_DEV_MODE=1 for local use without auth)"

    @property
    def unauthenticated(self) -> bool:
        """Development mode without an app id: inbound requests are not checked."""
        return self.dev_mode and not self.app_id

    def describe(self) -> dict[str, str]:
        """Every Teams setting as text, secrets masked."""
        return {
            "microsoft_app_id": str(self.app_id),
            "microsoft_app_password": mask(self.app_password),
            "microsoft_app_type": self.app_type,
            "microsoft_app_tenant_id": str(self.app_tenant_id),
            "teams_dev_mode": str(self.dev_mode),
        }
