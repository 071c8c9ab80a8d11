"""A small relying party (the "first website") that signs users in with keystead.

It runs the flows a strict RP runs: the code flow with form_post, and the Hybrid Flow
(`code id_token`, fragment). It verifies the front-channel ID token (signature via JWKS,
iss, aud, azp, exp, nonce, c_hash, s_hash), redeems the code with PKCE, checks the
back-channel ID token is for the same user, and calls UserInfo.

    keystead client create --name "Example RP" --response-type code \\
        --response-type "code id_token" --redirect-uri http://localhost:9200/callback --json
    RP_ISSUER=http://127.0.0.1:8000 RP_CLIENT_ID=... RP_CLIENT_SECRET=... \\
        RP_BASE_URL=http://localhost:9200 uvicorn examples.rp.app:app --port 9200
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

FLOWS = {
    "form_post": {"response_type": "code", "response_mode": "form_post"},
    "hybrid": {"response_type": "code id_token"},  # default mode: fragment
}

# The fragment never reaches a server: this page posts it to /callback.
FRAGMENT_PAGE = """<!doctype html><meta charset="utf-8"><title>Signing in</title>
<link rel="icon" href="data:,">
<form id="f" method="post" action="callback"></form>
<script>
const form = document.getElementById("f");
for (const [name, value] of new URLSearchParams(location.hash.slice(1))) {
  const input = document.createElement("input");
  input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input);
}
form.submit();
</script>"""


@dataclass
class RPConfig:
    issuer: str
    client_id: str
    client_secret: str
    base_url: str
    scope: str = "openid profile email"

    @property
    def redirect_uri(self) -> str:
        return self.base_url + "/callback"


def half_hash(value: str) -> str:
    """OIDC Core §3.3.2.11 c_hash / at_hash / s_hash for SHA-256 algs."""
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class RPError(Exception):
    pass


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<link rel="icon" href="data:,">'
        f"<h1>{html.escape(title)}</h1>{body}",
        status_code=status,
    )


def build_app(config: RPConfig, http: httpx.AsyncClient | None = None) -> Starlette:
    client = http or httpx.AsyncClient(timeout=10)
    pending: dict[str, dict[str, str]] = {}
    cache: dict[str, Any] = {}

    async def metadata() -> dict[str, Any]:
        if "meta" not in cache:
            r = await client.get(config.issuer + "/.well-known/openid-configuration")
            cache["meta"] = r.json()
        meta: dict[str, Any] = cache["meta"]
        return meta

    async def keys() -> KeySet:
        r = await client.get((await metadata())["jwks_uri"])
        return KeySet.import_key_set(r.json())

    async def verify_id_token(token: str, nonce: str | None) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, await keys(), algorithms=["ES256", "RS256", "PS256"]).claims
        except (JoseError, ValueError) as exc:
            raise RPError(f"ID token signature: {exc}") from exc
        now = time.time()
        checks = {
            "iss": claims.get("iss") == config.issuer,
            "aud": claims.get("aud") == config.client_id
            or config.client_id in (claims.get("aud") or []),
            "azp": claims.get("azp", config.client_id) == config.client_id,
            "exp": isinstance(claims.get("exp"), int) and claims["exp"] > now - 30,
            "nonce": nonce is None or claims.get("nonce") == nonce,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise RPError(f"ID token check failed: {', '.join(failed)}")
        return dict(claims)

    async def start(request: Request) -> Response:
        flow = request.query_params.get("flow", "form_post")
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        pending[state] = {"nonce": nonce, "verifier": verifier, "flow": flow}
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        params = {
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "scope": config.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            **FLOWS[flow],
        }
        endpoint = (await metadata())["authorization_endpoint"]
        return RedirectResponse(endpoint + "?" + urlencode(params), status_code=302)

    async def fragment(request: Request) -> Response:
        if request.query_params:  # query-mode responses (errors of the code flow)
            return await finish(dict(request.query_params))
        return HTMLResponse(FRAGMENT_PAGE)

    async def posted(request: Request) -> Response:
        return await finish(dict(parse_qsl((await request.body()).decode())))

    async def finish(params: dict[str, str]) -> Response:
        try:
            return await _finish(params)
        except RPError as exc:
            return page("Sign-in failed", f"<p id='error'>{html.escape(str(exc))}</p>", 400)

    async def _finish(params: dict[str, str]) -> Response:
        state = params.get("state", "")
        expected = pending.pop(state, None)
        if expected is None:
            raise RPError("unknown state")
        if params.get("iss") != config.issuer:  # RFC 9207 mix-up defence
            raise RPError("iss parameter missing or wrong")
        if "error" in params:
            raise RPError(f"{params['error']}: {params.get('error_description', '')}")
        front: dict[str, Any] = {}
        if "id_token" in params:
            front = await verify_id_token(params["id_token"], expected["nonce"])
            if front.get("c_hash") != half_hash(params["code"]):
                raise RPError("c_hash does not match the code")
            if front.get("s_hash") != half_hash(state):
                raise RPError("s_hash does not match the state")
        token = await client.post(
            (await metadata())["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": params["code"],
                "redirect_uri": config.redirect_uri,
                "code_verifier": expected["verifier"],
            },
            auth=(config.client_id, config.client_secret),
        )
        if token.status_code != 200:
            raise RPError(f"token endpoint: {token.text}")
        tokens = token.json()
        back = await verify_id_token(tokens["id_token"], expected["nonce"])
        if front and front["sub"] != back["sub"]:
            raise RPError("front- and back-channel ID tokens are for different users")
        info = await client.get(
            (await metadata())["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        result = {
            "flow": expected["flow"],
            "sub": back["sub"],
            "userinfo": info.json(),
            "front_channel_id_token": bool(front),
        }
        return page(
            "Signed in",
            f"<pre id='result'>{html.escape(json.dumps(result, indent=2, sort_keys=True))}</pre>",
        )

    async def home(request: Request) -> Response:
        links = "".join(f'<li><a href="login?flow={f}" id="{f}">{f}</a></li>' for f in FLOWS)
        return page("Example RP", f"<ul>{links}</ul>")

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", start),
            Route("/callback", fragment, methods=["GET"]),
            Route("/callback", posted, methods=["POST"]),
        ]
    )


def from_env() -> Starlette:
    return build_app(
        RPConfig(
            issuer=os.environ.get("RP_ISSUER", "http://127.0.0.1:8000"),
            client_id=os.environ.get("RP_CLIENT_ID", ""),
            client_secret=os.environ.get("RP_CLIENT_SECRET", ""),
            base_url=os.environ.get("RP_BASE_URL", "http://localhost:9200"),
        )
    )


app = from_env()
