"""The second step of a sign-in (``POST /login/factor``): a code from an authenticator app or
a recovery code, or a passkey (web/passkey.py), for a sign-in waiting for it (no session yet)
or a step-up of the session (protocol/acr.py decides when one is needed;
accounts/second_factor.py checks the code)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts.second_factor import check_code
from keystead.accounts.sessions import load_session
from keystead.errors import OAuthError
from keystead.protocol import acr
from keystead.protocol.interaction import consenting_session
from keystead.secrets_util import sha256_hex
from keystead.web import passkey
from keystead.web.authorize import _Flow, _guard, _resume, session_cookie_name, start_session
from keystead.web.parse import read_form


async def factor(request: Request) -> Response:
    async def run() -> Response:
        flow = _Flow(request, after_post=True)
        form = dict(await read_form(request))
        interaction, areq = await _resume(flow, form)
        provider = flow.provider
        session = None
        if interaction.pending_sub is None:  # a step-up: the session that saw the page
            cookie = request.cookies.get(session_cookie_name(provider))
            session = consenting_session(await load_session(provider, cookie), interaction.sid)
            sub, amr = session.sub, session.amr
        else:
            sub, amr = interaction.pending_sub, interaction.pending_amr
        user = await provider.store.users.get(sub)
        if user is None:
            raise OAuthError("interaction-invalid", "The account no longer exists.")
        retry_after = 0
        if form.get("credential"):  # the page's passkey button
            methods, error = await passkey.second_factor(provider, request, form, sub)
        else:
            client_ip = request.client.host if request.client else None
            result = await check_code(provider, sub, form.get("code", ""), client_ip)
            methods, error, retry_after = result.methods, result.error, result.retry_after
        if not methods:
            headers = {"Retry-After": str(retry_after)} if retry_after else None
            page = await flow.factor_page(
                areq,
                interaction.started_at,
                sub=sub,
                session=session,
                pending_amr=amr,
                error=error,
                status=429 if retry_after else 400,
                headers=headers,
            )
            return flow.finish(page)
        amr = acr.with_factor(amr, methods)
        if session is None:
            return await start_session(flow, areq, interaction, user, amr)
        # auth_time is the time of the latest factor (the rule; OIDC Core §2).
        now = provider.now()
        cookie = request.cookies.get(session_cookie_name(provider), "")
        await provider.store.sessions.add_factors(sha256_hex(cookie), amr, now)
        stepped = await load_session(provider, cookie)
        if stepped is None:
            raise OAuthError("interaction-invalid", "The session ended during the sign-in.")
        return flow.finish(await flow.proceed(areq, stepped, interaction.started_at))

    return await _guard(request, run, after_post=True)
