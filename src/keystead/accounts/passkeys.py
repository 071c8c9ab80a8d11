"""Passkeys as keystead uses them: register one to an account, and sign in with one — as the
only factor (passwordless: a discoverable credential with user verification) or as the
second. The WebAuthn checks are accounts/webauthn.py's; the challenge state is
accounts/passkey_challenges.py's; the stored record is a ``Factor`` of kind ``PASSKEY``.

The user handle given to authenticators is the account's ``sub`` (opaque; WebAuthn L2 §14.6.1
asks that it hold no personal information).
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystead.accounts.passkey_challenges import Challenges
from keystead.accounts.webauthn import (
    TIMEOUT_MS,
    PasskeyError,
    RelyingParty,
    authentication_options,
    credential_id_of,
    registration_options,
    relying_party,
    user_handle_of,
    verify_authentication,
    verify_registration,
)
from keystead.jose.kek import KeyEncryptor
from keystead.protocol.acr import methods_of
from keystead.secrets_util import b64url, random_token
from keystead.store.base import DuplicateError, User
from keystead.store.factors import PASSKEY, Factor

if TYPE_CHECKING:
    from keystead.provider import Provider

MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class Ceremony:
    options_json: str  # for the page's <script type="application/json"> (script-safe)
    state: str  # signed challenge state, sent back with the response


@dataclass(frozen=True, slots=True)
class SignedIn:
    factor: Factor
    methods: tuple[str, ...]  # what the session gains (RFC 8176: hwk|swk, user)


def _text(raw: bytes) -> str:
    return b64url(raw).decode("ascii")


def _raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=8)
def _relying_party(issuer: str) -> RelyingParty:
    return relying_party(issuer)


def rp_of(provider: Provider) -> RelyingParty:
    return _relying_party(provider.settings.issuer)


# One signer per key-encryption key: deriving its key costs more than signing a state, and
# every login page signs one (the autofill's ceremony).
_CHALLENGES: dict[int, tuple[KeyEncryptor, Challenges]] = {}


def challenges(provider: Provider) -> Challenges:
    kek = provider.kek
    cached = _CHALLENGES.get(id(kek))
    if cached is None or cached[0] is not kek:
        if len(_CHALLENGES) > 16:
            _CHALLENGES.clear()
        cached = (kek, Challenges(kek.derive("passkey-challenge")))
        _CHALLENGES[id(kek)] = cached
    return cached[1]


def passwordless_options(rp: RelyingParty, challenge: bytes) -> str:
    """The options of a passwordless ceremony (no allow list, user verification required):
    what ``authentication_options`` returns for them, formatted directly — every login page
    carries one, and the library's model round trip cost more than the rest of the page.
    tests/accounts/test_passkeys.py keeps the two equal."""
    return json.dumps(
        {
            "challenge": _text(challenge),
            "timeout": TIMEOUT_MS,
            "rpId": rp.rp_id,
            "allowCredentials": [],
            "userVerification": "required",
        },
        separators=(",", ":"),
    )


async def begin_registration(provider: Provider, user: User) -> Ceremony:
    state, challenge = challenges(provider).issue("register", user.sub, provider.now())
    mine = await provider.store.factors.list(user.sub)
    options = registration_options(
        rp_of(provider),
        user_handle=user.sub.encode(),
        username=user.username,
        display_name=user.name or user.username,
        exclude=[_raw(f.credential_id) for f in mine if f.credential_id],
        challenge=challenge,
    )
    return Ceremony(options, state)


async def finish_registration(
    provider: Provider, user: User, credential_json: str, state: str, name: str
) -> Factor:
    """Verify the new credential and store it; PasskeyError with words for the page."""
    now = provider.now()
    challenge = await challenges(provider).consume(
        provider.store.markers, state, "register", user.sub, now
    )
    new = verify_registration(rp_of(provider), credential_json, challenge)
    label = " ".join(name.split())[:MAX_NAME] or "Passkey"
    factor = Factor(
        factor_id=random_token(16),
        sub=user.sub,
        kind=PASSKEY,
        name=label,
        created_at=now,
        credential_id=_text(new.credential_id),
        public_key=_text(new.public_key),
        sign_count=new.sign_count,
        backup_eligible=new.backup_eligible,
        backup_state=new.backup_state,
        transports=new.transports,
    )
    try:
        await provider.store.factors.add(factor)
    except DuplicateError:
        raise PasskeyError("This passkey is already registered.", "duplicate") from None
    provider.events.emit("mfa.enrolled", sub=user.sub, kind=PASSKEY, factor_id=factor.factor_id)
    return factor


async def begin_sign_in(provider: Provider, sub: str | None) -> Ceremony:
    """``sub`` None: passwordless (any discoverable credential, user verification required);
    else a second factor for that account (its passkeys allowed)."""
    state, challenge = challenges(provider).issue("login", sub, provider.now())
    if sub is None:  # a host name and base64url: nothing to escape for a <script> element
        return Ceremony(passwordless_options(rp_of(provider), challenge), state)
    allow: list[bytes] = []
    if sub is not None:
        factors = await provider.store.factors.list(sub)
        allow = [_raw(f.credential_id) for f in factors if f.credential_id]
    options = authentication_options(
        rp_of(provider),
        challenge=challenge,
        allow=allow,
        user_verification="required" if sub is None else "preferred",
    )
    return Ceremony(options, state)


async def finish_sign_in(
    provider: Provider, credential_json: str, state: str, sub: str | None
) -> SignedIn:
    """The passkey's factor after a verified assertion (the counter stored once, atomically);
    PasskeyError otherwise. ``sub`` as for ``begin_sign_in``."""
    now = provider.now()
    challenge = await challenges(provider).consume(provider.store.markers, state, "login", sub, now)
    factor = await provider.store.factors.get_by_credential(
        _text(credential_id_of(credential_json))
    )
    if factor is None or factor.public_key is None or (sub is not None and factor.sub != sub):
        raise PasskeyError(
            "This passkey is not registered here (it may have been removed); sign in another way.",
            "unknown-credential",
        )
    if sub is None and user_handle_of(credential_json) is None:
        raise PasskeyError("This passkey did not say which account it is for.", "user-handle")
    use = verify_authentication(
        rp_of(provider),
        credential_json,
        challenge,
        public_key=_raw(factor.public_key),
        sign_count=factor.sign_count,
        require_user_verification=sub is None,
        owner_handle=factor.sub.encode(),
        user_identified=sub is not None,
    )
    if not await provider.store.factors.use_passkey(
        factor.factor_id, factor.sign_count, use.new_sign_count, use.backup_state, now
    ):
        raise PasskeyError("This passkey was just used; start again.", "replayed")
    methods = methods_of(factor)
    if not use.user_verified:
        methods = tuple(m for m in methods if m != "user")
    provider.events.emit("mfa.succeeded", sub=factor.sub, method=PASSKEY)
    return SignedIn(factor, methods)
