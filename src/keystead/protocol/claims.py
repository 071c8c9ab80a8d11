"""User claims (OIDC Core §5.1): by scope (§5.4) and by the claims request parameter (§5.5)."""

from __future__ import annotations

import json
from typing import Any

from keystead.errors import OAuthError
from keystead.protocol.scopes import SCOPE_CLAIMS
from keystead.store.base import User

STANDARD_CLAIMS = frozenset(c for names in SCOPE_CLAIMS.values() for c in names)
CLAIMS_TARGETS = ("userinfo", "id_token")


def available_claims(user: User) -> dict[str, Any]:
    claims: dict[str, Any] = {
        k: v for k, v in user.profile.items() if k in STANDARD_CLAIMS and k != "sub"
    }
    claims.update(
        {
            "sub": user.sub,
            "name": user.name,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "preferred_username": user.username,
            "updated_at": user.updated_at or user.created_at,
            "email": user.email,
            "email_verified": user.email_verified if user.email else None,
        }
    )
    return claims


def user_claims(
    user: User, scopes: tuple[str, ...], requested: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Claims of the granted scopes plus individually requested ones (§5.5); claims with no
    value are omitted (§5.3.2)."""
    available = available_claims(user)
    names = [n for scope in scopes for n in SCOPE_CLAIMS.get(scope, ())] + list(requested)
    claims: dict[str, Any] = {"sub": user.sub}
    for name in names:
        value = available.get(name)
        if value is not None:
            claims[name] = value
    return claims


def parse_claims_request(raw: str | None) -> dict[str, Any]:
    """OIDC Core §5.5: a JSON object with optional "userinfo" and "id_token" members, each
    mapping claim names to null or {"essential": bool, "value": v, "values": [...]}."""
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except RecursionError:  # nested past the interpreter's stack
        raise OAuthError("claims-malformed", "The claims parameter is nested too deeply.") from None
    except ValueError as exc:
        raise OAuthError("claims-malformed", "The claims parameter is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise OAuthError("claims-malformed", "The claims parameter must be a JSON object.")
    out: dict[str, Any] = {}
    for target, members in value.items():
        if target not in CLAIMS_TARGETS:
            continue  # §5.5: unknown members are ignored
        if not isinstance(members, dict):
            raise OAuthError(
                "claims-malformed", f"claims.{target} must be a JSON object of claim names."
            )
        for name, spec in members.items():
            if spec is None:
                continue
            if not isinstance(spec, dict):
                raise OAuthError(
                    "claims-malformed",
                    f"claims.{target}.{name} must be null or an object with essential, value "
                    "or values.",
                )
            if "essential" in spec and not isinstance(spec["essential"], bool):
                raise OAuthError(
                    "claims-malformed", f"claims.{target}.{name}.essential must be true or false."
                )
            if "values" in spec and not isinstance(spec["values"], list):
                raise OAuthError(
                    "claims-malformed", f"claims.{target}.{name}.values must be an array."
                )
        out[target] = members
    return out


def requested_names(claims_request: dict[str, Any], target: str) -> tuple[str, ...]:
    return tuple(claims_request.get(target, {}))
