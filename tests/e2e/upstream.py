"""Upstream identity providers for keystead's federation tests (issue 22).

- `NopUpstream`: node-oidc-provider (tests/upstream_node/server.mjs, `oidc-provider` pinned in
  its package-lock.json) as the REAL upstream OpenID Provider, a process on a free loopback port
  with the clients, accounts and signing keys a test gives it. `restart(keys=...)` is a key
  rotation; `mischief(...)` makes its token endpoint misbehave for the negative tests.
  node and npm are required (`npm ci` runs once when node_modules is missing); never skipped.
- `sign_in_upstream` / `sign_in_upstream_async`: a browser at the upstream — from an
  authorization URL to the redirect back to the relying party, which is returned unfollowed.
- `GitHubStandIn`: GitHub's OAuth app endpoints and the two REST calls a sign-in needs, in the
  GitHub Enterprise Server layout (/login/oauth/..., /api/v3/...), served by uvicorn in a thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urljoin, urlsplit

import httpx
import pytest
import uvicorn
from joserfc.jwk import ECKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.e2e.conftest import form_action, form_fields
from tests.e2e.test_server_process import free_port

__all__ = [
    "UPSTREAM_DIR",
    "GitHubEmail",
    "GitHubStandIn",
    "GitHubUser",
    "NopUpstream",
    "default_github_users",
    "ensure_upstream_node",
    "make_key",
    "public_jwks",
    "sign_in_upstream",
    "sign_in_upstream_async",
    "upstream_client",
]

UPSTREAM_DIR = Path(__file__).resolve().parents[1] / "upstream_node"
_npm_lock = threading.Lock()
_ready: list[Path] = []


def ensure_upstream_node() -> Path:
    """Checks node (20.12+) and runs `npm ci` in tests/upstream_node when oidc-provider is not
    installed yet; once per test process. Fails (never skips) without node and npm."""
    with _npm_lock:
        if _ready:
            return _ready[0]
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.fail("node and npm are required for the upstream OpenID Provider tests")
        _check_node_version()
        if not (UPSTREAM_DIR / "node_modules" / "oidc-provider").is_dir():
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=UPSTREAM_DIR, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
        _ready.append(UPSTREAM_DIR)
    return UPSTREAM_DIR


def _check_node_version() -> None:
    """oidc-provider 9 uses crypto.hash (node 20.12+); its maintainers support 22 LTS+."""
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    major, minor = (int(part) for part in out.stdout.strip().lstrip("v").split(".")[:2])
    if (major, minor) < (20, 12):
        pytest.fail(f"node {out.stdout.strip()} is too old for oidc-provider: 20.12+ needed")


def make_key(kid: str, alg: str = "RS256") -> dict[str, Any]:
    """A fresh private signing JWK (RS256 by default; ES256 gives a P-256 key)."""
    params: Any = {"kid": kid, "alg": alg, "use": "sig"}
    if alg.startswith("ES"):
        curve = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
        return dict(ECKey.generate_key(curve, parameters=params).as_dict(private=True))
    return dict(RSAKey.generate_key(2048, parameters=params).as_dict(private=True))


def public_jwks(keys: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The public halves of private JWKs, as a JWKS."""
    private = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
    return {"keys": [{k: v for k, v in key.items() if k not in private} for key in keys]}


def upstream_client(
    client_id: str,
    client_secret: str,
    redirect_uri: str | Sequence[str],
    token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107
    **metadata: Any,
) -> dict[str, Any]:
    """Client metadata for NopUpstream(clients=[...]); extra metadata passes through as is."""
    uris = [redirect_uri] if isinstance(redirect_uri, str) else list(redirect_uri)
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": uris,
        "token_endpoint_auth_method": token_endpoint_auth_method,
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        **metadata,
    }


class NopUpstream:
    """node-oidc-provider on 127.0.0.1:<port>. Use as a context manager (or start()/stop()).

    clients: client metadata dicts (see upstream_client); accounts: login -> claims (sub
    defaults to the login; e.g. email, email_verified, name, given_name, family_name); keys:
    private JWKs (default one fresh RS256 key), every one published, the first of an alg signs.
    id_token_claims=False keeps email/profile claims out of the ID token (UserInfo only)."""

    def __init__(
        self,
        *,
        clients: Sequence[Mapping[str, Any]],
        accounts: Mapping[str, Mapping[str, Any]],
        keys: Sequence[Mapping[str, Any]] | None = None,
        port: int | None = None,
        id_token_claims: bool = True,
        startup_timeout: float = 30,
    ) -> None:
        self.clients = [dict(c) for c in clients]
        self.accounts = {login: dict(claims) for login, claims in accounts.items()}
        self.keys = [dict(k) for k in keys] if keys else [make_key("upstream-key-1")]
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.id_token_claims = id_token_claims
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="nop-upstream-", suffix=".log")  # noqa: SIM115
        self._log_path = Path(self._log.name)

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> NopUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc is not None:  # pytest shows it with the failure
            print(f"--- upstream log ({self.issuer}) ---\n{self.logs()}")
        self._log.close()

    def start(self) -> NopUpstream:
        ensure_upstream_node()
        env = {
            **os.environ,
            "PORT": str(self.port),
            "ISSUER": self.issuer,
            "CLIENTS": json.dumps(self.clients),
            "ACCOUNTS": json.dumps(self.accounts),
            "JWKS": json.dumps({"keys": self.keys}),
            "CONFORM_ID_TOKEN_CLAIMS": "false" if self.id_token_claims else "true",
            "EXIT_WITH_STDIN": "1",  # no orphan when the test process dies
        }
        self._process = subprocess.Popen(
            ["node", "server.mjs"],
            cwd=UPSTREAM_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                httpx.get(self.issuer + "/.well-known/openid-configuration").raise_for_status()
                return self
            except httpx.HTTPError:
                if self._process.poll() is not None:
                    raise AssertionError(f"the upstream exited:\n{self.logs()}") from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"the upstream did not start:\n{self.logs()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Stops the process (idempotent); its state (sessions, codes, tokens) is gone."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def restart(
        self,
        *,
        keys: Sequence[Mapping[str, Any]] | None = None,
        clients: Sequence[Mapping[str, Any]] | None = None,
        accounts: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> NopUpstream:
        """Same issuer and port, optionally other keys (a key rotation), clients or accounts."""
        self.stop()
        if keys is not None:
            self.keys = [dict(k) for k in keys]
        if clients is not None:
            self.clients = [dict(c) for c in clients]
        if accounts is not None:
            self.accounts = {login: dict(claims) for login, claims in accounts.items()}
        return self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def logs(self) -> str:
        """Everything the upstream printed: its events as JSON lines, warnings, errors."""
        self._log.flush()
        return self._log_path.read_text(errors="replace")

    # -- what a test may want to know or change ------------------------------------------

    @property
    def metadata(self) -> dict[str, Any]:
        response = httpx.get(self.issuer + "/.well-known/openid-configuration")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def jwks(self) -> dict[str, Any]:
        """The JWKS the upstream publishes now (fetched)."""
        response = httpx.get(self.metadata["jwks_uri"])
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def mischief(self, **mischief: Any) -> None:
        """Make the token endpoint misbehave until called again (no arguments: behave):
        id_token_claims={"nonce": "x"} (claims merged, re-signed with the right key),
        id_token_signature="tamper" (bits flipped), token_error="invalid_grant" (HTTP 400)."""
        response = httpx.post(self.issuer + "/__harness/mischief", json=mischief)
        response.raise_for_status()


# -- a browser at the upstream ----------------------------------------------------------------


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _next_step(start: str, response: httpx.Response) -> tuple[str, str, dict[str, str] | None]:
    """("done", url, None) | ("get", url, None) | ("post", url, form)."""
    url = str(response.url)
    if response.is_redirect:
        location = urljoin(url, response.headers["location"])
        if _origin(location) != _origin(start):
            return "done", location, None
        return "get", location, None
    html = response.text
    if response.status_code == 200 and 'name="login"' in html:
        return "post", urljoin(url, form_action(html)), form_fields(html)
    raise AssertionError(f"unexpected upstream page {response.status_code} at {url}:\n{html}")


def sign_in_upstream(http: httpx.Client, authorize_url: str, login: str, *, steps: int = 12) -> str:
    """Open authorize_url, sign in as `login` (consent included), return the redirect to the
    relying party (its redirect_uri with code/state or error) without following it. Cookies
    stay in `http`, so a second authorization finds the upstream session."""
    response = http.get(authorize_url, follow_redirects=False)
    for _ in range(steps):
        action, url, form = _next_step(authorize_url, response)
        if action == "done":
            return url
        if action == "get":
            response = http.get(url, follow_redirects=False)
        else:
            response = http.post(url, data={**(form or {}), "login": login}, follow_redirects=False)
    raise AssertionError(f"no redirect to the relying party after {steps} steps")


async def sign_in_upstream_async(
    http: httpx.AsyncClient, authorize_url: str, login: str, *, steps: int = 12
) -> str:
    """sign_in_upstream for an httpx.AsyncClient. With an in-process keystead, give the client
    mounts so that only keystead's origin goes to the app and the upstream over the network:
    httpx.AsyncClient(mounts={KEYSTEAD_ORIGIN: httpx.ASGITransport(app), "all://":
    httpx.AsyncHTTPTransport()})."""
    response = await http.get(authorize_url, follow_redirects=False)
    for _ in range(steps):
        action, url, form = _next_step(authorize_url, response)
        if action == "done":
            return url
        if action == "get":
            response = await http.get(url, follow_redirects=False)
        else:
            data = {**(form or {}), "login": login}
            response = await http.post(url, data=data, follow_redirects=False)
    raise AssertionError(f"no redirect to the relying party after {steps} steps")


# -- GitHub (Enterprise Server layout) --------------------------------------------------------

_GITHUB_DOCS = "https://docs.github.com"
_ERRORS = {
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this "
    "application.",
    "bad_verification_code": "The code passed is incorrect or expired.",
    "unsupported_grant_type": "The grant type is not supported.",
}


@dataclass
class GitHubEmail:
    email: str
    primary: bool = False
    verified: bool = True
    visibility: str | None = None  # "public" | "private" | None, as GitHub reports it

    def as_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "primary": self.primary,
            "verified": self.verified,
            "visibility": self.visibility,
        }


@dataclass
class GitHubUser:
    id: int
    login: str
    name: str | None
    emails: list[GitHubEmail] = field(default_factory=list)

    @property
    def public_email(self) -> str | None:
        """/user's `email`: the publicly visible email, else null (as on GitHub)."""
        return next((e.email for e in self.emails if e.visibility == "public"), None)


def default_github_users() -> list[GitHubUser]:
    """octocat: verified public primary; mona: UNverified primary (and a verified secondary);
    hubot: verified primary kept private (/user says email null)."""
    return [
        GitHubUser(1, "octocat", "The Octocat", [
            GitHubEmail("octocat@example.com", primary=True, verified=True, visibility="public"),
        ]),
        GitHubUser(2, "mona", "Mona Lisa", [
            GitHubEmail("mona@example.com", primary=True, verified=False, visibility="private"),
            GitHubEmail("mona@example.org", primary=False, verified=True, visibility=None),
        ]),
        GitHubUser(3, "hubot", None, [
            GitHubEmail("hubot@example.com", primary=True, verified=True, visibility="private"),
        ]),
    ]  # fmt: skip


@dataclass
class _Grant:
    login: str
    redirect_uri: str
    scope: list[str]
    code_challenge: str | None
    expires: float


class GitHubStandIn:
    """GitHub's OAuth app web flow and REST API for one registered OAuth app, on loopback:

    GET  {base_url}/login/oauth/authorize      auto-approves as `signed_in` (or the `login`
         query parameter's user); with `deny = True` answers error=access_denied.
    POST {base_url}/login/oauth/access_token   form or JSON body; client_secret in the body or
         HTTP Basic; PKCE S256 checked; answers form-encoded, or JSON with Accept:
         application/json; errors as GitHub does: HTTP 200 with error/error_description/error_uri.
    GET  {api_url}/user, {api_url}/user/emails  (api_url = base_url + "/api/v3"), token as
         "Bearer" or "token"; /user/emails needs the user:email or user scope (else 404).

    Deviation to know: what GitHub answers to a wrong code_verifier is not documented; the
    stand-in answers bad_verification_code (the code is refused)."""

    def __init__(
        self,
        *,
        client_id: str = "github-client-id",
        client_secret: str = "github-client-secret",  # noqa: S107
        redirect_uri: str = "",
        users: Sequence[GitHubUser] | None = None,
        signed_in: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri  # the app's registered callback URL
        self.users = {u.login: u for u in (users if users is not None else default_github_users())}
        self.signed_in = signed_in or next(iter(self.users))
        self.deny = False
        self.codes: dict[str, _Grant] = {}
        self.tokens: dict[str, _Grant] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request served
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/v3"

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/login/oauth/authorize"

    @property
    def token_url(self) -> str:
        return self.base_url + "/login/oauth/access_token"

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> GitHubStandIn:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive(), "the GitHub stand-in did not start"
            assert time.monotonic() < deadline, "the GitHub stand-in did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    # -- the endpoints --------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/login/oauth/authorize", self._authorize, methods=["GET"]),
                Route("/login/oauth/access_token", self._access_token, methods=["POST"]),
                Route("/api/v3/user", self._user, methods=["GET"]),
                Route("/api/v3/user/emails", self._emails, methods=["GET"]),
            ]
        )

    async def _authorize(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        q = request.query_params
        if q.get("client_id") != self.client_id:
            return HTMLResponse("<h1>404 Not Found</h1>", status_code=404)
        redirect_uri = q.get("redirect_uri") or self.redirect_uri
        params: dict[str, str] = {}
        if redirect_uri != self.redirect_uri:
            params = {"error": "redirect_uri_mismatch", "error_description": _ERRORS[
                "redirect_uri_mismatch"], "error_uri": f"{_GITHUB_DOCS}/apps/managing-oauth-apps"
                "/troubleshooting-authorization-request-errors/#redirect-uri-mismatch"}  # fmt: skip
            redirect_uri = self.redirect_uri
        elif q.get("code_challenge") and q.get("code_challenge_method", "S256") != "S256":
            return HTMLResponse("<h1>422 code_challenge_method must be S256</h1>", 422)
        elif self.deny:
            params = {"error": "access_denied", "error_description": "The user has denied your "
                "application access.", "error_uri": f"{_GITHUB_DOCS}/apps/managing-oauth-apps"
                "/troubleshooting-authorization-request-errors/#access-denied"}  # fmt: skip
        else:
            login = q.get("login") or self.signed_in
            if login not in self.users:
                return HTMLResponse(f"<h1>no such GitHub user {login}</h1>", status_code=404)
            code = secrets.token_hex(10)
            scope = [s for s in q.get("scope", "").replace(",", " ").split() if s]
            self.codes[code] = _Grant(
                login, redirect_uri, scope, q.get("code_challenge"), time.time() + 600
            )
            params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + sep + urlencode(params), status_code=302)

    async def _access_token(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        if request.headers.get("content-type", "").startswith("application/json"):
            body = {k: str(v) for k, v in (await request.json()).items()}
        else:
            body = dict(parse_qsl((await request.body()).decode()))
        client_id, client_secret = body.get("client_id"), body.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            client_id, client_secret = unquote_plus(user), unquote_plus(password)
        accept = request.headers.get("accept", "")
        if client_id != self.client_id or not hmac.compare_digest(
            client_secret or "", self.client_secret
        ):
            return self._token_answer(accept, error="incorrect_client_credentials")
        grant = self.codes.pop(body.get("code", ""), None)  # single use
        if grant is None or grant.expires < time.time():
            return self._token_answer(accept, error="bad_verification_code")
        if body.get("redirect_uri") and body["redirect_uri"] != grant.redirect_uri:
            return self._token_answer(accept, error="redirect_uri_mismatch")
        if grant.code_challenge is not None:
            verifier = body.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not verifier or not hmac.compare_digest(computed, grant.code_challenge):
                return self._token_answer(accept, error="bad_verification_code")
        token = "gho_" + secrets.token_hex(18)
        self.tokens[token] = grant
        return self._token_answer(
            accept, access_token=token, token_type="bearer", scope=",".join(grant.scope)
        )

    def _token_answer(self, accept: str, *, error: str | None = None, **fields: str) -> Response:
        if error is not None:  # GitHub answers errors with HTTP 200 too
            fields = {"error": error, "error_description": _ERRORS[error], "error_uri": (
                f"{_GITHUB_DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access"
                f"-token-request-errors/#{error.replace('_', '-')}")}  # fmt: skip
        if "application/json" in accept:
            return JSONResponse(fields)
        if "application/xml" in accept:
            xml = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
            return Response(f"<OAuth>{xml}</OAuth>", media_type="application/xml")
        return Response(urlencode(fields), media_type="application/x-www-form-urlencoded")

    def _bearer(self, request: Request) -> _Grant | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        return self.tokens.get(token.strip())

    def _api_error(self, status: int, message: str) -> JSONResponse:
        body = {
            "message": message,
            "documentation_url": f"{_GITHUB_DOCS}/rest",
            "status": str(status),
        }
        return JSONResponse(body, status_code=status)

    def _scope_headers(self, grant: _Grant, accepted: str) -> dict[str, str]:
        return {"X-OAuth-Scopes": ", ".join(grant.scope), "X-Accepted-OAuth-Scopes": accepted}

    async def _user(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        grant = self._bearer(request)
        if grant is None:
            return self._api_error(401, "Bad credentials")
        user = self.users[grant.login]
        body = {
            "login": user.login,
            "id": user.id,
            "node_id": base64.b64encode(f"04:User{user.id}".encode()).decode(),
            "avatar_url": f"{self.base_url}/avatars/u/{user.id}",
            "html_url": f"{self.base_url}/{user.login}",
            "type": "User",
            "site_admin": False,
            "name": user.name,
            "email": user.public_email,
        }
        return JSONResponse(body, headers=self._scope_headers(grant, ""))

    async def _emails(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        grant = self._bearer(request)
        if grant is None:
            return self._api_error(401, "Bad credentials")
        if not {"user", "user:email"} & set(grant.scope):
            return self._api_error(404, "Not Found")
        emails = [e.as_json() for e in self.users[grant.login].emails]
        return JSONResponse(emails, headers=self._scope_headers(grant, "user, user:email"))
