"""Create, inspect and delete clients (RFC 7591 metadata names throughout)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from keystead.jose.client_keys import ASYMMETRIC_ALGS, HMAC_ALGS, InvalidJwks, parse_jwks
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import SUPPORTED_ALGS
from keystead.protocol import client_assertion, redirect_uris, scopes
from keystead.protocol.origins import parse_origin
from keystead.protocol.response_types import KNOWN_RESPONSE_TYPES, normalize_response_type
from keystead.secrets_util import random_id, random_token, sha256_hex
from keystead.store.base import Client, Store

GRANT_TYPES = (
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "implicit",
    "urn:ietf:params:oauth:grant-type:device_code",
)
AUTH_METHODS = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)
SECRET_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt")
# RFC 7591 §2 metadata kept verbatim in Client.extra (validated by the registration endpoint).
DESCRIPTIVE_METADATA = (
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "contacts",
    "software_id",
    "software_version",
)


class ClientSpecError(ValueError):
    """Invalid client metadata; the message says what to change."""


@dataclass
class ClientSpec:
    client_name: str
    redirect_uris: list[str]
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code", "refresh_token"])
    response_types: list[str] = field(default_factory=lambda: ["code"])
    scope: str = "openid profile email offline_access"
    token_endpoint_auth_method: str = "client_secret_basic"
    require_pkce: bool = True
    skip_consent: bool = False
    id_token_signed_response_alg: str = "ES256"
    application_type: str = "web"
    client_id: str | None = None
    default_resource: str | None = None  # API used when a token request names none
    allowed_origins: list[str] = field(default_factory=list)  # CORS, beyond redirect URIs
    post_logout_redirect_uris: list[str] = field(default_factory=list)  # RP-Initiated Logout
    jwks: dict[str, Any] | None = None  # private_key_jwt: the client's public keys, inline
    jwks_uri: str | None = None  # ... or where it publishes them (exclusive with jwks)
    token_endpoint_auth_signing_alg: str | None = None  # the one alg its assertions use
    metadata: dict[str, Any] = field(default_factory=dict)  # DESCRIPTIVE_METADATA values


def check_redirect_uri(uri: str, application_type: str) -> None:
    """The rule table in protocol/redirect_uris.py, shared with the authorization endpoint."""
    try:
        redirect_uris.check_registration(uri, application_type)
    except redirect_uris.RedirectUriError as exc:
        raise ClientSpecError(str(exc)) from exc


def check_allowed_origins(values: list[str]) -> list[str]:
    """CORS origins beyond those of the redirect URIs, normalized as browsers send them."""
    try:
        return list(dict.fromkeys(parse_origin(v) for v in values))
    except ValueError as exc:
        raise ClientSpecError(str(exc)) from exc


def validate_spec(spec: ClientSpec) -> None:
    if not spec.client_name.strip():
        raise ClientSpecError("client_name must not be empty.")
    if spec.application_type not in redirect_uris.APPLICATION_TYPES:
        raise ClientSpecError("application_type must be web or native.")
    for grant_type in spec.grant_types:
        if grant_type not in GRANT_TYPES:
            raise ClientSpecError(
                f"grant_type {grant_type} is unknown; use {', '.join(GRANT_TYPES)}."
            )
    for response_type in spec.response_types:
        if normalize_response_type(response_type) not in KNOWN_RESPONSE_TYPES:
            raise ClientSpecError(
                f"response_type {response_type} is unknown; use {', '.join(KNOWN_RESPONSE_TYPES)}."
            )
    if spec.token_endpoint_auth_method not in AUTH_METHODS:
        raise ClientSpecError(
            f"token_endpoint_auth_method {spec.token_endpoint_auth_method} is unknown; use "
            f"{', '.join(AUTH_METHODS)}."
        )
    if spec.id_token_signed_response_alg not in SUPPORTED_ALGS:
        raise ClientSpecError(
            f"id_token_signed_response_alg must be one of {', '.join(SUPPORTED_ALGS)}."
        )
    public = spec.token_endpoint_auth_method == "none"
    if public and not spec.require_pkce:
        raise ClientSpecError("Public clients (token_endpoint_auth_method none) must use PKCE.")
    if public and "client_credentials" in spec.grant_types:
        raise ClientSpecError("client_credentials needs a confidential client.")
    uses_redirect = {"authorization_code", "implicit"} & set(spec.grant_types)
    if uses_redirect and not spec.redirect_uris:
        raise ClientSpecError("At least one --redirect-uri is required for this grant type.")
    for uri in spec.redirect_uris:
        check_redirect_uri(uri, spec.application_type)
    check_allowed_origins(spec.allowed_origins)
    for uri in spec.post_logout_redirect_uris:
        check_redirect_uri(uri, spec.application_type)  # same rules as redirect URIs
    for token in scopes.parse(spec.scope):
        if not scopes.is_valid_token(token):
            raise ClientSpecError(f"scope {token!r} has characters RFC 6749 §3.3 does not allow.")
    check_auth_metadata(spec)


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
    if spec.default_resource and await store.apis.get_by_identifier(spec.default_resource) is None:
        raise ClientSpecError(
            f"default resource {spec.default_resource} is not a registered API "
            "(`keystead api list`)."
        )
    client_id = spec.client_id or random_id()
    secret = random_token(32) if spec.token_endpoint_auth_method in SECRET_METHODS else None
    sealed = seal_secret(spec, client_id, secret, kek)
    client = _client(spec, client_id, now, sha256_hex(secret) if secret else None, sealed)
    client.extra.update(extra or {})
    await store.clients.add(client)
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
        extra["allowed_origins"] = check_allowed_origins(spec.allowed_origins)
    if spec.post_logout_redirect_uris:
        extra["post_logout_redirect_uris"] = list(spec.post_logout_redirect_uris)
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


def client_view(client: Client) -> dict[str, Any]:
    """The client's public metadata (never the secret hash)."""
    return {
        "client_id": client.client_id,
        "client_name": client.client_name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
        "scope": client.scope,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "require_pkce": client.require_pkce,
        "skip_consent": client.skip_consent,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "application_type": client.application_type,
        "client_id_issued_at": client.created_at,
        **{
            k: client.extra[k]
            for k in (
                "default_resource",
                "allowed_origins",
                "post_logout_redirect_uris",
                *AUTH_METADATA,
                *DESCRIPTIVE_METADATA,
            )
            if k in client.extra
        },
    }


# --- client authentication metadata (RFC 7591 §2, OIDC Registration §2, RFC 7523) ---

AUTH_METADATA = ("jwks", "jwks_uri", "token_endpoint_auth_signing_alg")


def check_auth_metadata(spec: ClientSpec) -> None:
    method = spec.token_endpoint_auth_method
    if spec.jwks is not None and spec.jwks_uri is not None:
        # RFC 7591 §2: jwks_uri and jwks MUST NOT both be present.
        raise ClientSpecError("jwks and jwks_uri must not both be given; choose one.")
    if spec.jwks is not None:
        try:
            parse_jwks(spec.jwks, strict=True)
        except InvalidJwks as exc:
            raise ClientSpecError(str(exc)) from None
    if spec.jwks_uri is not None:
        parts = urlsplit(spec.jwks_uri)
        # https in production: the fetcher allows http only with private network fetches.
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
            raise ClientSpecError("jwks_uri must be an https URL without a fragment.")
    if method == "private_key_jwt" and spec.jwks is None and spec.jwks_uri is None:
        raise ClientSpecError(
            "private_key_jwt needs the client's public keys: give jwks (a JWK Set) or jwks_uri."
        )
    alg = spec.token_endpoint_auth_signing_alg
    if alg is not None:
        allowed = {"client_secret_jwt": HMAC_ALGS, "private_key_jwt": ASYMMETRIC_ALGS}.get(method)
        if allowed is None:
            raise ClientSpecError(
                "token_endpoint_auth_signing_alg is only for client_secret_jwt and "
                "private_key_jwt clients."
            )
        if alg not in allowed:
            raise ClientSpecError(
                f"token_endpoint_auth_signing_alg for {method} must be one of {', '.join(allowed)}."
            )


def auth_extra(spec: ClientSpec) -> dict[str, Any]:
    """The Client.extra entries for the authentication method and descriptive metadata."""
    extra: dict[str, Any] = {k: v for k, v in spec.metadata.items() if k in DESCRIPTIVE_METADATA}
    for key in AUTH_METADATA:
        if getattr(spec, key) is not None:
            extra[key] = getattr(spec, key)
    return extra


def seal_secret(
    spec: ClientSpec, client_id: str, secret: str | None, kek: KeyEncryptor | None
) -> str | None:
    """client_secret_jwt: the secret is the HMAC key (OIDC Core §9), so it is needed in
    clear — kept encrypted at rest with the key-encryption key, bound to the client_id."""
    if spec.token_endpoint_auth_method != "client_secret_jwt" or secret is None:
        return None
    if kek is None:
        raise ClientSpecError("client_secret_jwt needs the key-encryption key to store it.")
    return client_assertion.seal_secret(kek, client_id, secret)


def spec_of(client: Client) -> ClientSpec:
    """The spec a stored client was made from (for updates: change fields, store again)."""
    extra = client.extra
    return ClientSpec(
        client_name=client.client_name,
        redirect_uris=list(client.redirect_uris),
        grant_types=list(client.grant_types),
        response_types=list(client.response_types),
        scope=client.scope,
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        require_pkce=client.require_pkce,
        skip_consent=client.skip_consent,
        id_token_signed_response_alg=client.id_token_signed_response_alg,
        application_type=client.application_type,
        client_id=client.client_id,
        default_resource=extra.get("default_resource"),
        allowed_origins=list(extra.get("allowed_origins", [])),
        post_logout_redirect_uris=list(extra.get("post_logout_redirect_uris", [])),
        jwks=extra.get("jwks"),
        jwks_uri=extra.get("jwks_uri"),
        token_endpoint_auth_signing_alg=extra.get("token_endpoint_auth_signing_alg"),
        metadata={k: extra[k] for k in DESCRIPTIVE_METADATA if k in extra},
    )


# Client.extra entries that belong to the registration, not to the metadata: kept on update.
KEPT_ON_UPDATE = ("registration_access_token_hash",)


async def update_client(
    store: Store,
    current: Client,
    spec: ClientSpec,
    *,
    kek: KeyEncryptor | None = None,
    rotate_secret: bool = False,
) -> tuple[Client, str | None]:
    """Replace a client's metadata with ``spec``; its client_id and created_at stay.

    The secret is kept, unless ``rotate_secret`` or the new method needs a secret the client
    does not have: then a new one is returned in clear, once. One UPDATE: nothing is
    half-written.
    """
    spec.client_id = current.client_id
    validate_spec(spec)
    if spec.default_resource and await store.apis.get_by_identifier(spec.default_resource) is None:
        raise ClientSpecError(f"default resource {spec.default_resource} is not a registered API.")
    method = spec.token_endpoint_auth_method
    secret_hash, sealed, secret = None, None, None
    if method in SECRET_METHODS:
        kept_sealed = current.extra.get("client_secret_enc")
        can_keep = current.client_secret_hash is not None and (
            method != "client_secret_jwt" or isinstance(kept_sealed, str)
        )
        if rotate_secret or not can_keep:
            secret = random_token(32)
            secret_hash = sha256_hex(secret)
            sealed = seal_secret(spec, current.client_id, secret, kek)
        else:
            secret_hash = current.client_secret_hash
            sealed = kept_sealed if method == "client_secret_jwt" else None
    updated = _client(spec, current.client_id, current.created_at, secret_hash, sealed)
    updated.extra.update({k: current.extra[k] for k in KEPT_ON_UPDATE if k in current.extra})
    if not await store.clients.update(updated):
        raise LookupError(f"no client with client_id {current.client_id}")
    return updated, secret
