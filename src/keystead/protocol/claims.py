"""User claims by scope (OIDC Core §5.1, §5.4)."""

from __future__ import annotations

from typing import Any

from keystead.protocol.scopes import SCOPE_CLAIMS
from keystead.store.base import User


def user_claims(user: User, scopes: tuple[str, ...]) -> dict[str, Any]:
    available: dict[str, Any] = {
        "sub": user.sub,
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.username,
        "updated_at": user.updated_at or user.created_at,
        "email": user.email,
        "email_verified": user.email_verified if user.email else None,
    }
    claims: dict[str, Any] = {"sub": user.sub}
    for scope in scopes:
        for name in SCOPE_CLAIMS.get(scope, ()):
            value = available.get(name)
            if value is not None:  # OIDC Core §5.3.2: omit claims with no value
                claims[name] = value
    return claims
