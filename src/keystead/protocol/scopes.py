"""Scopes (RFC 6749 §3.3) and the OpenID Connect standard claims they map to (OIDC Core §5.4)."""

from __future__ import annotations

import re

# OIDC Core §5.4: claims requested by each scope.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}
OFFLINE_ACCESS = "offline_access"
# keystead's own scopes (keystead:admin): only for client_credentials of clients an operator
# created; never granted through a user's authorization nor to a registered client.
RESERVED_PREFIX = "keystead:"
SCOPES_SUPPORTED = ("openid", "profile", "email", "address", "phone", OFFLINE_ACCESS)

# Words shown on the consent page.
DESCRIPTIONS: dict[str, str] = {
    "openid": "Sign you in with your account",
    "profile": "See your name and username",
    "email": "See your email address",
    "address": "See your postal address",
    "phone": "See your phone number",
    OFFLINE_ACCESS: "Stay connected when you are not using it",
}

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def parse(scope: str | None) -> tuple[str, ...]:
    """Split a scope string, keeping order and dropping repeats."""
    seen = dict.fromkeys((scope or "").split(" "))
    seen.pop("", None)  # from repeated, leading or trailing spaces
    return tuple(seen)


def is_valid_token(token: str) -> bool:
    return bool(_SCOPE_TOKEN.fullmatch(token))


def join(scopes: tuple[str, ...] | list[str]) -> str:
    return " ".join(scopes)


def allowed(requested: tuple[str, ...], client_scope: str) -> tuple[str, ...]:
    """RFC 6749 §3.3: the server may grant fewer scopes than requested."""
    permitted = set(parse(client_scope))
    return tuple(s for s in requested if s in permitted)


def describe(scope: str) -> str:
    return DESCRIPTIONS.get(scope, f"Access {scope}")


def is_reserved(scope: str) -> bool:
    return scope.startswith(RESERVED_PREFIX)
