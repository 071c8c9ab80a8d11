"""The authorization endpoint and its login and consent pages.

Four visible phases: parse and validate (protocol/authorize) -> login/consent pages (here) ->
issue (protocol/issue) -> render the response in its mode (web/render).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts import consent as consents
from keystead.accounts import device, federated, passkeys, signup
from keystead.accounts.account_app import ACCOUNT_CLIENT_ID, return_url
from keystead.accounts.login import authenticate
from keystead.accounts.sessions import create_session, load_session
from keystead.errors import OAuthError
from keystead.protocol import acr, rar, scopes
from keystead.protocol.authorization_request import AuthorizationRequest, carried
from keystead.protocol.authorize import validate
from keystead.protocol.interaction import (
    Step,
    consenting_session,
    decide,
    deny,
    mfa_unavailable,
    resume,
)
from keystead.protocol.issue import issue
from keystead.protocol.request_source import resolve
from keystead.secrets_util import random_token, same_text, sha256_hex
from keystead.store.base import Session, User
from keystead.store.factors import PASSKEY, TOTP
from keystead.web import pages, render, upstream_trip
from keystead.web.interaction import Interaction, InteractionSigner
from keystead.web.parse import oauth_request, read_form

if TYPE_CHECKING:
    from keystead.provider import Provider


def _provider(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


def _signer(request: Request) -> InteractionSigner:
    signer: InteractionSigner = request.app.state.signer
    return signer


def session_cookie_name(provider: Provider) -> str:
    return "__Host-keystead_session" if provider.settings.secure_cookies else "keystead_session"


def csrf_cookie_name(provider: Provider) -> str:
    return "__Host-keystead_csrf" if provider.settings.secure_cookies else "keystead_csrf"


def _set_cookie(
    response: Response, provider: Provider, name: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=provider.settings.secure_cookies,
    )


class _Flow:
    """One request's walk through the interaction; owns the cookies it must set."""

    def __init__(self, request: Request, *, after_post: bool) -> None:
        self.request = request
        self.provider = _provider(request)
        self.after_post = after_post
        self.cookies: dict[str, str] = {}
        self.csrf = request.cookies.get(csrf_cookie_name(self.provider)) or ""

    def _csrf_token(self) -> str:
        if not self.csrf:
            self.csrf = random_token(24)
            self.cookies[csrf_cookie_name(self.provider)] = self.csrf
        return self.csrf

    def finish(self, response: Response) -> Response:
        for name, value in self.cookies.items():
            _set_cookie(response, self.provider, name, value)
        return response

    def _page(
        self,
        template: str,
        areq: AuthorizationRequest,
        context: dict[str, object],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        settings = self.provider.settings
        nonce = pages.new_nonce() if context.get("passkey") else ""  # passkey.js, by nonce
        base = {
            "client_name": areq.client.client_name,
            "static_url": settings.url("/static"),
            "csrf_token": self._csrf_token(),
            "script_nonce": nonce,
        }
        # Chromium applies form-action to the redirect after the POST: allow the client's origin.
        action = ("'self'", pages.origin_of(areq.redirect_uri))
        return pages.render(
            template,
            {**base, **context},
            status=status,
            form_action=action,
            script_nonce=nonce,
            headers=headers,
        )

    def _state(
        self,
        areq: AuthorizationRequest,
        started_at: int,
        sid: str | None = None,
        pending: tuple[str, tuple[str, ...]] | None = None,
    ) -> str:
        """The signed page state: the request as validated, for the next step to resume;
        ``pending``: the (sub, amr) of a sign-in waiting for its second factor."""
        interaction = Interaction(
            areq.pairs,
            started_at,
            self._csrf_token(),
            sid=sid,
            validated=carried(areq),
            pending_sub=pending[0] if pending else None,
            pending_amr=pending[1] if pending else (),
        )
        return _signer(self.request).dump(interaction)

    async def factor_page(
        self,
        areq: AuthorizationRequest,
        started_at: int,
        *,
        sub: str,
        session: Session | None,
        pending_amr: tuple[str, ...] = (),
        error: str = "",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """The second step: of a pending sign-in (no session yet), or a step-up of
        ``session``. An essential requirement no factor of the user can meet ends here."""
        provider = self.provider
        amr = session.amr if session is not None else pending_amr
        factors = await provider.store.factors.list(sub)
        acceptable, _ = acr.wanted(areq.client, areq.acr_values, areq.claims)
        usable = acr.helpful(amr, factors, acceptable) if acceptable else factors
        if not usable:
            raise mfa_unavailable(areq, sub, provider)
        user = await provider.store.users.get(sub)
        has_passkey = any(f.kind == PASSKEY for f in usable)
        passkey = await passkeys.begin_sign_in(provider, sub) if has_passkey else None
        pending = None if session is not None else (sub, pending_amr)
        token = self._state(areq, started_at, sid=session.sid if session else None, pending=pending)
        return self._page(
            "factor.html",
            areq,
            {
                "action": provider.settings.url("/login/factor"),
                "interaction": token,
                "error": error,
                "username": user.username if user else "",
                "step_up": session is not None,
                "has_code_factor": any(f.kind == TOTP for f in usable),
                "passkey": passkey,
            },
            status=status,
            headers=headers,
        )

    def _onward(self, path: str, areq: AuthorizationRequest) -> str:
        """A page off the login (reset, sign-up) that comes back to this same request."""
        query = urlencode({"continue": urlencode(areq.pairs)})
        return f"{self.provider.settings.url(path)}?{query}"

    async def login_page(
        self,
        areq: AuthorizationRequest,
        started_at: int,
        *,
        error: str = "",
        username: str = "",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        token = self._state(areq, started_at)
        settings = self.provider.settings
        # One passwordless ceremony for the button and the autofill (conditional UI).
        passkey = await passkeys.begin_sign_in(self.provider, None)
        with_password = federated.password_login(areq.client)
        return self._page(
            "login.html",
            areq,
            {
                "connections": await federated.offered(self.provider, areq.client),
                "federation_action": settings.url("/federation/start"),
                "password_login": with_password,
                "action": self.provider.settings.url("/login"),
                "passkey_action": self.provider.settings.url("/login/passkey"),
                "interaction": token,
                "error": error,
                "username": username or areq.login_hint or "",
                "passkey": passkey if with_password else None,
                # "Forgot password?": the reset link continues to this same request
                "forgot_url": self._onward("/password/forgot", areq),
                "signup_url": self._onward("/signup", areq) if settings.signup else "",
            },
            status=status,
            headers=headers,
        )

    async def consent_page(
        self, areq: AuthorizationRequest, session: Session, started_at: int
    ) -> Response:
        user = await self.provider.store.users.get(session.sub)
        token = self._state(areq, started_at, sid=session.sid)
        index = await self.provider.apis()
        items = [
            {"name": s, "description": index.describe(s) or scopes.describe(s)} for s in areq.scope
        ]
        items += rar.consent_items(areq.claims, rar.types_of(index.by_id.values()))  # RFC 9396
        return self._page(
            "consent.html",
            areq,
            {
                "action": self.provider.settings.url("/consent"),
                "interaction": token,
                "username": user.username if user else "",
                "scopes": items,
                "redirect_origin": pages.origin_of(areq.redirect_uri),
            },
        )

    async def proceed(
        self,
        areq: AuthorizationRequest,
        session: Session | None,
        started_at: int | None,
        *,
        consent_given_now: bool = False,
    ) -> Response:
        """``started_at`` None: a new interaction (GET /authorize), no login in it yet."""
        provider = self.provider
        step = await decide(
            areq, session, provider, started_at=started_at, consent_given_now=consent_given_now
        )
        begun = started_at if started_at is not None else provider.now()
        if step is Step.LOGIN and "create" in areq.prompt and started_at is None:
            # Prompt Create 1.0: the sign-up page, then this request again.
            return RedirectResponse(self._onward("/signup", areq), status_code=303)
        if step is Step.LOGIN and started_at is None:  # idp_hint=NAME: straight upstream
            hinted = await upstream_trip.hinted(provider, areq, lambda: self._state(areq, begun))
            if hinted is not None:
                return hinted
        if step is Step.LOGIN:
            return await self.login_page(areq, begun)
        assert session is not None
        if step is Step.ISSUE and areq.client.client_id == ACCOUNT_CLIENT_ID:
            target = return_url(provider.settings, areq.state)  # /account, or back to /device
            return RedirectResponse(target, status_code=303)
        if step is Step.FACTOR:
            return await self.factor_page(areq, begun, sub=session.sub, session=session)
        if step is Step.CONSENT:
            return await self.consent_page(areq, session, begun)
        resp = await issue(areq, session, provider, consent_given_now=consent_given_now)
        return render.authorization_response(resp, provider.settings, after_post=self.after_post)

    def check_csrf(self, form: dict[str, str], interaction: Interaction) -> None:
        check_csrf(self.csrf, form, interaction)


def check_csrf(cookie: str, form: dict[str, str], interaction: Interaction) -> None:
    """Signed double submit: the form's token, the cookie and the signed interaction agree."""
    sent = form.get("csrf_token", "")
    if not (cookie and same_text(sent, cookie) and same_text(interaction.csrf, cookie)):
        raise OAuthError("csrf-invalid", "The CSRF token does not match the cookie.")


async def _guard(
    request: Request, flow_fn: Callable[[], Awaitable[Response]], *, after_post: bool
) -> Response:
    return await render.guarded(request, flow_fn, kind="page", after_post=after_post)


async def authorize(request: Request) -> Response:
    """GET and POST (OIDC Core §3.1.2.1)."""
    after_post = request.method == "POST"

    async def run() -> Response:
        flow = _Flow(request, after_post=after_post)
        req = await oauth_request(request, body=after_post)
        req = await resolve(req, flow.provider)  # PAR, JAR (protocol/request_source.py)
        areq = await validate(req, flow.provider)
        session = await load_session(
            flow.provider, request.cookies.get(session_cookie_name(flow.provider))
        )
        return flow.finish(await flow.proceed(areq, session, None))

    return await _guard(request, run, after_post=after_post)


async def _resume(flow: _Flow, form: dict[str, str]) -> tuple[Interaction, AuthorizationRequest]:
    interaction = _signer(flow.request).load(form.get("interaction", ""), flow.provider.now())
    flow.check_csrf(form, interaction)
    areq = await resume(interaction.pairs, interaction.validated, flow.provider)
    return interaction, areq


async def login(request: Request) -> Response:
    async def run() -> Response:
        flow = _Flow(request, after_post=True)
        form = dict(await read_form(request))
        interaction, areq = await _resume(flow, form)
        username = form.get("username", "").strip()
        password = form.get("password", "")
        provider = flow.provider

        async def again(
            error: str, status: int = 200, headers: dict[str, str] | None = None
        ) -> Response:
            page = await flow.login_page(
                areq,
                interaction.started_at,
                username=username,
                error=error,
                status=status,
                headers=headers,
            )
            return flow.finish(page)

        if not federated.password_login(areq.client):
            raise OAuthError(
                "password-login-disabled",
                f"{areq.client.client_name} signs users in through upstream providers only "
                "(the client's --no-password-login policy).",
            )
        if not username or not password:
            return await again("Enter your username and password.", 400)
        client_ip = request.client.host if request.client else None
        device_cookie = request.cookies.get(device.cookie_name(provider))
        result = await authenticate(provider, username, password, client_ip, device_cookie)
        if result.retry_after:
            wait = str(result.retry_after)
            error = f"Too many failed attempts. Try again in {wait} seconds."
            return await again(error, 429, {"Retry-After": wait})
        if result.user is None:
            return await again("Incorrect username or password.")
        refuse_disabled(provider, result.user)  # the password was right: say so plainly
        if await signup.unverified(provider, result.user):  # signed up, address unconfirmed
            await signup.resend(provider, result.user, urlencode(areq.pairs))
            return await again("Confirm your email address first: open the link we mailed you.")
        if await provider.store.factors.has_any(result.user.sub):
            # The account has a second factor: no session until it is given.
            page = await flow.factor_page(
                areq,
                interaction.started_at,
                sub=result.user.sub,
                session=None,
                pending_amr=(acr.AMR_PASSWORD,),
            )
            response = flow.finish(page)
        else:
            response = await start_session(flow, areq, interaction, result.user, ("pwd",))
        if result.device_cookie:  # this browser is now trusted for the account (OWASP)
            _set_cookie(
                response,
                provider,
                device.cookie_name(provider),
                result.device_cookie,
                max_age=provider.settings.login_device_cookie_ttl,
            )
        return response

    return await _guard(request, run, after_post=True)


def refuse_disabled(provider: Provider, user: User) -> None:
    if user.disabled_at is not None:  # an operator disabled the account: no sign-in at all
        provider.events.emit("login.disabled_account", sub=user.sub)
        raise OAuthError("account-disabled", "The account is disabled by an administrator.")


async def start_session(
    flow: _Flow,
    areq: AuthorizationRequest,
    interaction: Interaction,
    user: User,
    amr: tuple[str, ...],
) -> Response:
    """The user is signed in: a new session (never the old id: no session fixation), and on
    with the authorization. Every way of signing in ends here: a disabled account stops."""
    provider = flow.provider
    refuse_disabled(provider, user)
    old = flow.request.cookies.get(session_cookie_name(provider))
    if old:
        await provider.store.sessions.delete(sha256_hex(old))
    client = flow.request.client  # where it signs in, for the user's list of sessions
    ua, ip = flow.request.headers.get("user-agent"), client.host if client else None
    cookie, session = await create_session(provider, user, amr, user_agent=ua, ip=ip)
    flow.cookies[session_cookie_name(provider)] = cookie
    return flow.finish(await flow.proceed(areq, session, interaction.started_at))


async def consent(request: Request) -> Response:
    async def run() -> Response:
        flow = _Flow(request, after_post=True)
        form = dict(await read_form(request))
        interaction, areq = await _resume(flow, form)
        provider = flow.provider
        session = consenting_session(
            await load_session(provider, request.cookies.get(session_cookie_name(provider))),
            interaction.sid,
        )
        if form.get("decision") != "approve":
            raise deny(areq, session.sub, provider)
        await consents.remember(provider, session.sub, areq.client.client_id, areq.scope)
        return flow.finish(
            await flow.proceed(areq, session, interaction.started_at, consent_given_now=True)
        )

    return await _guard(request, run, after_post=True)
