"""Inbound and outbound Bot Framework authentication, configured from our settings.

botbuilder reads its configuration from attributes of an object (`hasattr`), so we build one
from `TeamsSettings` instead of letting it look at the environment.

An inbound token is accepted only as the Bot Framework's channel token for Microsoft Teams:
issued by the channel service (not an emulator or skill token), signed RS256 with a key the
Bot Framework lists for the activity's channel (its `endorsements`), for this app id, and for
the activity's service URL (botbuilder checks these last two, and the signature and lifetimes).
The keys come from `adapters.teams.keys`, which never blocks the event loop nor its default
executor, so `authenticate` runs on the loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    GovernmentConstants,
    ServiceClientCredentialsFactory,
)

from adapters.teams.keys import KeysUnavailable, SigningKeys, install, keys_for_check
from adapters.teams.settings import TeamsSettings
from bot.errors import ConfigError

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
    """The token could not be checked right now (the key endpoint down or slow)."""


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


def _is_government(endpoints: Mapping[str, str] | None) -> bool:
    return bool((endpoints or {}).get("CHANNEL_SERVICE") == GovernmentConstants.CHANNEL_SERVICE)


def channel_token_issuer(endpoints: Mapping[str, str] | None = None) -> str:
    """The issuer of the tokens the Bot Framework's channels send (botbuilder's choice too)."""
    configured = (endpoints or {}).get("TO_BOT_FROM_CHANNEL_TOKEN_ISSUER")
    if configured:
        return configured
    if _is_government(endpoints):
        return str(GovernmentConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER)
    return str(AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER)


def channel_metadata_url(endpoints: Mapping[str, str] | None = None) -> str:
    """Where the keys of those tokens are listed (botbuilder's choice too)."""
    configured = (endpoints or {}).get("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")
    if configured:
        return configured
    if _is_government(endpoints):
        return str(GovernmentConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)
    return str(AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)


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


@dataclass(frozen=True)
class TokenCheck:
    """What an inbound token is checked against: the channel issuer and its signing keys."""

    issuer: str
    keys: SigningKeys

    @classmethod
    def for_endpoints(
        cls, endpoints: Mapping[str, str] | None = None, keys: SigningKeys | None = None
    ) -> TokenCheck:
        url = channel_metadata_url(endpoints)
        # botbuilder looks the keys up by this URL: it must never fetch them itself
        install([url])
        return cls(channel_token_issuer(endpoints), keys or SigningKeys(url))


async def authenticate(
    auth: BotFrameworkAuthentication,
    check: TokenCheck,
    activity: Activity,
    auth_header: str | None,
    *,
    required: bool,
) -> AuthenticateRequestResult:
    """Verify the request's bearer token (when `required`) and return botbuilder's result.

    Raises:
        Unauthenticated: no, garbled, expired or foreign token, or one Teams did not send.
        VerifierUnavailable: the signing keys could not be fetched in time.
    """
    if not required:
        # no app id (TEAMS_DEV_MODE): any header is ignored and botbuilder answers with
        # anonymous claims, without a network call
        return await auth.authenticate_request(activity, None)
    scheme, _, token = (auth_header or "").strip().partition(" ")
    if not token:
        raise Unauthenticated("no bearer token")
    if scheme != "Bearer":
        raise Unauthenticated("not a bearer token")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthenticated(type(exc).__name__) from None
    if claims.get("iss") != check.issuer:
        # emulator and skill tokens are issued by others: Teams only sends channel tokens
        raise Unauthenticated("not a Bot Framework channel token")
    if header.get("alg") != "RS256":
        raise Unauthenticated("signing algorithm not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthenticated("token names no signing key")
    try:
        key = await check.keys.key(kid)
    except KeysUnavailable as exc:
        raise VerifierUnavailable(str(exc)) from None
    if key is None:
        raise Unauthenticated("signing key not listed by the Bot Framework")
    if not activity.channel_id or activity.channel_id not in key.endorsements:
        # the key vouches for the channels it lists: a Web Chat or Direct Line token cannot
        # carry a Teams activity, nor an activity that names no channel
        raise Unauthenticated(f"signing key not endorsed for channel {activity.channel_id!r}")
    try:
        with keys_for_check({kid: key}):
            result: AuthenticateRequestResult = await auth.authenticate_request(
                activity, f"Bearer {token}"
            )
    except (PermissionError, jwt.PyJWTError) as exc:
        raise Unauthenticated(type(exc).__name__) from None
    except Exception as exc:
        # botbuilder signals a bad token with bare Exceptions (a disallowed algorithm, an
        # endorsement it misses): anything the check raises means "not a token we accept"
        raise Unauthenticated(type(exc).__name__) from None
    return result
