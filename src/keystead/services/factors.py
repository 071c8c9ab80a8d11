"""An operator's part in a user's second factors: list them, reset them ("I lost my phone"),
import a TOTP secret from another provider (a migration: the user's app keeps working).

The CLI and the admin API call these; each change emits one audit event (``mfa.reset``,
``mfa.totp_imported``) with its ``Actor``. The user's own enrolment and sign-in steps are
accounts/ and web/account/. Users are addressed by sub; ``sub_of`` resolves the username the
command line takes. No view here ever holds a secret, a sealed secret or a public key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keystead.accounts import totp
from keystead.secrets_util import random_token
from keystead.services.common import Actor, Conflict, NotFound, ServiceError, audit
from keystead.store.base import DuplicateError, User
from keystead.store.factors import TOTP, Factor

if TYPE_CHECKING:
    from keystead.provider import Provider

DEFAULT_TOTP_NAME = "Authenticator app"
MAX_NAME = 64
# Base32 of 1024 bits is 205 characters; allow spaces and padding around them, no more
# (every secret an app or provider shows is 80 to 512 bits).
MAX_SECRET_TEXT = 512


@dataclass(frozen=True, slots=True)
class Removed:
    """What a reset removed: factors, and the recovery codes that were still unused."""

    factors: int
    recovery_codes: int


def factor_view(factor: Factor) -> dict[str, Any]:
    """A factor as an operator sees it: never its secret or public key."""
    return {
        "factor_id": factor.factor_id,
        "kind": factor.kind,
        "name": factor.name,
        "created_at": factor.created_at,
        "last_used_at": factor.last_used_at,
    }


async def _user(provider: Provider, sub: str) -> User:
    user = await provider.store.users.get(sub)
    if user is None:
        raise NotFound("sub", f"No user {sub}.")
    return user


async def sub_of(provider: Provider, username: str) -> str:
    """The sub of the user named ``username`` (the command line's way to name a user)."""
    user = await provider.store.users.get_by_username(username)
    if user is None:
        raise NotFound("username", f"No user named {username}.")
    return user.sub


async def list_factors(provider: Provider, sub: str) -> dict[str, Any]:
    """The user's factors (oldest first) and the state of their recovery codes."""
    await _user(provider, sub)
    factors = await provider.store.factors.list(sub)
    codes = await provider.store.factors.recovery_codes(sub)
    return {
        "sub": sub,
        "factors": [factor_view(f) for f in factors],
        "recovery_codes": {
            "left": codes.left,
            "generated_at": codes.generated_at,
            "last_used_at": codes.last_used_at,
        },
    }


async def reset_factors(provider: Provider, sub: str, actor: Actor) -> Removed:
    """Remove every factor and recovery code of the user: they sign in with the password
    alone again and may enrol anew. Sessions stay (their amr says what they were)."""
    await _user(provider, sub)
    codes = (await provider.store.factors.recovery_codes(sub)).left
    factors = await provider.store.factors.reset(sub)
    removed = Removed(factors=factors, recovery_codes=codes)
    audit(
        provider,
        actor,
        "mfa.reset",
        sub=sub,
        factors=removed.factors,
        recovery_codes=removed.recovery_codes,
    )
    return removed


def check_name(name: str | None) -> str:
    label = (name or "").strip() or DEFAULT_TOTP_NAME
    if len(label) > MAX_NAME or not label.isprintable():
        raise ServiceError("name", f"The name must be at most {MAX_NAME} printable characters.")
    return label


def check_secret(secret_text: str) -> str:
    """The secret in canonical base32, or a ServiceError naming what is wrong with it."""
    if len(secret_text) > MAX_SECRET_TEXT:
        raise ServiceError("secret", f"The secret is longer than {MAX_SECRET_TEXT} characters.")
    try:
        return totp.normalize_secret(secret_text)
    except ValueError as exc:
        raise ServiceError("secret", f"Not a TOTP secret: {exc}.") from None


async def import_totp(
    provider: Provider, sub: str, secret_text: str, name: str | None, actor: Actor
) -> Factor:
    """Store a TOTP secret the user already has in an app (base32, as providers show it),
    sealed under the key-encryption key and bound to the user. One authenticator app per
    user: a second is a Conflict (reset first)."""
    label = check_name(name)
    secret = check_secret(secret_text)
    user = await _user(provider, sub)
    if any(f.kind == TOTP for f in await provider.store.factors.list(sub)):
        raise Conflict(
            "sub",
            f"User {user.username} already has an authenticator app; reset their factors first.",
        )
    factor = Factor(
        factor_id=random_token(16),
        sub=sub,
        kind=TOTP,
        name=label,
        created_at=provider.now(),
        secret_enc=totp.seal(provider.kek, sub, secret),
        last_step=0,
    )
    try:
        await provider.store.factors.add(factor)
    except LookupError:  # deleted in between
        raise NotFound("sub", f"No user {sub}.") from None
    except DuplicateError:  # 128 random bits met another: astronomically unlikely
        raise Conflict("secret", "Could not store the factor; try again.") from None
    audit(provider, actor, "mfa.totp_imported", sub=sub, factor_id=factor.factor_id)
    return factor
