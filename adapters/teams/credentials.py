"""Outbound tokens from a plain OAuth2 token endpoint (client-credentials grant).

botbuilder gets its outbound tokens through MSAL, which accepts only https authorities on
Microsoft's login hosts. When TO_CHANNEL_FROM_BOT_LOGIN_URL points at a plain-http endpoint
(a local emulator or a test server), these credentials ask that endpoint directly with the
same form MSAL would post.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from msrest.authentication import Authentication

TOKEN_TIMEOUT_SECONDS = 10.0
REFRESH_MARGIN_SECONDS = 300.0


class TokenEndpointCredentials(AppCredentials):  # type: ignore[misc]
    def __init__(
        self, app_id: str, password: str, tenant: str, oauth_scope: str, login_url: str
    ) -> None:
        super().__init__(app_id=app_id, channel_auth_tenant=tenant, oauth_scope=oauth_scope)
        self.password = password
        self.token_url = f"{login_url.rstrip('/')}/{self.tenant}/oauth2/v2.0/token"
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0

    def get_access_token(self, force_refresh: bool = False) -> str:
        with self._lock:
            if not force_refresh and self._token and time.time() < self._expires_at:
                return self._token
            scope = self.oauth_scope
            if not scope.endswith("/.default"):
                scope += "/.default"
            response = requests.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.microsoft_app_id,
                    "client_secret": self.password,
                    "scope": scope,
                },
                timeout=TOKEN_TIMEOUT_SECONDS,
            )
            body: Any = response.json() if response.content else {}
            if (
                response.status_code != 200
                or not isinstance(body, dict)
                or "access_token" not in body
            ):
                error = body.get("error", "unknown") if isinstance(body, dict) else "unknown"
                raise PermissionError(f"token endpoint refused the app credentials: {error}")
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
            self._expires_at = time.time() + max(0.0, lifetime - REFRESH_MARGIN_SECONDS)
            return self._token


class TokenEndpointCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    def __init__(self, app_id: str, password: str, tenant: str, login_url: str) -> None:
        self.app_id = app_id
        self.password = password
        self.tenant = tenant
        self.login_url = login_url
        self._cache: dict[str, TokenEndpointCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self.app_id) and app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("credentials asked for another app id")
        scope = oauth_scope or "https://api.botframework.com"
        if scope not in self._cache:
            self._cache[scope] = TokenEndpointCredentials(
                app_id, self.password, self.tenant, scope, login_endpoint or self.login_url
            )
        return self._cache[scope]
