"""Multi-step flows, driven the same way against both servers with httpx (asyncio, many
connections): a browser's login to start an SSO session, pre-minted refresh tokens, full
authorization-code flows with an existing SSO session, and password logins.

Cookies are handled by hand (a fixed ``Cookie`` header, never a shared jar) in the measured
loops, so concurrent tasks cannot disturb each other's state.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from bench.servers import API, API_SCOPE, REDIRECT_URI, Credentials, Server
from bench.wrk import Measurement

VERIFIER = "bench-pkce-verifier-" + "v" * 43
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")
FLOW_SCOPE = f"openid {API_SCOPE}"  # an OIDC login that also gets a JWT for the API
OFFLINE_SCOPE = f"openid offline_access {API_SCOPE}"


def basic(creds: Credentials) -> str:
    raw = f"{creds.client_id}:{creds.client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def authorize_url(server: Server, creds: Credentials, scope: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": creds.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "resource": API,
        "state": "bench-state",
        "nonce": "bench-nonce",
        "code_challenge": CHALLENGE.decode(),
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{server.issuer}/authorize?{urlencode(params)}"


def token_body(code: str) -> bytes:
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": VERIFIER,
        }
    ).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action") or ""
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"] or ""] = a.get("value") or ""


def parse_form(html: str) -> tuple[str, dict[str, str]]:
    form = _Form()
    form.feed(html)
    if form.action is None:
        raise RuntimeError(f"no form in the page: {html[:300]}")
    return form.action, form.fields


def code_from(location: str) -> str | None:
    if not location.startswith(REDIRECT_URI):
        return None
    query = parse_qs(urlsplit(location).query)
    if "error" in query:
        raise RuntimeError(f"authorization error: {location}")
    return query.get("code", [None])[0]


def set_cookies(response: httpx.Response) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def no_jar_client(connections: int) -> httpx.AsyncClient:
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))  # stores nothing
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(cookies=jar, limits=limits, timeout=30, follow_redirects=False)


async def browse_to_code(
    http: httpx.AsyncClient, url: str, cookies: dict[str, str], creds: Credentials
) -> str:
    """Follow redirects (and keystead's login form) until the redirect URI; return the code.
    ``cookies`` is updated with every cookie set on the way (a one-user browser)."""
    for _ in range(10):
        r = await http.get(url, headers={"Cookie": cookie_header(cookies)})
        cookies.update(set_cookies(r))
        if r.status_code in (302, 303):
            location = urljoin(url, r.headers["location"])
            code = code_from(location)
            if code:
                return code
            url = location
            continue
        if r.status_code == 200 and "<form" in r.text:  # keystead's login page
            action, fields = parse_form(r.text)
            fields.update(username=creds.username, password=creds.password)
            r = await http.post(
                urljoin(url, action),
                content=urlencode(fields).encode(),
                headers={**FORM, "Cookie": cookie_header(cookies)},
            )
            cookies.update(set_cookies(r))
            if r.status_code in (302, 303):
                location = urljoin(url, r.headers["location"])
                code = code_from(location)
                if code:
                    return code
                url = location
                continue
        raise RuntimeError(f"unexpected {r.status_code} at {url}: {r.text[:300]}")
    raise RuntimeError("too many redirects")


async def redeem(
    http: httpx.AsyncClient, server: Server, creds: Credentials, code: str
) -> dict[str, Any]:
    r = await http.post(
        server.issuer + "/token",
        content=token_body(code),
        headers={**FORM, "Authorization": basic(creds)},
    )
    if r.status_code != 200:
        raise RuntimeError(f"token endpoint: {r.status_code} {r.text[:300]}")
    body: dict[str, Any] = r.json()
    return body


async def start_session(server: Server, creds: Credentials) -> dict[str, str]:
    """Log the user in once (keystead: its login form; NOP: the bench interaction) and
    return the browser's cookies: the SSO session for the measured code flows."""
    cookies: dict[str, str] = {}
    async with no_jar_client(1) as http:
        code = await browse_to_code(http, authorize_url(server, creds, FLOW_SCOPE), cookies, creds)
        body = await redeem(http, server, creds, code)
        assert body.get("id_token") and body.get("access_token"), body
    return cookies


async def mint_refresh_tokens(
    server: Server, creds: Credentials, cookies: dict[str, str], count: int
) -> list[str]:
    """``count`` refresh tokens, each from a full code flow with offline_access, each in a
    grant of its own. NOP keeps offline_access only with prompt=consent (its consent then
    creates a new grant each time); keystead keeps it for this --skip-consent client."""
    extra = {"prompt": "consent"} if server.name == "nop" else {}
    url = authorize_url(server, creds, OFFLINE_SCOPE, **extra)
    tokens: list[str] = []
    # One after the other, as one browser: NOP's session changes with every consent.
    async with no_jar_client(1) as http:
        for _ in range(count):
            code = await browse_to_code(http, url, cookies, creds)
            body = await redeem(http, server, creds, code)
            if not body.get("refresh_token"):
                raise RuntimeError(f"{server.name} issued no refresh token: {body}")
            tokens.append(body["refresh_token"])
    return tokens


@dataclass
class _Loop:
    ok: int = 0
    failed: int = 0
    first_error: str = ""


async def _drive(
    duration: float, concurrency: int, step: Callable[[], Awaitable[None]]
) -> tuple[Measurement, float]:
    """Run ``step`` in ``concurrency`` tasks for ``duration`` seconds. Returns the
    measurement and the driver's own CPU share (near 1.0: the driver was the bottleneck)."""
    state = _Loop()
    latencies: list[float] = []
    deadline = time.perf_counter() + duration

    async def task() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                await step()
            except Exception as exc:  # noqa: BLE001 - counted, first one reported
                state.failed += 1
                state.first_error = state.first_error or repr(exc)[:300]
                continue
            latencies.append(time.perf_counter() - t0)
            state.ok += 1

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(task() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0
        )

    detail: dict[str, Any] = {"driver_cpu_share": round(cpu / wall, 3), "concurrency": concurrency}
    if state.first_error:
        detail["first_error"] = state.first_error
    m = Measurement(
        requests=state.ok + state.failed,
        ok=state.ok,
        seconds=wall,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        failures=state.failed,
        detail=detail,
    )
    return m, cpu / wall


async def code_flows(
    server: Server, creds: Credentials, cookies: dict[str, str], duration: float, concurrency: int
) -> Measurement:
    """Full authorization-code flows with an existing SSO session: GET /authorize with the
    session cookie -> redirect with a code -> POST /token (PKCE, Basic auth) -> 200 with an
    ID token and an access token (JWT, ES256) for the API."""
    url = authorize_url(server, creds, FLOW_SCOPE)
    cookie = cookie_header(cookies)
    async with no_jar_client(concurrency) as http:

        async def flow() -> None:
            r = await http.get(url, headers={"Cookie": cookie})
            code = code_from(r.headers.get("location", "")) if r.status_code in (302, 303) else None
            if not code:
                raise RuntimeError(f"/authorize: {r.status_code} {r.headers.get('location')}")
            body = await redeem(http, server, creds, code)
            if "id_token" not in body:
                raise RuntimeError(f"no id_token: {body}")

        m, _ = await _drive(duration, concurrency, flow)
    return m


async def password_logins(
    server: Server, creds: Credentials, duration: float, concurrency: int
) -> Measurement:
    """Password logins: a new browser (no cookies) GETs /authorize, gets the login page,
    POSTs username and password (argon2id verification) and is redirected with a code."""
    url = authorize_url(server, creds, FLOW_SCOPE)
    async with no_jar_client(concurrency) as http:

        async def login() -> None:
            page = await http.get(url)
            if page.status_code != 200:
                raise RuntimeError(f"login page: {page.status_code}")
            cookies = set_cookies(page)
            action, fields = parse_form(page.text)
            fields.update(username=creds.username, password=creds.password)
            r = await http.post(
                urljoin(url, action),
                content=urlencode(fields).encode(),
                headers={**FORM, "Cookie": cookie_header(cookies)},
            )
            if r.status_code not in (302, 303) or not code_from(r.headers.get("location", "")):
                raise RuntimeError(f"login: {r.status_code} {r.headers.get('location')}")

        m, _ = await _drive(duration, concurrency, login)
    return m


def run(coro: Awaitable[Any]) -> Any:
    """asyncio.run, on uvloop when it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)  # type: ignore[arg-type]
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]
