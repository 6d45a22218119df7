"""Bot Framework authentication for Teams: botbuilder validates, we only configure it.

Incoming: botbuilder checks the JWT (signature against the OpenID metadata's keys,
issuer, audience = our app id, expiry, the `serviceurl` claim). With no override it
uses the public cloud; any of TEAMS_OPENID_METADATA_URL, TEAMS_TOKEN_ISSUER or
TEAMS_LOGIN_URL switches botbuilder to its parameterized authentication, which reads
every setting, so the public-cloud values are filled in beside the override.

Outgoing: botbuilder's credentials get tokens with MSAL. Two things are arranged here:
credentials are kept per app and scope, so MSAL's token cache lives across messages
(botbuilder would build new credentials, and fetch a new token, for every message);
and the token is fetched in a worker thread before botbuilder asks for it, because
botbuilder asks synchronously on the event loop. A private login URL (tests, sovereign
clouds) gets an MSAL application without instance discovery, which would otherwise
ask login.microsoftonline.com whether the authority exists.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from msal import ConfidentialClientApplication

from bot.config import TeamsConfig

MICROSOFT_LOGIN = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
CHANNEL_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")
"""Signs of a proxy in front: the peer's loopback address then proves nothing."""


class Settings:
    """The configuration object botbuilder reads by attribute name."""

    def __init__(self, config: TeamsConfig) -> None:
        self.APP_ID = config.app_id
        self.APP_PASSWORD = config.app_password
        self.APP_TYPE = config.app_type
        self.APP_TENANTID = config.tenant_id
        self.parameterized = bool(
            config.openid_metadata_url or config.token_issuer or config.login_url
        )
        self.login_endpoint = config.login_url or MICROSOFT_LOGIN
        if self.parameterized:
            # Parameterized authentication has no defaults: every value must be present.
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = self.login_endpoint
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = CHANNEL_SCOPE
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                config.token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
                config.openid_metadata_url
                or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
            )
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
            self.CALLER_ID = CallerIdConstants.public_azure_channel
            self.VALIDATE_AUTHORITY = True


def check(config: TeamsConfig) -> None:
    """Refuse settings botbuilder would refuse later, naming our variables."""
    if config.emulator_mode:
        return
    if config.app_type in ("SingleTenant", "UserAssignedMSI") and not config.tenant_id:
        raise ValueError(f"MICROSOFT_APP_TYPE={config.app_type} needs MICROSOFT_APP_TENANT_ID")
    if config.app_type != "UserAssignedMSI" and not config.app_password:
        raise ValueError("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is empty")


class CredentialsCache:
    """botbuilder's credential factory, keeping one credentials object per app and scope."""

    def __init__(self, settings: Settings) -> None:
        self._inner: Any = ConfigurationServiceClientCredentialFactory(settings)
        self._cache: dict[tuple[str, str, str], Any] = {}
        self._lock = asyncio.Lock()

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        key = (app_id or "", oauth_scope or "", login_endpoint or "")
        found = self._cache.get(key)
        if found is not None:
            return found
        async with self._lock:
            found = self._cache.get(key)
            if found is None:
                found = await self._inner.create_credentials(
                    app_id, oauth_scope, login_endpoint, validate_authority
                )
                await _without_instance_discovery(found, login_endpoint)
                self._cache[key] = found
        return found

    def close(self) -> None:
        """Close the HTTP sessions of the MSAL applications made so far."""
        for credentials in self._cache.values():
            client = getattr(getattr(credentials, "app", None), "http_client", None)
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self._cache.clear()


async def _without_instance_discovery(credentials: Any, login_endpoint: str | None) -> None:
    """Give credentials for a private login URL an MSAL app that trusts that URL as given."""
    endpoint = (login_endpoint or "").lower()
    if not endpoint or endpoint.startswith(MICROSOFT_LOGIN):
        return
    if getattr(credentials, "app", "") is not None or not credentials.microsoft_app_id:
        return  # not password credentials, or already set up
    # MSAL discovers the tenant's endpoints over HTTP when the application is made.
    credentials.app = await asyncio.to_thread(
        ConfidentialClientApplication,
        client_id=credentials.microsoft_app_id,
        client_credential=credentials.microsoft_app_password,
        authority=credentials.oauth_endpoint,
        instance_discovery=False,
    )


@dataclass
class TeamsAuth:
    """Validates incoming requests and hands out warm outgoing credentials."""

    config: TeamsConfig

    def __post_init__(self) -> None:
        check(self.config)
        self.settings = Settings(self.config)
        self.credentials = CredentialsCache(self.settings)
        self.framework: Any = ConfigurationBotFrameworkAuthentication(
            self.settings, credentials_factory=self.credentials
        )

    @property
    def app_id(self) -> str:
        return self.config.app_id

    async def authenticate(self, activity: Any, header: str | None) -> Any:
        """botbuilder's AuthenticateRequestResult; raises on any authentication failure."""
        if self.config.emulator_mode:
            header = None  # emulator mode: authentication is off, whatever is sent
        return await self.framework.authenticate_request(activity, (header or "").strip() or None)

    async def warm(self) -> None:
        """Make sure a valid outgoing token is cached, fetching it off the event loop."""
        if self.config.emulator_mode:
            return
        credentials = await self.credentials.create_credentials(
            self.config.app_id, CHANNEL_SCOPE, self.settings.login_endpoint, True
        )
        if hasattr(credentials, "get_access_token"):
            await asyncio.to_thread(credentials.get_access_token)


def is_loopback_name(name: str | None) -> bool:
    """`localhost` or a loopback address; never a name that merely resolves to one."""
    if not name:
        return False
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str | None:
    """The host name of a Host header (`127.0.0.1:3978`, `[::1]:3978`), or None."""
    try:
        parts = urlsplit(f"//{header}")
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return None
    if parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return parts.hostname


def emulator_refusal(headers: Mapping[str, str], peer: str | None) -> str | None:
    """Why a request is not one emulator mode can trust, or None.

    With authentication off, only a client on this machine talking to it directly may
    post activities: from a loopback address, to a loopback host name, not through a proxy.
    """
    forwarded = [name for name in FORWARDING_HEADERS if name in headers]
    if forwarded:
        return f"emulator mode takes no proxied requests ({forwarded[0]})"
    if not is_loopback_name(peer):
        return "emulator mode answers loopback clients only"
    if not is_loopback_name(_host_name(headers.get("Host", ""))):
        return "emulator mode answers loopback host names only"
    return None


def loopback_service_url(url: object) -> bool:
    """Whether a serviceUrl is an http(s) address on this machine: all emulator mode replies to."""
    if not isinstance(url, str) or not url.isprintable() or "\\" in url or " " in url:
        return False  # parsers disagree on such URLs: never guess which host they name
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return False
    plain = parts.username is None and parts.password is None
    return parts.scheme in ("http", "https") and plain and is_loopback_name(parts.hostname)
