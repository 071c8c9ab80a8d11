"""Register APIs (resource servers): identifier, owned scopes, token format, credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from keystead.protocol import scopes
from keystead.secrets_util import random_token, sha256_hex
from keystead.store.base import Api, Store

TOKEN_FORMATS = ("jwt", "opaque")


class ApiSpecError(ValueError):
    """Invalid API data; the message says what to change."""


@dataclass
class ApiSpec:
    identifier: str
    name: str = ""
    scopes: list[tuple[str, str]] = field(default_factory=list)
    token_format: str = "jwt"
    access_token_ttl: int = 3600
    with_secret: bool = False


def parse_scope_option(value: str) -> tuple[str, str]:
    """``NAME`` or ``NAME=description``."""
    name, _, description = value.partition("=")
    return name.strip(), description.strip() or f"Access {name.strip()}"


async def validate_spec(store: Store, spec: ApiSpec) -> None:
    parts = urlsplit(spec.identifier)
    # RFC 8707 §2: an absolute URI without a fragment.
    if not parts.scheme or "#" in spec.identifier:
        raise ApiSpecError(
            f"identifier {spec.identifier} must be an absolute URI without a fragment, "
            "e.g. https://api.example.com"
        )
    if spec.token_format not in TOKEN_FORMATS:
        raise ApiSpecError("token format must be jwt or opaque.")
    if not 30 <= spec.access_token_ttl <= 86400:
        raise ApiSpecError("access token lifetime must be between 30 s and 24 h.")
    owned: dict[str, str] = {}
    for other in await store.apis.list():
        for name in other.scope_names:
            owned[name] = other.identifier
    for name, _ in spec.scopes:
        if not name or not scopes.is_valid_token(name):
            raise ApiSpecError(f"scope {name!r} is not a valid scope name (RFC 6749 §3.3).")
        if name in scopes.SCOPES_SUPPORTED:
            raise ApiSpecError(f"scope {name} is an OpenID Connect scope; choose another name.")
        if name in owned:
            raise ApiSpecError(
                f"scope {name} already belongs to the API {owned[name]}; a scope name belongs "
                "to one API, so prefix it (e.g. notes:read)."
            )


async def create_api(store: Store, spec: ApiSpec, now: int) -> tuple[Api, str | None]:
    await validate_spec(store, spec)
    secret = random_token(32) if spec.with_secret else None
    api = Api(
        api_id=random_token(12),
        identifier=spec.identifier,
        name=spec.name or spec.identifier,
        scopes=tuple(spec.scopes),
        token_format=spec.token_format,
        access_token_ttl=spec.access_token_ttl,
        created_at=now,
        secret_hash=sha256_hex(secret) if secret else None,
    )
    await store.apis.add(api)
    return api, secret


def api_view(api: Api) -> dict[str, Any]:
    return {
        "api_id": api.api_id,
        "identifier": api.identifier,
        "name": api.name,
        "scopes": {name: description for name, description in api.scopes},
        "token_format": api.token_format,
        "access_token_ttl": api.access_token_ttl,
        "has_secret": api.secret_hash is not None,
        "created_at": api.created_at,
    }
