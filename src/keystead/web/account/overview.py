"""``GET /account``: who is signed in, and their password, authenticator app, passkeys and
recovery codes, where they are signed in and which apps have access — with a notice when a
recovery code was used or the password was under attack."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import passkeys
from keystead.accounts.login import last_attack_at
from keystead.store.factors import PASSKEY, TOTP, Factor
from keystead.web import pages, render
from keystead.web.account import ciba, connection_rows
from keystead.web.account.common import Visit, reauthenticate, visit
from keystead.web.account.sessions import app_rows, session_rows, when

DONE = {
    "password": "Your password was changed.",
    "totp": "Your authenticator app was added.",
    "passkey": "Your passkey was added.",
    "removed": "The sign-in method was removed.",
    "profile": "Your profile was saved.",
    "email": "We sent a link to the new address; it takes effect when you open it.",
    "session_ended": "That browser was signed out.",
    "others_ended": "Every other browser was signed out.",
    "revoked": "The app's access was revoked; it asks again the next time you use it.",
    "linked": "The sign-in was linked: you can use it to sign in to this account.",
    "unlinked": "The sign-in was unlinked from this account.",
}


def _row(factor: Factor) -> dict[str, str]:
    return {
        "id": factor.factor_id,
        "name": factor.name,
        "created": when(factor.created_at),
        "last_used": when(factor.last_used_at),
        "synced": "synced" if factor.backup_eligible else "this device only",
    }


async def overview_page(
    v: Visit, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    provider, user = v.provider, v.user
    factors = await provider.store.factors.list(user.sub)
    codes = await provider.store.factors.recovery_codes(user.sub)
    attack = await last_attack_at(provider, user.sub)
    context: dict[str, Any] = {
        "user": user,
        "done": DONE.get(v.request.query_params.get("done", ""), ""),
        "errors": errors or {},
        "fresh": v.fresh,
        "reauth_url": v.url("/account/confirm"),
        "totp": [_row(f) for f in factors if f.kind == TOTP],
        "passkeys": [_row(f) for f in factors if f.kind == PASSKEY],
        "codes": codes,
        "codes_used_at": when(codes.last_used_at) if codes.last_used_at else "",
        "attack_at": when(attack) if attack else "",
        "signed_in_at": when(v.session.auth_time),
        "sessions": await session_rows(v),
        "apps": await app_rows(v),
        "ciba": await ciba.context(v),  # CIBA requests waiting for the user
        **await connection_rows.context(v),
    }
    nonce = ""
    if v.fresh:
        ceremony = await passkeys.begin_registration(provider, user)
        nonce = pages.new_nonce()
        context["passkey_options"] = ceremony.options_json
        context["passkey_state"] = ceremony.state
    return v.render("account.html", context, status=status, nonce=nonce)


async def account(request: Request) -> Response:
    async def run() -> Response:
        v = await visit(request)
        if isinstance(v, Response):
            return v
        return await overview_page(v)

    return await render.guarded(request, run, kind="page", after_post=False)


async def confirm(request: Request) -> Response:
    """``GET /account/confirm``: sign in again before a security change."""

    async def run() -> Response:
        v = await visit(request)
        return v if isinstance(v, Response) else reauthenticate(v)

    return await render.guarded(request, run, kind="page", after_post=False)
