"""A fake Microsoft side of Teams on loopback: Bot Connector, token service, OpenID keys.

- The Bot Connector REST API (`/v3/conversations...`) records what the bot creates,
  posts, replies and updates, checks the bearer token it issued, and can be told to fail
  the next calls with 429 + Retry-After, 412, 5xx or 403 with Teams' error codes.
- The Azure AD token endpoint MSAL talks to (tenant discovery and client credentials),
  served over HTTPS with a self-signed certificate because MSAL accepts nothing else.
- The OpenID metadata and key set incoming tokens are validated against, and `sign`,
  which issues a token for a request the way the Bot Connector service signs them.

It runs on its own thread and event loop: botbuilder fetches keys and MSAL fetches
tokens with blocking calls from the bot's event loop, as they do in production.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import json
import secrets
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = "https://api.botframework.com"
LOGIN_TENANT = "botframework.com"


@dataclass
class Failure:
    """An answer the connector gives instead of doing the next matching call."""

    status: int
    code: str = ""
    retry_after: str | None = None
    kind: str | None = None
    """Only calls of this kind (create, send, reply, update) fail; None for any."""


@dataclass
class Call:
    method: str
    kind: str
    """create, send, reply, update or member (a members lookup)."""
    conversation_id: str
    activity_id: str
    body: dict[str, Any]
    authorization: str


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key, as PEM files."""
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-login.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "fake-login.pem", directory / "fake-login.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@web.middleware
async def _no_keep_alive(request: web.Request, handler: Any) -> web.StreamResponse:
    """Close every connection after its response, so stopping leaves nothing half-open."""
    response: web.StreamResponse = await handler(request)
    response.force_close()
    return response


@dataclass
class FakeBotConnector:
    tls_dir: Path
    app_id: str = ""
    app_password: str = ""
    """With a password set, the connector demands the token the login endpoint issued."""
    calls: list[Call] = field(default_factory=list)
    refused: list[Call] = field(default_factory=list)
    """Calls answered with an injected failure."""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    failures: deque[Failure] = field(default_factory=deque)
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Conversation id -> its members (TeamsChannelAccount JSON), for the members API."""

    def __post_init__(self) -> None:
        self.key = new_key()
        self.kid = "fake-key-1"
        self.issued_token = f"fake-bot-token-{secrets.token_hex(8)}"
        self.cert_file, self._key_file = _self_signed(self.tls_dir)
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.http_port = self.https_port = 0

    # Addresses the bot is configured with.

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    @property
    def openid_metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/{LOGIN_TENANT}"

    # Life cycle: a thread with its own event loop.

    def start(self) -> None:
        ready = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                runner = web.AppRunner(self._app(), access_log=None)
                loop.run_until_complete(runner.setup())
                tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                tls.load_cert_chain(self.cert_file, self._key_file)
                loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
                loop.run_until_complete(
                    web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls).start()
                )
                (_, self.http_port), (_, self.https_port) = (a[:2] for a in runner.addresses)
            except BaseException as error:  # handed to the starting thread
                failed.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-bot-connector", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)
        if failed:
            raise failed[0]

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)

    # What tests ask for.

    def fail_next(self, *failures: Failure) -> None:
        self.failures.extend(failures)

    def sign(
        self,
        *,
        service_url: str | None = None,
        audience: str | None = None,
        issuer: str = CHANNEL_ISSUER,
        expires_in: float = 3600,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        """An Authorization header as the Bot Connector service sends it (RS256 JWT)."""
        now = int(time.time())
        claims = {
            "serviceurl": service_url or self.service_url,
            "nbf": now - 60,
            "exp": int(now + expires_in),
            "iss": issuer,
            "aud": self.app_id if audience is None else audience,
        }
        token = jwt.encode(
            claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )
        return f"Bearer {token}"

    def add_member(
        self,
        conversation_id: str,
        *,
        user_id: str,
        name: str,
        upn: str,
        tenant_id: str = "",
        aad_object_id: str = "",
    ) -> None:
        """Someone in the team of `conversation_id`, as Teams describes a member."""
        self.members.setdefault(conversation_id, []).append(
            {
                "id": user_id,
                "name": name,
                "aadObjectId": aad_object_id or f"aad-{user_id}",
                "email": upn,
                "userPrincipalName": upn,
                "tenantId": tenant_id,
                "userRole": "user",
            }
        )

    def of_kind(self, kind: str) -> list[Call]:
        return [call for call in self.calls if call.kind == kind]

    def messages(self, conversation_id: str | None = None) -> list[Call]:
        """Sends and replies (in one conversation, if given), in order."""
        return [
            call
            for call in self.calls
            if call.kind in ("send", "reply")
            and (conversation_id is None or call.conversation_id == conversation_id)
        ]

    # The HTTP side.

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[_no_keep_alive])
        app.router.add_get("/v1/.well-known/openidconfiguration", self._openid)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._tenant)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v3/conversations", self._create)
        base = "/v3/conversations/{conversation}/activities"
        app.router.add_post(base, self._send)
        app.router.add_post(base + "/{activity}", self._reply)
        app.router.add_put(base + "/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        return app

    async def _openid(self, request: web.Request) -> web.Response:
        base = f"http://127.0.0.1:{self.http_port}"
        return web.json_response(
            {
                "issuer": CHANNEL_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{base}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams", "emulator"]})
        return web.json_response({"keys": [jwk]})

    async def _tenant(self, request: web.Request) -> web.Response:
        base = f"https://127.0.0.1:{self.https_port}/{request.match_info['tenant']}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        self.token_requests.append(form)
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.app_password:
            return web.json_response(
                {"error": "invalid_client", "error_description": "AADSTS7000215: bad secret"},
                status=401,
            )
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": self.issued_token,
            }
        )

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = self._refused(request, "create", "", "", body)
        if refused is not None:
            return refused
        member = (body.get("members") or [{}])[0].get("id", "nobody")
        return web.json_response({"id": f"a:personal-{member}", "serviceUrl": self.service_url})

    async def _member(self, request: web.Request) -> web.Response:
        """One member by 29: id, AAD object id or UPN (case-insensitive), or a 404."""
        conversation, wanted = request.match_info["conversation"], request.match_info["member"]
        refused = self._refused(request, "member", conversation, "", {"member": wanted})
        if refused is not None:
            return refused
        for member in self.members.get(conversation, []):
            keys = (member["id"], member["aadObjectId"], member["userPrincipalName"].lower())
            if wanted in keys or wanted.lower() in keys:
                return web.json_response(member)
        error = {"code": "MemberNotFoundInConversation", "message": "Member not found."}
        return web.json_response({"error": error}, status=404)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._activity(request, "send")

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._activity(request, "reply")

    async def _update(self, request: web.Request) -> web.Response:
        return await self._activity(request, "update")

    async def _activity(self, request: web.Request, kind: str) -> web.Response:
        body = await request.json()
        conversation = request.match_info["conversation"]
        given = request.match_info.get("activity", "")
        activity_id = given if kind == "update" else str(1_700_000_000_000 + next(self._ids))
        refused = self._refused(request, kind, conversation, activity_id, body)
        if refused is not None:
            return refused
        return web.json_response({"id": activity_id}, status=200 if kind == "update" else 201)

    def _refused(
        self, request: web.Request, kind: str, conversation: str, activity_id: str, body: Any
    ) -> web.Response | None:
        """Check the bearer token and injected failures; record the call if it goes through."""
        authorization = request.headers.get("Authorization", "")
        if self.app_password and authorization != f"Bearer {self.issued_token}":
            return web.json_response(
                {"message": "Authorization has been denied for this request."}, status=401
            )
        call = Call(request.method, kind, conversation, activity_id, body, authorization)
        if self.failures and self.failures[0].kind in (None, kind):
            failure = self.failures.popleft()
            self.refused.append(call)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            error = {"code": failure.code or "ServiceError", "message": "injected by the test"}
            return web.json_response({"error": error}, status=failure.status, headers=headers)
        self.calls.append(call)
        return None
