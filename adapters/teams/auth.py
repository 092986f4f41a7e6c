"""Inbound and outbound Bot Framework authentication, configured from our settings.

botbuilder reads its configuration from attributes of an object (`hasattr`), so we build one
from `TeamsSettings` instead of letting it look at the environment. Verifying a token may fetch the
OpenID metadata with a blocking `requests.get`; `authenticate` therefore runs the check in a
worker thread with its own event loop and a timeout, never on the service's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    ServiceClientCredentialsFactory,
)

from adapters.teams.settings import TeamsSettings
from bot.errors import ConfigError

AUTH_TIMEOUT_SECONDS = 10.0

# Endpoint keys handed to botbuilder as-is: they point token validation and outbound token
# requests at other endpoints (sovereign clouds, local test servers).
ENDPOINT_KEYS = (
    "CHANNEL_SERVICE",
    "TO_CHANNEL_FROM_BOT_LOGIN_URL",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE",
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER",
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL",
    "OAUTH_URL",
)


class Unauthenticated(Exception):
    """The request carries no acceptable token; the reason is safe to log (no token in it)."""


class VerifierUnavailable(Exception):
    """The token could not be checked right now (metadata endpoint down or slow)."""


@dataclass
class BotAuthConfig:
    """The attribute names botbuilder's configuration factories look for."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    VALIDATE_AUTHORITY: bool = True


def auth_config(teams: TeamsSettings, endpoints: Mapping[str, str] | None = None) -> Any:
    """A botbuilder configuration object for these settings (endpoint overrides included).

    Raises:
        ConfigError: a combination botbuilder would reject with a bare Exception.
    """
    if teams.app_type == "UserAssignedMSI" and teams.app_id:
        if not teams.app_tenant_id:
            raise ConfigError(
                "MICROSOFT_APP_TENANT_ID is required when MICROSOFT_APP_TYPE is UserAssignedMSI"
            )
    config: Any = BotAuthConfig(
        APP_ID=teams.app_id or "",
        APP_PASSWORD=teams.app_password or "",
        APP_TYPE=teams.app_type,
        APP_TENANTID=teams.app_tenant_id or "",
    )
    for key in ENDPOINT_KEYS:
        value = (endpoints or {}).get(key)
        if value:
            setattr(config, key, value)
    return config


def build_authentication(
    teams: TeamsSettings,
    endpoints: Mapping[str, str] | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> ConfigurationBotFrameworkAuthentication:
    login_url = (endpoints or {}).get("TO_CHANNEL_FROM_BOT_LOGIN_URL", "")
    if credentials_factory is None and login_url.startswith("http://") and teams.app_id:
        from adapters.teams.credentials import TokenEndpointCredentialsFactory

        credentials_factory = TokenEndpointCredentialsFactory(
            teams.app_id,
            teams.app_password or "",
            teams.app_tenant_id or "botframework.com",
            login_url,
        )
    return ConfigurationBotFrameworkAuthentication(
        auth_config(teams, endpoints), credentials_factory=credentials_factory
    )


async def authenticate(
    auth: ConfigurationBotFrameworkAuthentication,
    activity: Activity,
    auth_header: str | None,
    *,
    required: bool,
    limit_seconds: float = AUTH_TIMEOUT_SECONDS,
) -> AuthenticateRequestResult:
    """Verify the request's bearer token (when `required`) and return botbuilder's result.

    Raises:
        Unauthenticated: no, garbled, expired or foreign token.
        VerifierUnavailable: the signing keys could not be fetched in time.
    """
    if required and not (auth_header or "").strip():
        raise Unauthenticated("no Authorization header")
    if not required:
        # no app id (TEAMS_DEV_MODE): any header is ignored and botbuilder answers with
        # anonymous claims, without a network call
        return await auth.authenticate_request(activity, None)

    def check_in_thread() -> AuthenticateRequestResult:
        return asyncio.run(auth.authenticate_request(activity, auth_header or ""))

    try:
        return await asyncio.wait_for(asyncio.to_thread(check_in_thread), limit_seconds)
    except TimeoutError as exc:
        raise VerifierUnavailable("token verification timed out") from exc
    # PermissionError first: it is an OSError too
    except (PermissionError, jwt.PyJWTError) as exc:
        raise Unauthenticated(type(exc).__name__) from exc
    except OSError as exc:
        # requests' connection errors are OSErrors: the metadata endpoint is unreachable
        raise VerifierUnavailable(type(exc).__name__) from exc
    except Exception as exc:
        # botbuilder signals a disallowed algorithm with a bare Exception and an unknown key
        # id with IndexError: anything else the check raises means "not a token we accept"
        raise Unauthenticated(type(exc).__name__) from exc
