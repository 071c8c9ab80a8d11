"""API (resource server) operations: identifier, owned scopes, token format, credentials.

``create``, ``update`` and ``delete`` own their side effects: the provider's API index is
dropped and one audit event is emitted, whichever channel (CLI, admin API) asked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.protocol import rar, scopes
from keystead.protocol.admin_auth import ADMIN_API_PATH, ADMIN_SCOPE
from keystead.secrets_util import random_token, sha256_hex
from keystead.services.common import Actor, Conflict, NotFound, ServiceError, audit
from keystead.store.base import Api, DuplicateError, Store

if TYPE_CHECKING:
    from keystead.provider import Provider

TOKEN_FORMATS = ("jwt", "opaque")


class ApiSpecError(ServiceError):
    """Invalid API data: ``field`` names it, the message says what to change."""


@dataclass
class ApiSpec:
    identifier: str
    name: str = ""
    scopes: list[tuple[str, str]] = field(default_factory=list)
    token_format: str = "jwt"
    access_token_ttl: int = 3600
    with_secret: bool = False
    # The API scopes a client registering itself (RFC 7591/7592) may ask for; none by default.
    self_registration_scopes: list[str] = field(default_factory=list)
    # RFC 9396: the authorization_details types this API accepts (protocol/rar.py).
    authorization_details_types: list[str] = field(default_factory=list)


def parse_scope_option(value: str) -> tuple[str, str]:
    """``NAME`` or ``NAME=description``."""
    name, _, description = value.partition("=")
    return name.strip(), description.strip() or f"Access {name.strip()}"


async def validate_spec(store: Store, spec: ApiSpec, *, api_id: str | None = None) -> None:
    """``api_id``: the API being updated (its own scopes are not a conflict)."""
    parts = urlsplit(spec.identifier)
    # RFC 8707 §2: an absolute URI without a fragment.
    if not parts.scheme or "#" in spec.identifier:
        raise ApiSpecError(
            "identifier",
            f"The identifier {spec.identifier} must be an absolute URI without a fragment, "
            "e.g. https://api.example.com",
        )
    if spec.token_format not in TOKEN_FORMATS:
        raise ApiSpecError("token_format", "The token format must be jwt or opaque.")
    if not 30 <= spec.access_token_ttl <= 86400:
        raise ApiSpecError(
            "access_token_ttl", "The access token lifetime must be between 30 s and 24 h."
        )
    owned: dict[str, str] = {}
    for other in await store.apis.list():
        if other.api_id == api_id:
            continue
        for name in other.scope_names:
            owned[name] = other.identifier
    for name, _ in spec.scopes:
        if not name or not scopes.is_valid_token(name):
            raise ApiSpecError(
                "scopes", f"scope {name!r} is not a valid scope name (RFC 6749 §3.3)."
            )
        if name in scopes.SCOPES_SUPPORTED:
            raise ApiSpecError(
                "scopes", f"scope {name} is an OpenID Connect scope; choose another name."
            )
        if name in owned:
            raise ApiSpecError(
                "scopes",
                f"scope {name} already belongs to the API {owned[name]}; a scope name belongs "
                "to one API, so prefix it (e.g. notes:read).",
            )
    check_types(spec.authorization_details_types, await store.apis.list(), api_id)
    names = {name for name, _ in spec.scopes}
    for name in spec.self_registration_scopes:
        if name not in names:
            raise ApiSpecError(
                "self_registration_scopes",
                f"scope {name!r} cannot be open to self-registration: it is not one of this "
                f"API's scopes ({', '.join(sorted(names)) or 'none'}).",
            )


def check_types(types: list[str], apis: list[Api], api_id: str | None) -> None:
    """RFC 9396 §2: each authorization_details type names what one API accepts."""
    owned = {
        t: a.identifier for a in apis if a.api_id != api_id for t in a.authorization_details_types
    }
    for name in types:
        problem = rar.type_problem(name)
        if problem:
            raise ApiSpecError("authorization_details_types", problem)
        if name in owned:
            raise ApiSpecError(
                "authorization_details_types",
                f"authorization_details type {name} already belongs to the API {owned[name]}.",
            )


async def create_api(store: Store, spec: ApiSpec, now: int) -> tuple[Api, str | None]:
    """The store step of ``create`` (also seeds a store no server reads yet)."""
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
        self_registration_scopes=tuple(dict.fromkeys(spec.self_registration_scopes)),
        authorization_details_types=tuple(dict.fromkeys(spec.authorization_details_types)),
    )
    try:
        await store.apis.add(api)
    except DuplicateError:
        raise Conflict(
            "identifier", f"An API with the identifier {spec.identifier} already exists."
        ) from None
    return api, secret


def api_view(api: Api) -> dict[str, Any]:
    return {
        "api_id": api.api_id,
        "identifier": api.identifier,
        "name": api.name,
        "scopes": {name: description for name, description in api.scopes},
        "token_format": api.token_format,
        "access_token_ttl": api.access_token_ttl,
        "self_registration_scopes": list(api.self_registration_scopes),
        "authorization_details_types": list(api.authorization_details_types),
        "has_secret": api.secret_hash is not None,
        "created_at": api.created_at,
    }


# --- the reserved admin API: keystead's own tokens protect /admin/api ---

ADMIN_API_TOKEN_TTL = 600


def is_reserved(api: Api, issuer_url: str) -> bool:
    """The admin API keystead created for itself: it cannot be changed or deleted."""
    return api.identifier == issuer_url + ADMIN_API_PATH


async def ensure_admin_api(store: Store, issuer_url: str, now: int) -> Api:
    """Create the reserved admin API on first start (idempotent; run under the start-up lock):
    JWT access tokens with the audience ``<issuer>/admin/api`` and the scope keystead:admin."""
    identifier = issuer_url + ADMIN_API_PATH
    existing = await store.apis.get_by_identifier(identifier)
    if existing is not None:
        return existing
    api = Api(
        api_id="keystead-admin",
        identifier=identifier,
        name="keystead admin API",
        scopes=((ADMIN_SCOPE, "Administer keystead: clients, APIs, users and keys"),),
        token_format="jwt",
        access_token_ttl=ADMIN_API_TOKEN_TTL,
        created_at=now,
    )
    try:
        await store.apis.add(api)
    except DuplicateError:  # api_id taken (another issuer URL): a random id then
        api = dataclasses.replace(api, api_id=random_token(12))
        await store.apis.add(api)
    return api


async def update_api(
    store: Store,
    api: Api,
    *,
    issuer_url: str,
    name: str | None = None,
    scopes: list[tuple[str, str]] | None = None,
    token_format: str | None = None,
    access_token_ttl: int | None = None,
    rotate_secret: bool = False,
    self_registration_scopes: list[str] | None = None,
    authorization_details_types: list[str] | None = None,
) -> tuple[Api, str | None]:
    """Change an API; its identifier stays (issued tokens carry it as their audience).

    ``scopes`` without ``self_registration_scopes`` keeps the policy for the scopes that stay
    (a scope removed from the API leaves the policy with it)."""
    if is_reserved(api, issuer_url):
        raise Conflict("api_id", "The keystead admin API is reserved; it cannot be changed.")
    spec = ApiSpec(
        identifier=api.identifier,
        name=api.name if name is None else name,
        scopes=list(api.scopes) if scopes is None else scopes,
        token_format=api.token_format if token_format is None else token_format,
        access_token_ttl=api.access_token_ttl if access_token_ttl is None else access_token_ttl,
    )
    if self_registration_scopes is None:
        kept = {name for name, _ in spec.scopes}
        self_registration_scopes = [s for s in api.self_registration_scopes if s in kept]
    spec.self_registration_scopes = self_registration_scopes
    spec.authorization_details_types = list(
        api.authorization_details_types
        if authorization_details_types is None
        else authorization_details_types
    )
    await validate_spec(store, spec, api_id=api.api_id)
    secret = random_token(32) if rotate_secret else None
    updated = dataclasses.replace(
        api,
        name=spec.name or spec.identifier,
        scopes=tuple(spec.scopes),
        token_format=spec.token_format,
        access_token_ttl=spec.access_token_ttl,
        secret_hash=sha256_hex(secret) if secret else api.secret_hash,
        self_registration_scopes=tuple(dict.fromkeys(spec.self_registration_scopes)),
        authorization_details_types=tuple(dict.fromkeys(spec.authorization_details_types)),
    )
    if not await store.apis.update(updated):
        raise NotFound("api_id", f"No API {api.api_id}.")
    return updated, secret


async def delete_api(store: Store, api: Api, *, issuer_url: str) -> None:
    if is_reserved(api, issuer_url):
        raise Conflict("api_id", "The keystead admin API is reserved; it cannot be deleted.")
    if not await store.apis.delete(api.api_id):
        raise NotFound("api_id", f"No API {api.api_id}.")


# --- the operations ---


async def get(provider: Provider, api_id: str, *, or_identifier: bool = False) -> Api:
    """An API by api_id (or, with ``or_identifier``, by its identifier too)."""
    store = provider.store
    api = await store.apis.get(api_id)
    if api is None and or_identifier:
        api = await store.apis.get_by_identifier(api_id)
    if api is None:
        raise NotFound("api_id", f"No API {api_id}.")
    return api


async def list_all(provider: Provider) -> list[Api]:
    return await provider.store.apis.list()


async def create(provider: Provider, spec: ApiSpec, actor: Actor) -> tuple[Api, str | None]:
    """A new API and, with ``spec.with_secret``, its secret in clear (once)."""
    api, secret = await create_api(provider.store, spec, provider.now())
    provider.forget_apis()
    audit(provider, actor, "api.created", api_id=api.api_id)
    return api, secret


async def update(
    provider: Provider,
    api: Api,
    actor: Actor,
    *,
    name: str | None = None,
    scopes: list[tuple[str, str]] | None = None,
    token_format: str | None = None,
    access_token_ttl: int | None = None,
    rotate_secret: bool = False,
    self_registration_scopes: list[str] | None = None,
    authorization_details_types: list[str] | None = None,
) -> tuple[Api, str | None]:
    """Change what is given; a new secret in clear (once) with ``rotate_secret``.
    ``self_registration_scopes``: the API scopes clients registering themselves may ask for
    (RFC 7591/7592; issue 18 #4), ``[]`` for none."""
    updated, secret = await update_api(
        provider.store,
        api,
        issuer_url=provider.settings.issuer,
        name=name,
        scopes=scopes,
        token_format=token_format,
        access_token_ttl=access_token_ttl,
        rotate_secret=rotate_secret,
        self_registration_scopes=self_registration_scopes,
        authorization_details_types=authorization_details_types,
    )
    provider.forget_apis()
    audit(provider, actor, "api.updated", api_id=api.api_id, new_secret=bool(secret))
    return updated, secret


async def delete(provider: Provider, api: Api, actor: Actor) -> None:
    await delete_api(provider.store, api, issuer_url=provider.settings.issuer)
    provider.forget_apis()
    audit(provider, actor, "api.deleted", api_id=api.api_id)
