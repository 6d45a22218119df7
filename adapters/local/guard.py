"""Who may use the playground: its own page, on a host name it answers to, with its secret.

A web page elsewhere can make the browser send requests to the playground: a form post
or a `text/plain` fetch needs no permission, and DNS rebinding gives an attacker's host
name the playground's address. So every playground request must name an allowed host
(loopback names, the bound address, the public URL's host), and every API call must
carry the page's secret in `X-Playground-Secret`, matching the cookie the page set.
Another origin can neither read the secret nor set that header without a CORS
permission the playground never gives.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

SECRET_HEADER = "X-Playground-Secret"  # noqa: S105 - a header name
TOKEN_HEADER = "X-Playground-Token"  # noqa: S105 - a header name
COOKIE_PREFIX = "cohortbot-playground"
WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - recognised, not bound
_HOST = re.compile(
    r"(?:\[(?P<v6>[0-9A-Fa-f:.]{2,45})\]|(?P<name>[A-Za-z0-9.-]{1,253}))(?::(?P<port>[0-9]{1,5}))?"
)
_SECRET = re.compile(r"[0-9a-f]{32}\.[0-9a-f]{64}")


def split_host(header: str | None) -> tuple[str, str] | None:
    """The lower-case host name and the port ("" when absent) of a Host header, or None."""
    found = _HOST.fullmatch(header or "")
    if found is None:
        return None
    return (found["v6"] or found["name"]).lower(), found["port"] or ""


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback_name(name: str) -> bool:
    """`localhost` or a loopback address; never a name that merely resolves to one."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    """The host names the playground answers to."""

    names: frozenset[str] = frozenset()
    any_ip: bool = False
    """Bound to a wildcard address: any IP literal, which DNS rebinding cannot forge."""
    public_origin: str | None = None
    """The public URL's origin: the page's own behind a proxy that rewrites Host."""

    @classmethod
    def for_server(cls, bound: str, public_url: str | None = None) -> HostPolicy:
        """Loopback, the bound address, and the host of the public URL."""
        names = {bound.lower().strip("[]")} - WILDCARDS
        public = urlsplit(public_url or "")
        if public.hostname:
            names.add(public.hostname.lower())
        return cls(
            names=frozenset(names),
            any_ip=bound.strip("[]") in WILDCARDS,
            public_origin=f"{public.scheme}://{public.netloc}".lower() if public.hostname else None,
        )

    def allows(self, header: str | None) -> bool:
        host = split_host(header)
        if host is None:
            return False
        name = host[0]
        return is_loopback_name(name) or name in self.names or (self.any_ip and is_ip(name))

    def same_origin(self, origin: str | None, host: str) -> bool:
        """Whether an Origin header (absent on navigations and most GETs) is the page's:
        the host it asked for, or the public URL's origin."""
        if origin is None:
            return True
        if self.public_origin is not None and origin.lower() == self.public_origin:
            return True
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def cookie_name(host: str) -> str:
    """The secret's cookie, one per port: cookies are shared by every port of a host."""
    port = (split_host(host) or ("", ""))[1]
    return f"{COOKIE_PREFIX}-{port}" if port else COOKIE_PREFIX


class PageSecrets:
    """Per-page secrets: a random nonce and its HMAC under the server's key."""

    def __init__(self, key: Callable[[], str] | None = None) -> None:
        own = secrets.token_hex(32)
        self._key = key or (lambda: own)

    def issue(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._mac(nonce)}"

    def valid(self, header: str | None, cookie: str | None) -> bool:
        """The header carries a secret this server issued, the same as the cookie."""
        if not header or not cookie or not _SECRET.fullmatch(header):
            return False
        if not hmac.compare_digest(header.encode(), cookie.encode("utf-8", "replace")):
            return False
        nonce, _, mac = header.partition(".")
        return hmac.compare_digest(mac, self._mac(nonce))

    def _mac(self, nonce: str) -> str:
        key = f"playground-page:{self._key()}".encode()
        return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def token_matches(given: str | None, token: str) -> bool:
    return hmac.compare_digest((given or "").encode(), token.encode())
