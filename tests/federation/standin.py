"""A stand-in upstream identity provider for tests: a small Starlette app under uvicorn in a
thread on 127.0.0.1 that serves what keystead calls as a relying party — OIDC discovery, a
JWKS, an authorization endpoint that approves at once, a token endpoint (client_secret_basic
or client_secret_post, PKCE S256 checked), UserInfo — and GitHub's OAuth endpoints and API
under /login/oauth/... and /api/v3/... (GitHub Enterprise Server's layout).

Every answer can be spoiled per test (``Upstream.spoil``) to play a broken or hostile upstream.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

import anyio
import uvicorn
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "keystead-at-upstream"
CLIENT_SECRET = "upstream secret: with spaces & symbols+/="
USER_SUB = "upstream-user-1"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    scope: str


@dataclass
class Upstream:
    port: int = 0
    signing_key: RSAKey = field(default_factory=lambda: new_key("k1"))
    published: list[RSAKey] = field(default_factory=list)  # the JWKS; default: the signing key
    # Per-test spoilers: claims to override in the ID token, a key to sign with, answers to
    # replace ({"token": (status, body)}, "userinfo", "discovery", "user", "emails") ...
    spoil: dict[str, Any] = field(default_factory=dict)
    email: str = "ada@upstream.example"
    email_verified: bool = True
    userinfo: bool = True
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    api_requests: list[str] = field(default_factory=list)
    jwks_fetches: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.signing_key = new_key("k1")
        self.published = []
        self.spoil = {}
        self.email, self.email_verified, self.userinfo = "ada@upstream.example", True, True
        self.grants.clear()
        self.token_requests.clear()
        self.api_requests.clear()
        self.jwks_fetches = 0

    # --- OIDC ---

    async def discovery(self, request: Request) -> Response:
        if "discovery" in self.spoil:
            status, body = self.spoil["discovery"]
            return JSONResponse(body, status)
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize?tenant=t1",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,  # RFC 9207
        }
        if self.userinfo:
            document["userinfo_endpoint"] = f"{self.issuer}/userinfo"
        return JSONResponse(document)

    async def jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        keys = self.published or [self.signing_key]
        return JSONResponse({"keys": [k.as_dict(private=False) for k in keys]})

    async def authorize(self, request: Request) -> Response:
        """Approves at once: records the request and redirects back with a code."""
        q = request.query_params
        if q.get("client_id") != CLIENT_ID:
            return Response("unknown client", 400)
        if "authorize_error" in self.spoil:
            params = {"error": self.spoil["authorize_error"], "state": q.get("state", "")}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode(params)}", 302)
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            CLIENT_ID, q["redirect_uri"], q.get("nonce"), q.get("code_challenge"), q["scope"]
        )
        params = {"code": code, "state": q.get("state", "")}
        if request.url.path == "/authorize":  # GitHub sends no iss
            params["iss"] = self.spoil.get("iss", self.issuer)
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(params)}", 302)

    def _client_auth(self, request: Request, form: dict[str, str]) -> str | None:
        """The method the client authenticated with, None if it failed."""
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            pair = base64.b64decode(header[6:]).decode()
            client_id, _, secret = pair.partition(":")
            ok = unquote(client_id) == CLIENT_ID and unquote(secret) == CLIENT_SECRET
            return "client_secret_basic" if ok else None
        if form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET:
            return "client_secret_post"
        return None

    def _redeem(self, form: dict[str, str]) -> Grant | None:
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return None
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        return grant if challenge.decode() == grant.code_challenge else None

    async def _form(self, request: Request) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}

    async def token(self, request: Request) -> Response:
        form = await self._form(request)
        method = self._client_auth(request, form)
        self.token_requests.append({"method": method, "form": form, "path": request.url.path})
        if "slow" in self.spoil:  # answers after this many seconds
            await anyio.sleep(self.spoil["slow"])
        if "token" in self.spoil:
            status, body = self.spoil["token"]
            return JSONResponse(body, status)
        if method is None:
            return JSONResponse({"error": "invalid_client"}, 401)
        grant = self._redeem(form)
        if grant is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "bad code"}, 400)
        now = int(time.time())
        access_token = "at-" + secrets.token_urlsafe(8)
        half = hashlib.sha256(access_token.encode()).digest()[:16]  # OIDC Core §3.1.3.6
        claims = {
            "at_hash": base64.urlsafe_b64encode(half).rstrip(b"=").decode(),
            "iss": self.issuer,
            "sub": USER_SUB,
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "nonce": grant.nonce,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": "Ada Lovelace",
            "amr": ["pwd", "mfa"],
        }
        claims.update(self.spoil.get("claims", {}))
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.spoil.get("sign_with", self.signing_key)
        header = {"alg": self.spoil.get("alg", "RS256"), "kid": key.kid}
        id_token = self.spoil.get("id_token") or jose_jwt.encode(header, claims, key)
        return JSONResponse(
            {"access_token": access_token, "token_type": "Bearer",
             "expires_in": 300, "id_token": id_token},
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    async def userinfo_endpoint(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer at-"):
            return JSONResponse({"error": "invalid_token"}, 401)
        if "userinfo" in self.spoil:
            status, body = self.spoil["userinfo"]
            return JSONResponse(body, status)
        return JSONResponse(
            {"sub": USER_SUB, "email": self.email, "email_verified": self.email_verified,
             "given_name": "Ada", "locale": "en-GB"}
        )  # fmt: skip

    # --- GitHub (Enterprise Server layout) ---

    async def github_token(self, request: Request) -> Response:
        form = await self._form(request)
        method = self._client_auth(request, form)
        self.token_requests.append(
            {"method": method, "form": form, "path": request.url.path,
             "accept": request.headers.get("accept")}
        )  # fmt: skip
        if "token" in self.spoil:
            status, body = self.spoil["token"]
            return JSONResponse(body, status)
        if method is None or self._redeem(form) is None:
            # GitHub answers errors with a 200
            return JSONResponse({"error": "bad_verification_code", "error_description": "no"})
        return JSONResponse({"access_token": "at-gh", "token_type": "bearer", "scope": "user"})

    async def github_api(self, request: Request) -> Response:
        path = request.url.path
        self.api_requests.append(path)
        if request.headers.get("authorization") != "Bearer at-gh":
            return JSONResponse({"message": "Bad credentials"}, 401)
        name = "emails" if path.endswith("/emails") else "user"
        if name in self.spoil:
            status, body = self.spoil[name]
            return JSONResponse(body, status)
        if name == "user":
            return JSONResponse(
                {"id": 583231, "login": "octocat", "name": "The Octocat",
                 "avatar_url": "https://avatars.example/u/583231", "email": None}
            )  # fmt: skip
        return JSONResponse(
            [{"email": "octo@old.example", "primary": False, "verified": True},
             {"email": self.email, "primary": True, "verified": self.email_verified}]
        )  # fmt: skip

    def start(self) -> Upstream:
        if not self.port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = int(s.getsockname()[1])
        routes = [
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/userinfo", self.userinfo_endpoint, methods=["GET", "POST"]),
            Route("/login/oauth/authorize", self.authorize),
            Route("/login/oauth/access_token", self.github_token, methods=["POST"]),
            Route("/api/v3/user", self.github_api),
            Route("/api/v3/user/emails", self.github_api),
        ]
        config = uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "the stand-in upstream did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
