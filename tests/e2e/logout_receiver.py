"""A relying party's back-channel logout endpoint for tests: a tiny Starlette app under uvicorn
in a thread on 127.0.0.1 that records every logout token POSTed to ``/bc/{name}`` and answers
with the status set for ``name`` (200 by default); and the checks an RP makes on a token
(Back-Channel Logout §2.6), with keystead's published JWKS."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import uvicorn
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGS = ["RS256", "ES256", "PS256", "EdDSA", "ES384", "RS384", "RS512", "PS384", "PS512"]


@dataclass
class Received:
    name: str
    token: str
    content_type: str
    status: int  # what the receiver answered


@dataclass
class Receiver:
    status: dict[str, int] = field(default_factory=dict)  # by name; 200 otherwise
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def uri(self, name: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/bc/{name}"

    def tokens(self, name: str | None = None, status: int = 200) -> list[str]:
        return [
            r.token
            for r in self.received
            if (name is None or r.name == name) and r.status == status
        ]

    async def _endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        form = parse_qs((await request.body()).decode())  # no python-multipart here
        token = form.get("logout_token", [""])[0]
        status = self.status.get(name, 200)
        content_type = request.headers.get("content-type", "")
        self.received.append(Received(name, token, content_type, status))
        return Response(status_code=status, headers={"Cache-Control": "no-store"})

    def start(self) -> Receiver:
        if not self.port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = int(s.getsockname()[1])
        app = Starlette(routes=[Route("/bc/{name}", self._endpoint, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "the logout receiver did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def check_logout_token(
    token: str, jwks: dict[str, Any], *, issuer: str, client_id: str, now: int | None = None
) -> dict[str, Any]:
    """The claims of a valid Logout Token (Back-Channel Logout §2.6), or AssertionError."""
    decoded = jose_jwt.decode(token, KeySet.import_key_set(jwks), algorithms=ALGS)  # type: ignore[arg-type]
    header, claims = decoded.header, dict(decoded.claims)
    assert header.get("typ") == "logout+jwt", header
    assert claims["iss"] == issuer and claims["aud"] == client_id, claims
    assert claims["events"] == {EVENT: {}}, claims
    assert "nonce" not in claims, claims  # §2.6 step 5
    assert "sub" in claims or "sid" in claims, claims
    assert isinstance(claims["jti"], str) and claims["jti"], claims
    if now is not None:
        assert claims["iat"] <= now < claims["exp"], claims
    return claims


def jwks_of(base: str) -> dict[str, Any]:
    response = httpx.get(base + "/jwks", timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body
