"""passkey.js and accounts/webauthn.py together in a real Chromium with a virtual
authenticator (tests/e2e/passkey_browser.py): register a passkey, then sign in without a
password — by button (modal) and by autofill (conditional UI) — on pages served with
keystead's CSP (script-src by nonce only, form-action 'self').

The pages are a tiny Starlette app defined here (not keystead's account pages): the server
side is what the account page and the login step will do with the same functions. WebAuthn
needs a secure context, so the app's origin is http://localhost:PORT and the RP ID
"localhost". Chromium is required: without it this test fails, it does not skip.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from keystead.accounts import webauthn
from keystead.accounts.passkey_challenges import Challenges
from keystead.accounts.webauthn import PasskeyError, RelyingParty
from keystead.store.memory.markers import MemoryMarkerStore
from keystead.web.pages import STATIC_DIR, new_nonce, page_headers
from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.passkey_browser import (
    add_virtual_authenticator,
    credentials,
    set_user_verified,
)
from tests.e2e.test_server_process import free_port

pytestmark = pytest.mark.timeout(120)

SUB = "rita-sub"
USER_HANDLE = b"\x07" * 16
FORM = "application/x-www-form-urlencoded"
CONDITIONAL = ' data-passkey-conditional="passkey-options"'


@dataclass
class Stored:
    public_key: bytes
    sign_count: int
    sub: str


@dataclass
class Site:
    rp: RelyingParty
    challenges: Challenges = field(default_factory=lambda: Challenges(b"s" * 32))
    markers: MemoryMarkerStore = field(default_factory=MemoryMarkerStore)
    passkeys: dict[bytes, Stored] = field(default_factory=dict)
    sign_ins: list[str] = field(default_factory=list)


def _page(title: str, body: str, nonce: str, status: int = 200) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{html.escape(title)}</title>
<script src="/static/passkey.js" nonce="{nonce}" defer></script></head>
<body><h1>{html.escape(title)}</h1>{body}</body></html>"""
    return HTMLResponse(document, status, headers=page_headers(script_nonce=nonce))


def _form(action: str, state: str, options: str, inner: str) -> str:
    # options are script-safe JSON (accounts/webauthn.py): written as they are
    return f"""<form method="post" action="{action}">
<script type="application/json" id="passkey-options">{options}</script>
<input type="hidden" name="state" value="{html.escape(state)}">
<input type="hidden" name="credential">
<p role="alert" id="problem" hidden></p>
{inner}
</form>"""


async def _form_fields(request: Request) -> dict[str, str]:
    """The urlencoded body (keystead parses its forms itself; no python-multipart here)."""
    return dict(parse_qsl((await request.body()).decode("utf-8")))


def build_site(site: Site) -> Starlette:
    now = lambda: int(time.time())  # noqa: E731

    async def register_page(request: Request) -> HTMLResponse:
        state, challenge = site.challenges.issue("register", SUB, now())
        options = webauthn.registration_options(
            site.rp,
            user_handle=USER_HANDLE,
            username="rita",
            display_name="Rita </script>",
            exclude=list(site.passkeys),
            challenge=challenge,
        )
        button = '<button type="button" data-passkey="register" '
        button += 'data-passkey-options="passkey-options">Add a passkey</button>'
        return _page("Add a passkey", _form("/register", state, options, button), new_nonce())

    async def register(request: Request) -> HTMLResponse:
        form = await _form_fields(request)
        try:
            challenge = await site.challenges.consume(
                site.markers, str(form.get("state", "")), "register", SUB, now()
            )
            new = webauthn.verify_registration(site.rp, str(form.get("credential", "")), challenge)
        except PasskeyError as exc:
            return _page("Refused", f'<p id="refused">{html.escape(exc.reason)}</p>', "x", 400)
        site.passkeys[new.credential_id] = Stored(new.public_key, new.sign_count, SUB)
        body = f'<p id="done">{len(site.passkeys)} passkey(s); UV {new.user_verified}; '
        body += f"transports {' '.join(new.transports)}</p>"
        return _page("Passkey added", body, new_nonce())

    async def login_page(request: Request) -> HTMLResponse:
        # /second: a second factor for a user known by now (allowCredentials, UV preferred)
        second = request.url.path == "/second"
        state, challenge = site.challenges.issue("login", SUB if second else None, now())
        options = webauthn.authentication_options(
            site.rp,
            challenge=challenge,
            allow=list(site.passkeys) if second else (),
            user_verification="preferred" if second else "required",
        )
        # /login?modal: the button only (with the virtual authenticator, a conditional
        # request is answered at once, before any button could be clicked)
        autofill = "" if "modal" in request.query_params or second else CONDITIONAL
        inner = f"""<label>Username <input name="username" id="username"
  autocomplete="username webauthn"{autofill}></label>
<button type="button" data-passkey="login" data-passkey-options="passkey-options"
  >Sign in with a passkey</button>"""
        return _page("Sign in", _form(request.url.path, state, options, inner), new_nonce())

    async def login(request: Request) -> HTMLResponse:
        form = await _form_fields(request)
        credential = form.get("credential", "")
        second = request.url.path == "/second"
        try:
            challenge = await site.challenges.consume(
                site.markers, form.get("state", ""), "login", SUB if second else None, now()
            )
            stored = site.passkeys.get(webauthn.credential_id_of(credential))
            if stored is None:
                raise PasskeyError("This passkey is not registered here.", "unknown")
            use = webauthn.verify_authentication(
                site.rp,
                credential,
                challenge,
                public_key=stored.public_key,
                sign_count=stored.sign_count,
                require_user_verification=not second,
                owner_handle=USER_HANDLE,  # the stored passkey's owner
                user_identified=second,
            )
        except PasskeyError as exc:
            return _page("Refused", f'<p id="refused">{html.escape(exc.reason)}</p>', "x", 400)
        stored.sign_count = use.new_sign_count
        site.sign_ins.append(credential)
        return _page("Signed in", f'<p id="done">Signed in as {stored.sub}</p>', new_nonce())

    return Starlette(
        routes=[
            Route("/register", register_page),
            Route("/register", register, methods=["POST"]),
            Route("/login", login_page),
            Route("/login", login, methods=["POST"]),
            Route("/second", login_page),
            Route("/second", login, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR)),
        ]
    )


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    chromium_path()
    port = free_port()
    base = f"http://localhost:{port}"
    state = Site(webauthn.relying_party(base))
    server = uvicorn.Server(
        uvicorn.Config(build_site(state), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login").raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the test site did not start"
                time.sleep(0.05)
        yield state, base
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def watched(browser: Browser, problems: list[str], *, by_hand: bool = False) -> Page:
    page = browser.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    if by_hand:  # a browser without PublicKeyCredential.toJSON(): passkey.js serialises
        page.add_init_script("delete PublicKeyCredential.prototype.toJSON;")
    return page


def register(page: Page, base: str) -> None:
    page.goto(base + "/register")
    page.click("[data-passkey=register]")
    page.wait_for_selector("#done, #refused")
    assert page.title() == "Passkey added", page.inner_text("body")


@pytest.mark.parametrize("serialise", ["toJSON", "by hand"])
def test_register_then_sign_in_without_a_password(
    site: tuple[Site, str], browser: Browser, serialise: str
) -> None:
    state, base = site
    problems: list[str] = []
    page = watched(browser, problems, by_hand=serialise == "by hand")
    authenticator = add_virtual_authenticator(page)
    if serialise == "by hand":
        page.goto(base + "/login")
        assert page.evaluate("typeof PublicKeyCredential.prototype.toJSON") == "undefined"

    register(page, base)
    assert "UV True" in page.inner_text("#done")
    assert "internal" in page.inner_text("#done")
    [held] = credentials(authenticator)
    assert held.rp_id == "localhost" and held.is_resident
    assert held.user_handle == USER_HANDLE
    assert list(state.passkeys) == [held.credential_id]

    # passwordless: no allow list, the authenticator finds the discoverable credential
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.post_data or "") if r.method == "POST" and "/login" in r.url else None
        ),
    )
    page.goto(base + "/login?modal")
    page.click("[data-passkey=login]")
    page.wait_for_selector("#done, #refused")
    assert page.inner_text("body").endswith("Signed in as rita-sub"), page.inner_text("body")
    [held] = credentials(authenticator)
    assert state.passkeys[held.credential_id].sign_count == held.sign_count
    assert len(state.sign_ins) == 1

    # as a second factor: allowCredentials names the passkey, user verification preferred
    page.goto(base + "/second")
    page.click("[data-passkey=login]")
    page.wait_for_selector("#done, #refused")
    assert page.inner_text("body").endswith("Signed in as rita-sub"), page.inner_text("body")
    [held] = credentials(authenticator)
    assert state.passkeys[held.credential_id].sign_count == held.sign_count
    assert len(state.sign_ins) == 2

    # the browser's POST again: its challenge was used
    direct = base.replace("localhost", "127.0.0.1") + "/login"
    body = posts[0]
    replay = httpx.post(direct, content=body, headers={"Content-Type": FORM})
    assert replay.status_code == 400 and "already used" in replay.text
    # the response with a fresh challenge state: made for another challenge
    page.goto(base + "/login?modal")
    fresh = {"state": page.input_value("[name=state]"), "credential": state.sign_ins[0]}
    replay = httpx.post(direct, data=fresh)
    assert replay.status_code == 400 and "another challenge" in replay.text
    assert not problems, problems


def test_a_refused_ceremony_keeps_the_page_usable(site: tuple[Site, str], browser: Browser) -> None:
    state, base = site
    problems: list[str] = []
    page = watched(browser, problems)
    authenticator = add_virtual_authenticator(page)
    set_user_verified(authenticator, False)  # a wrong PIN: the browser says NotAllowedError
    page.goto(base + "/register")
    page.click("[data-passkey=register]")
    alert = page.wait_for_selector("[role=alert]:not([hidden])")
    assert alert is not None
    assert "cancelled or timed out" in alert.inner_text()
    assert page.title() == "Add a passkey" and not state.passkeys

    set_user_verified(authenticator, True)  # try again on the same page
    page.click("[data-passkey=register]")
    page.wait_for_selector("#done, #refused")
    assert page.title() == "Passkey added"

    # registering the same authenticator again: excludeCredentials (InvalidStateError)
    page.goto(base + "/register")
    page.click("[data-passkey=register]")
    alert = page.wait_for_selector("[role=alert]:not([hidden])")
    assert alert is not None
    assert "already holds a passkey" in alert.inner_text()
    assert len(state.passkeys) == 1
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_conditional_ui(site: tuple[Site, str], browser: Browser) -> None:
    """Autofill sign-in: on a page with an ``autocomplete="username webauthn"`` input,
    passkey.js starts a conditional request (Chromium says it can, headless too); the
    virtual authenticator, with automatic presence, answers it with its discoverable
    credential at once — no click, no focus — and the form is posted."""
    state, base = site
    problems: list[str] = []
    page = watched(browser, problems)
    add_virtual_authenticator(page)
    register(page, base)
    page.goto(base + "/login?modal")  # a page that starts nothing by itself
    assert page.evaluate("PublicKeyCredential.isConditionalMediationAvailable()") is True
    page.goto(base + "/login")
    page.wait_for_selector("#done, #refused", timeout=15_000)
    assert page.inner_text("body").endswith("Signed in as rita-sub"), page.inner_text("body")
    assert len(state.sign_ins) == 1
    assert not problems, problems
