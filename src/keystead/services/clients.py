"""Client operations: create, update, rotate the secret, delete (RFC 7591 metadata names).

The rules for what a client may be are protocol/client_metadata.py's; this module stores
clients and owns each operation's side effects: the provider's client cache, the audit event
(one name per operation whichever channel asked) and the secret shown once. The CLI, the admin
API, dynamic registration and the demo call ``create``, ``update``, ``rotate_secret`` and
``delete``; ``create_client`` and ``update_client`` are the store steps beneath them (and seed
a store no server reads yet: tests, the benchmark).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keystead.jose.kek import KeyEncryptor
from keystead.net import sector_identifier
from keystead.net.fetch import SafeFetcher
from keystead.protocol import (
    client_assertion,
    fapi,
    jar_metadata,
    mtls_metadata,
    pairwise,
    response_metadata,
    scopes,
)
from keystead.protocol.acr import requires_mfa
from keystead.protocol.ciba_metadata import CIBA_METADATA
from keystead.protocol.client_metadata import (
    DESCRIPTIVE_METADATA,
    SECRET_METHODS,
    ClientSpec,
    MetadataError,
    check_allowed_origins,
    client_view,
    spec_of,
)
from keystead.protocol.client_metadata import validate as validate_metadata
from keystead.secrets_util import random_id, random_token, sha256_hex
from keystead.services import client_policy
from keystead.services.common import Actor, Conflict, NotFound, ServiceError, audit
from keystead.store.base import Client, DuplicateError, Position, Store

if TYPE_CHECKING:
    from keystead.provider import Provider

__all__ = [
    "DESCRIPTIVE_METADATA",
    "SECRET_METHODS",
    "ClientSpec",
    "ClientSpecError",
    "client_view",
    "create",
    "create_client",
    "delete",
    "get",
    "operator_view",
    "requires_mfa",
    "rotate_secret",
    "spec_of",
    "update",
    "update_client",
    "validate_spec",
]


class ClientSpecError(ServiceError):
    """Invalid client metadata: ``field`` names it, the message says what to change."""


def validate_spec(spec: ClientSpec) -> None:
    try:
        validate_metadata(spec)
    except MetadataError as exc:
        raise ClientSpecError(exc.field, exc.message) from None


async def _check_default_resource(store: Store, spec: ClientSpec) -> None:
    if spec.default_resource and await store.apis.get_by_identifier(spec.default_resource) is None:
        raise ClientSpecError(
            "default_resource",
            f"{spec.default_resource} is not the identifier of a registered API.",
        )


def check_profile(client: Client) -> None:
    """The client meets the profile the operator gave it (FAPI 2.0: protocol/fapi.py)."""
    problem = fapi.client_problem(client)
    if problem is not None:
        raise ClientSpecError(*problem)


# --- the store steps ---


async def create_client(
    store: Store,
    spec: ClientSpec,
    now: int,
    *,
    kek: KeyEncryptor | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Client, str | None]:
    """Validate and store a client. Returns the client secret in clear, once.

    ``kek`` is needed for client_secret_jwt, whose secret is kept encrypted (not hashed);
    ``extra`` adds Client.extra entries that are not metadata (a registration token hash)."""
    validate_spec(spec)
    await _check_default_resource(store, spec)
    client_id = spec.client_id or random_id()
    secret = random_token(32) if spec.token_endpoint_auth_method in SECRET_METHODS else None
    sealed = seal_secret(spec, client_id, secret, kek, oauth1=bool((extra or {}).get("oauth1")))
    client = _client(spec, client_id, now, sha256_hex(secret) if secret else None, sealed)
    client.extra.update(extra or {})
    check_profile(client)
    try:
        await store.clients.add(client)
    except DuplicateError:
        raise Conflict(
            "client_id", f"A client with client_id {client_id} already exists."
        ) from None
    return client, secret


def _client(
    spec: ClientSpec, client_id: str, created_at: int, secret_hash: str | None, sealed: str | None
) -> Client:
    extra: dict[str, Any] = auth_extra(spec)
    if sealed is not None:
        extra["client_secret_enc"] = sealed
    if spec.default_resource:
        extra["default_resource"] = spec.default_resource
    if spec.allowed_origins:
        try:
            extra["allowed_origins"] = check_allowed_origins(spec.allowed_origins)
        except MetadataError as exc:
            raise ClientSpecError(exc.field, exc.message) from None
    if spec.post_logout_redirect_uris:
        extra["post_logout_redirect_uris"] = list(spec.post_logout_redirect_uris)
    for name in ("backchannel_logout_uri", "frontchannel_logout_uri"):
        uri = getattr(spec, name)
        if uri is not None:
            extra[name] = uri
            flag = name.replace("_uri", "_session_required")
            extra[flag] = bool(getattr(spec, flag))
    return Client(
        client_id=client_id,
        client_name=spec.client_name.strip(),
        redirect_uris=tuple(spec.redirect_uris),
        grant_types=tuple(spec.grant_types),
        response_types=tuple(spec.response_types),
        scope=scopes.join(scopes.parse(spec.scope)),
        token_endpoint_auth_method=spec.token_endpoint_auth_method,
        client_secret_hash=secret_hash,
        require_pkce=spec.require_pkce,
        skip_consent=spec.skip_consent,
        id_token_signed_response_alg=spec.id_token_signed_response_alg,
        application_type=spec.application_type,
        created_at=created_at,
        extra=extra,
    )


def auth_extra(spec: ClientSpec) -> dict[str, Any]:
    """The Client.extra entries for the authentication method and descriptive metadata."""
    extra: dict[str, Any] = {k: v for k, v in spec.metadata.items() if k in DESCRIPTIVE_METADATA}
    keys = ("jwks", "jwks_uri", "token_endpoint_auth_signing_alg", *CIBA_METADATA)
    for key in (*keys, "dpop_bound_access_tokens"):  # RFC 9449 §5.2
        if getattr(spec, key) not in (None, False):
            extra[key] = getattr(spec, key)
    extra.update(jar_metadata.stored(spec.jar_metadata))  # RFC 9101, RFC 9126 §6, JARM
    extra.update(mtls_metadata.stored(spec.mtls_metadata))  # RFC 8705
    values = {k: getattr(spec, k) for k in response_metadata.RESPONSE_METADATA}
    extra.update(response_metadata.with_defaults(values))
    if pairwise.is_pairwise_spec(spec.subject_type):
        extra[pairwise.SECTOR] = pairwise.sector_of(spec.redirect_uris, spec.sector_identifier_uri)
    return extra


async def check_sector_document(provider: Provider, spec: ClientSpec) -> None:
    """OIDC Registration §5: a pairwise client's sector_identifier_uri lists its redirect
    URIs (fetched through the SSRF guard, when the client is created or updated)."""
    uri = spec.sector_identifier_uri
    if uri is None:
        return
    fetcher = SafeFetcher(allow_private=provider.settings.allow_private_network_fetch)
    try:
        await sector_identifier.check(fetcher, uri, spec.redirect_uris)
    except sector_identifier.SectorDocumentError as exc:
        raise ClientSpecError(pairwise.SECTOR_IDENTIFIER_URI, str(exc)) from None


def seal_secret(
    spec: ClientSpec,
    client_id: str,
    secret: str | None,
    kek: KeyEncryptor | None,
    *,
    oauth1: bool = False,
) -> str | None:
    """client_secret_jwt: the secret is the HMAC key (OIDC Core §9), so it is needed in
    clear — kept encrypted at rest with the key-encryption key, bound to the client_id. So is
    an OAuth 1.0a consumer's (``oauth1``): its HMAC key (RFC 5849 §3.4.2)."""
    if (spec.token_endpoint_auth_method != "client_secret_jwt" and not oauth1) or secret is None:
        return None
    if kek is None:
        raise ClientSpecError(
            "token_endpoint_auth_method",
            "client_secret_jwt and OAuth 1.0a need the key-encryption key to store the secret.",
        )
    return client_assertion.seal_secret(kek, client_id, secret)


# Client.extra entries that belong to the registration or the operator's policy
# (services/client_policy.py), not to the metadata: kept on update (a client updating itself
# through RFC 7592 cannot drop them).
KEPT_ON_UPDATE = ("registration_access_token_hash",)


def operator_view(client: Client) -> dict[str, Any]:
    """What the CLI and the admin API show: the public metadata and the operator's policy
    (not in registration responses: the policy is no RFC 7591 metadata)."""
    return {**client_view(client), **client_policy.view(client)}


def _apply_policy(extra: dict[str, Any], policy: Mapping[str, Any] | None) -> None:
    try:
        client_policy.apply(extra, policy)
    except client_policy.PolicyError as exc:
        raise ClientSpecError(exc.field, exc.message) from None


async def update_client(
    store: Store,
    current: Client,
    spec: ClientSpec,
    *,
    kek: KeyEncryptor | None = None,
    rotate_secret: bool = False,
    policy: Mapping[str, Any] | None = None,
) -> tuple[Client, str | None]:
    """Replace a client's metadata with ``spec``; its client_id and created_at stay, and so
    does its policy, but for the rows ``policy`` changes.

    The secret is kept, unless ``rotate_secret`` or the new method needs a secret the client
    does not have: then a new one is returned in clear, once. One UPDATE: nothing is
    half-written.
    """
    spec.client_id = current.client_id
    validate_spec(spec)
    future = dict(current.extra)
    _apply_policy(future, policy)  # refused before anything is written
    oauth1 = bool(client_policy.get_in(future, "oauth1"))  # its secret kept sealed too
    await _check_default_resource(store, spec)
    method = spec.token_endpoint_auth_method
    secret_hash, sealed, secret = None, None, None
    if method in SECRET_METHODS:
        kept_sealed = current.extra.get("client_secret_enc")
        needs_sealed = method == "client_secret_jwt" or oauth1
        can_keep = current.client_secret_hash is not None and (
            not needs_sealed or isinstance(kept_sealed, str)
        )
        if rotate_secret or not can_keep:
            secret = random_token(32)
            secret_hash = sha256_hex(secret)
            sealed = seal_secret(spec, current.client_id, secret, kek, oauth1=oauth1)
        else:
            secret_hash = current.client_secret_hash
            sealed = kept_sealed if needs_sealed else None
    updated = _client(spec, current.client_id, current.created_at, secret_hash, sealed)
    updated.extra.update({k: current.extra[k] for k in KEPT_ON_UPDATE if k in current.extra})
    updated.extra.update(client_policy.kept(current.extra))
    _apply_policy(updated.extra, policy)
    check_profile(updated)  # RFC 7592 updates too: a FAPI client stays one
    if not await store.clients.update(updated):
        raise NotFound("client_id", f"No client with client_id {current.client_id}.")
    return updated, secret


# --- the operations ---


async def get(provider: Provider, client_id: str) -> Client:
    client = await provider.store.clients.get(client_id)
    if client is None:
        raise NotFound("client_id", f"No client with client_id {client_id}.")
    return client


async def list_all(
    provider: Provider,
    after: Position | None = None,
    limit: int | None = None,
    search: str | None = None,
) -> list[Client]:
    """Clients in (created_at, client_id) order; a page of them with ``after``/``limit``;
    ``search``: those whose client_id or name contains it (the database filters)."""
    return await provider.store.clients.list(after, limit, search)


async def create(
    provider: Provider,
    spec: ClientSpec,
    actor: Actor,
    *,
    extra: dict[str, Any] | None = None,
    policy: Mapping[str, Any] | None = None,
) -> tuple[Client, str | None]:
    """A new client and its secret in clear (once), or None for a method without one;
    ``policy`` sets rows of services/client_policy.py."""
    extra = dict(extra or {})
    _apply_policy(extra, policy)
    validate_spec(spec)  # the static rules first: no fetch for a client refused anyway
    await check_sector_document(provider, spec)
    client, secret = await create_client(
        provider.store, spec, provider.now(), kek=provider.kek, extra=extra
    )
    provider.forget_client(client.client_id)  # a cached miss, and the CORS origins
    audit(provider, actor, "client.created", client_id=client.client_id)
    return client, secret


async def update(
    provider: Provider,
    current: Client,
    spec: ClientSpec,
    actor: Actor,
    *,
    rotate_secret: bool = False,
    policy: Mapping[str, Any] | None = None,
) -> tuple[Client, str | None]:
    """``current`` with the metadata of ``spec``; a secret in clear if a new one was made
    (``rotate_secret``, or a new method needs one the client did not have). The policy's
    rows not named in ``policy`` stay."""
    validate_spec(spec)
    await check_sector_document(provider, spec)
    updated, secret = await update_client(
        provider.store,
        current,
        spec,
        kek=provider.kek,
        rotate_secret=rotate_secret,
        policy=policy,
    )
    provider.forget_client(current.client_id)
    audit(provider, actor, "client.updated", client_id=current.client_id, new_secret=bool(secret))
    return updated, secret


async def rotate_secret(provider: Provider, client_id: str, actor: Actor) -> tuple[Client, str]:
    """A new client_secret, in clear once; the old one stops working at once."""
    client = await get(provider, client_id)
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        raise Conflict(
            "token_endpoint_auth_method",
            f"This client authenticates with {client.token_endpoint_auth_method}; it has no "
            "secret to rotate.",
        )
    updated, secret = await update_client(
        provider.store, client, spec_of(client), kek=provider.kek, rotate_secret=True
    )
    assert secret is not None  # a secret method and rotate_secret: always a new one
    provider.forget_client(client_id)
    audit(provider, actor, "client.secret_rotated", client_id=client_id)
    return updated, secret


async def delete(provider: Provider, client_id: str, actor: Actor) -> None:
    """The client goes with its grants, codes and tokens (the store cascades); every cache of
    it is dropped (this process's now; other processes through the store's invalidation
    messages, or after ``cache_ttl``)."""
    if not await provider.store.clients.delete(client_id):
        raise NotFound("client_id", f"No client with client_id {client_id}.")
    provider.forget_client(client_id)
    audit(provider, actor, "client.deleted", client_id=client_id)
