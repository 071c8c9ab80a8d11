"""Passkeys on the sign-in pages: ``POST /login/passkey`` (a passwordless sign-in from the
login page's button or its autofill), and the check of a passkey given as the second factor
(``POST /login/factor``, web/factor.py). The WebAuthn work is accounts/passkeys.py's.

A passkey with user verification is a full sign-in on its own (amr e.g. ``swk user mfa``,
acr ``phr``): something the user has, unlocked by something they know or are. The words
shown after a refusal never say whether an account exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import passkeys
from keystead.accounts.webauthn import PasskeyError, credential_id_of
from keystead.protocol import acr
from keystead.secrets_util import b64url
from keystead.web.authorize import _Flow, _guard, _resume, start_session
from keystead.web.parse import read_form

if TYPE_CHECKING:
    from keystead.provider import Provider


async def owner_of(provider: Provider, credential_json: str) -> str | None:
    """The account a (possibly refused) response names by its credential id, for the event
    log only; None when it names none registered here."""
    try:
        credential_id = b64url(credential_id_of(credential_json)).decode("ascii")
    except PasskeyError:
        return None
    factor = await provider.store.factors.get_by_credential(credential_id)
    return factor.sub if factor is not None else None


async def refused(provider: Provider, request: Request, credential: str, exc: PasskeyError) -> None:
    provider.events.emit(
        "mfa.failed",
        sub=await owner_of(provider, credential),
        ip=request.client.host if request.client else None,
        method="passkey",
        reason=exc.code,
    )


async def second_factor(
    provider: Provider, request: Request, form: dict[str, str], sub: str
) -> tuple[tuple[str, ...], str]:
    """A passkey given as the second factor of ``sub``: (the methods it adds, "") or ((),
    the words for the page)."""
    credential = form.get("credential", "")
    try:
        signed = await passkeys.finish_sign_in(
            provider, credential, form.get("passkey_state", ""), sub
        )
    except PasskeyError as exc:
        await refused(provider, request, credential, exc)
        return (), exc.reason
    return signed.methods, ""


async def passkey_login(request: Request) -> Response:
    """The login page's passkey (button or autofill): no username, no password."""

    async def run() -> Response:
        flow = _Flow(request, after_post=True)
        form = dict(await read_form(request))
        interaction, areq = await _resume(flow, form)
        provider = flow.provider
        credential = form.get("credential", "")
        try:
            signed = await passkeys.finish_sign_in(
                provider, credential, form.get("passkey_state", ""), None
            )
            user = await provider.store.users.get(signed.factor.sub)
            if user is None:  # deleted since: as if the passkey were unknown
                raise PasskeyError(
                    "This passkey is not registered here (it may have been removed); "
                    "sign in another way.",
                    "unknown-credential",
                )
        except PasskeyError as exc:
            await refused(provider, request, credential, exc)
            page = await flow.login_page(areq, interaction.started_at, error=exc.reason, status=400)
            return flow.finish(page)
        return await start_session(
            flow, areq, interaction, user, acr.with_factor((), signed.methods)
        )

    return await _guard(request, run, after_post=True)
