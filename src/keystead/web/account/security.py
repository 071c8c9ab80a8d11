"""The account page's changes: password (the current one required), authenticator app
enrolment confirmed by a first code, removal of a sign-in method, new recovery codes (shown
once), a new passkey. Each needs the CSRF token; factors and passkeys a fresh sign-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import passkeys, second_factor, totp
from keystead.accounts.reset import policy_problem
from keystead.accounts.webauthn import PasskeyError
from keystead.protocol import backchannel
from keystead.secrets_util import random_token
from keystead.services import oauth1 as oauth1_tokens
from keystead.store.base import DuplicateError
from keystead.store.factors import TOTP, Factor
from keystead.web import render
from keystead.web.account.common import Visit, check_csrf, reauthenticate, visit
from keystead.web.account.overview import overview_page
from keystead.web.parse import read_form

_ENROLMENT_AAD = b"keystead totp enrolment v1|"
MAX_NAME = 64

Handler = Callable[[Visit, dict[str, str]], Awaitable[Response]]


async def _post(request: Request, handler: Handler, *, sensitive: bool = True) -> Response:
    async def run() -> Response:
        v = await visit(request)
        if isinstance(v, Response):
            return v
        form = dict(await read_form(request))
        check_csrf(v, form)
        if sensitive and not v.fresh:
            return reauthenticate(v)
        return await handler(v, form)

    return await render.guarded(request, run, kind="page", after_post=True)


def _name(form: dict[str, str], default: str) -> str:
    return " ".join(form.get("name", "").split())[:MAX_NAME] or default


# --- password ---


async def _password(v: Visit, form: dict[str, str]) -> Response:
    provider, user = v.provider, v.user
    current, new = form.get("current_password", ""), form.get("new_password", "")
    if not await provider.hasher.verify(user.password_hash, current):
        errors = {"current_password": "That is not your current password."}
        return await overview_page(v, errors=errors, status=400)
    problem = policy_problem(provider, user, new)
    if problem:
        return await overview_page(v, errors={"new_password": problem}, status=400)
    if new != form.get("confirm_password", ""):
        errors = {"confirm_password": "The two new passwords differ."}
        return await overview_page(v, errors=errors, status=400)
    now = provider.now()
    await provider.store.users.set_password(user.sub, await provider.hasher.hash(new), now)
    # The other sessions end and grants are revoked: whoever knew the old password is out.
    cookie_hash = v.session.session_hash
    ending = await backchannel.other_sessions(provider, user.sub, keep=cookie_hash)
    await backchannel.notify(provider, sub=user.sub, sids=ending)
    await provider.store.users.sign_out_everywhere(user.sub, now, keep=cookie_hash)
    await oauth1_tokens.revoke_all(provider, user.sub, now)  # OAuth 1.0a consumers too
    provider.events.emit("user.password_changed", sub=user.sub, by="user")
    return v.back("password")


async def password(request: Request) -> Response:
    return await _post(request, _password, sensitive=False)  # the current password is proof


# --- authenticator app ---


def _totp_page(v: Visit, secret: str, *, error: str = "", status: int = 200) -> Response:
    sealed = v.provider.kek.encrypt(secret.encode(), _ENROLMENT_AAD + v.user.sub.encode())
    label = urlsplit(v.provider.settings.issuer).netloc  # what the app lists it under
    uri = totp.provisioning_uri(secret, v.user.username, label)
    context = {
        "qr": totp.qr_data_uri(uri),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "enrolment": sealed,
        "action": v.url("/account/totp"),
        "error": error,
    }
    return v.render("account_totp.html", context, status=status)


async def totp_start(request: Request) -> Response:
    """``GET /account/totp``: a new secret, as a QR code and as text."""

    async def run() -> Response:
        v = await visit(request)
        if isinstance(v, Response):
            return v
        if not v.fresh:
            return reauthenticate(v)
        return _totp_page(v, totp.new_secret())

    return await render.guarded(request, run, kind="page", after_post=False)


async def _totp_confirm(v: Visit, form: dict[str, str]) -> Response:
    provider, user = v.provider, v.user
    try:
        aad = _ENROLMENT_AAD + user.sub.encode()
        secret = provider.kek.decrypt(form.get("enrolment", ""), aad).decode()
    except ValueError:
        return v.back()  # altered or from another account: start again
    now = provider.now()
    step = totp.matching_step(secret, form.get("code", ""), now)
    if step is None:
        error = "That code is not right. Scan the QR code again and enter the current code."
        return _totp_page(v, secret, error=error, status=400)
    existing = await provider.store.factors.list(user.sub)
    if any(f.kind == TOTP for f in existing):
        return v.back()  # one authenticator app per account (a double submit lands here)
    factor = Factor(
        factor_id=random_token(16),
        sub=user.sub,
        kind=TOTP,
        name=_name(form, "Authenticator app"),
        created_at=now,
        last_used_at=now,
        secret_enc=totp.seal(provider.kek, user.sub, secret),
        last_step=step,  # the confirming code is used: RFC 6238 §5.2
    )
    try:
        await provider.store.factors.add(factor)
    except DuplicateError:
        return v.back()
    provider.events.emit("mfa.enrolled", sub=user.sub, kind=TOTP, factor_id=factor.factor_id)
    if (await provider.store.factors.recovery_codes(user.sub)).generated_at is None:
        return _codes_page(v, await second_factor.set_recovery_codes(provider, user.sub))
    return v.back("totp")


async def totp_enrolment(request: Request) -> Response:
    """``/account/totp``: GET shows a new secret, POST confirms it with a first code."""
    if request.method == "POST":
        return await _post(request, _totp_confirm)
    return await totp_start(request)


# --- removal, recovery codes, passkeys ---


async def _remove(v: Visit, form: dict[str, str]) -> Response:
    factor_id = form.get("factor_id", "")
    if await v.provider.store.factors.delete(v.user.sub, factor_id):
        v.provider.events.emit("mfa.removed", sub=v.user.sub, factor_id=factor_id)
    if not await v.provider.store.factors.has_any(v.user.sub):
        await v.provider.store.factors.set_recovery_codes(v.user.sub, [], v.provider.now())
    return v.back("removed")


async def remove(request: Request) -> Response:
    return await _post(request, _remove)


def _codes_page(v: Visit, codes: list[str]) -> Response:
    return v.render("account_codes.html", {"codes": codes})


async def _recovery_codes(v: Visit, form: dict[str, str]) -> Response:
    if not await v.provider.store.factors.has_any(v.user.sub):
        return v.back()  # codes stand in for a factor: none without one
    return _codes_page(v, await second_factor.set_recovery_codes(v.provider, v.user.sub))


async def recovery_codes(request: Request) -> Response:
    return await _post(request, _recovery_codes)


async def _passkey(v: Visit, form: dict[str, str]) -> Response:
    try:
        await passkeys.finish_registration(
            v.provider,
            v.user,
            form.get("credential", ""),
            form.get("passkey_state", ""),
            _name(form, "Passkey"),
        )
    except PasskeyError as exc:
        v.provider.events.emit("mfa.failed", sub=v.user.sub, reason=exc.code)
        return await overview_page(v, errors={"passkey": exc.reason}, status=400)
    return v.back("passkey")


async def add_passkey(request: Request) -> Response:
    return await _post(request, _passkey)
