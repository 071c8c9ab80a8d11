"""Dynamic client registration (RFC 7591) and management (RFC 7592).

``POST /register`` needs an initial access token (RFC 7591 §3) unless open registration is
configured; it returns the client's metadata with ``registration_access_token`` and
``registration_client_uri`` (§3.2.1). With that token the client reads (GET), replaces (PUT,
RFC 7592 §2.2) or deletes (DELETE) its registration at ``/register/{client_id}``. Tokens are
stored as SHA-256 hashes only.

This module is the RFC 7591/7592 side: the initial and registration access tokens, the
translation of registration metadata into a client spec (checked by the same rules as every
other client, protocol/client_metadata.py, redirect URIs by the one rule table in
protocol/redirect_uris.py) and the wording of refusals as RFC 7591 §3.2.2 errors. Storing,
changing and deleting the client are services/clients.py's operations, which
services/registration.py calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.errors import OAuthError
from keystead.protocol import (
    jar_metadata,
    mtls_metadata,
    redirect_uris,
    response_metadata,
    scopes,
)
from keystead.protocol.client_metadata import (
    DESCRIPTIVE_METADATA,
    ClientSpec,
    MetadataError,
    client_view,
    is_http_url,
    spec_of,
    validate,
)
from keystead.protocol.request import OAuthRequest
from keystead.protocol.resources import ApiIndex
from keystead.protocol.response_types import normalize_response_type
from keystead.secrets_util import matches_hash, random_token, sha256_hex
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

REGISTER_PATH = "/register"
_ONCE = "iat:once:"  # marker keys of initial access tokens, by hash
_REUSABLE = "iat:reusable:"
MAX_INITIAL_TTL = 365 * 86400
TOKEN_HASH = "registration_access_token_hash"
DEFAULT_SCOPE = "openid profile email"
_BEARER = {"WWW-Authenticate": 'Bearer realm="keystead-registration"'}
# keystead-only fields a registration may not set, and internals never shown back.
_HIDDEN = ("skip_consent", "require_pkce", "default_resource", "allowed_origins")


# Registrations per source address and minute (issue 18 #10). Every attempt counts, kept in
# the store's throttle counters (the login throttle's), so all instances share one count.
RATE_LIMIT = 20
RATE_WINDOW = 60


class InitialAccessTokenError(ValueError):
    """An initial access token that cannot be minted as asked."""


async def mint_initial_access_token(
    provider: Provider, *, expires_in: int, reusable: bool
) -> tuple[str, int]:
    """(token in clear, expires_at); only its hash is stored."""
    if not 60 <= expires_in <= MAX_INITIAL_TTL:
        raise InitialAccessTokenError("expires_in must be between 60 s and one year.")
    token = random_token(32)
    now = provider.now()
    prefix = _REUSABLE if reusable else _ONCE
    await provider.store.markers.add(prefix + sha256_hex(token), now + expires_in, now)
    return token, now + expires_in


def _invalid(description: str) -> OAuthError:
    return OAuthError("registration-metadata-invalid", description)


def _bad_redirect(description: str) -> OAuthError:
    return OAuthError("registration-redirect-uri-invalid", description)


_REDIRECT_FIELDS = ("redirect_uris", "post_logout_redirect_uris")


def refused(field: str, message: str) -> OAuthError:
    """A refusal of the metadata member ``field``, as RFC 7591 §3.2.2 words it:
    invalid_redirect_uri for redirection URIs, invalid_client_metadata for any other."""
    if field in _REDIRECT_FIELDS:
        return _bad_redirect(message)
    return _invalid(message if field in message else f"{field}: {message}")


# --- RFC 7591 §2: metadata ---


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{name} must be a non-empty string.")
    return value


def _strings(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _invalid(f"{name} must be an array of non-empty strings.")
    return list(dict.fromkeys(value))


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise refused(name, f"{name} must be true or false.")
    return value


def _url(body: dict[str, Any], name: str) -> str | None:
    value = _string(body, name)
    if value is not None and not is_http_url(value):
        raise _invalid(f"{name} must be an https URL without a fragment.")
    return value


def _check_consistency(grant_types: list[str], response_types: list[str]) -> None:
    """RFC 7591 §2.1: code needs authorization_code; token and id_token need implicit;
    and each of those grant types needs a response type that uses it."""
    parts = {part for rt in response_types for part in rt.split()}
    if "code" in parts and "authorization_code" not in grant_types:
        raise _invalid("response_type code needs grant_type authorization_code (RFC 7591 §2.1).")
    if parts & {"token", "id_token"} and "implicit" not in grant_types:
        raise _invalid(
            "response_types token and id_token need grant_type implicit (RFC 7591 §2.1)."
        )
    if "authorization_code" in grant_types and "code" not in parts:
        raise _invalid("grant_type authorization_code needs response_type code (RFC 7591 §2.1).")
    if "implicit" in grant_types and not parts & {"token", "id_token"}:
        raise _invalid("grant_type implicit needs response_type token or id_token (RFC 7591 §2.1).")


def _check_scope(scope: str) -> None:
    for name in scopes.parse(scope):
        if scopes.is_reserved(name):
            raise _invalid(f"scope {name} is reserved; it cannot be registered dynamically.")


def check_api_scopes(scope: str, index: ApiIndex) -> None:
    """Issue 18 #4: a client registering (or updating) itself may ask for the OpenID Connect
    scopes, and for an API's scope only if that API's operator opened it to self-registration
    (``Api.self_registration_scopes``, none by default). A scope no API owns is refused too,
    so an API created later with that name is not granted to the client in advance. Every
    refused scope is named (RFC 7591 §3.2.2 invalid_client_metadata). The policy is read at
    registration time: clients registered earlier keep their scope until they update it."""
    closed: list[str] = []
    unknown: list[str] = []
    for name in scopes.parse(scope):
        if name in scopes.SCOPES_SUPPORTED:
            continue
        api = index.by_scope.get(name)
        if api is None:
            unknown.append(name)
        elif name not in api.self_registration_scopes:
            closed.append(name)
    if not closed and not unknown:
        return
    parts = []
    if closed:
        parts.append(
            f"scope {', '.join(closed)}: not open to self-registration; the operator of the "
            "API can allow it (keystead api update API --self-registration-scope SCOPE, or "
            "self_registration_scopes in the admin API) or create the client"
        )
    if unknown:
        parts.append(f"scope {', '.join(unknown)}: no API defines it")
    raise OAuthError("registration-scope-not-allowed", "; ".join(parts) + ".")


def parse_metadata(body: Any) -> ClientSpec:
    """RFC 7591 §2 metadata -> a client spec that passes protocol/client_metadata.py's rules.

    Unknown members are ignored (§2: the server MUST ignore metadata it does not understand).
    """
    if not isinstance(body, dict):
        raise _invalid("The registration request must be a JSON object (RFC 7591 §3.1).")
    if body.get("software_statement") is not None:
        raise OAuthError(
            "registration-software-statement",
            "software_statement is not supported here; send the metadata as JSON members.",
        )
    application_type = _string(body, "application_type") or "web"
    if application_type not in redirect_uris.APPLICATION_TYPES:
        raise _invalid("application_type must be web or native (OIDC Registration §2).")
    # RFC 7591 §2: absent means ["authorization_code"] and ["code"]; [] means none.
    grant_types = _strings(body, "grant_types")
    if grant_types is None:
        grant_types = ["authorization_code"]
    response_types = _strings(body, "response_types")
    if response_types is None:
        response_types = ["code"]
    response_types = [normalize_response_type(rt) for rt in response_types]
    _check_consistency(grant_types, response_types)
    uris = _strings(body, "redirect_uris") or []
    if {"authorization_code", "implicit"} & set(grant_types) and not uris:
        raise _bad_redirect("redirect_uris is required for authorization_code and implicit.")
    for uri in [*uris, *(_strings(body, "post_logout_redirect_uris") or [])]:
        try:
            redirect_uris.check_registration(uri, application_type)
        except redirect_uris.RedirectUriError as exc:
            raise _bad_redirect(str(exc)) from None
    scope = _string(body, "scope") or DEFAULT_SCOPE
    _check_scope(scope)
    jwks = body.get("jwks")
    if jwks is not None and not isinstance(jwks, dict):
        raise _invalid('jwks must be a JWK Set object {"keys": [...]}.')
    metadata: dict[str, Any] = {}
    for name in DESCRIPTIVE_METADATA:
        if name == "contacts":
            value: Any = _strings(body, name)
        elif name.endswith("_uri"):
            value = _url(body, name)
        else:
            value = _string(body, name)
        if value is not None:
            metadata[name] = value
    try:  # OIDC Core §8 and §10.2 metadata (protocol/response_metadata.py)
        response_values = response_metadata.from_registration(body)
    except response_metadata.BadValue as exc:
        raise refused(exc.name, str(exc)) from None
    fallback_name = (urlsplit(uris[0]).hostname if uris else None) or "Registered client"
    spec = ClientSpec(
        client_name=_string(body, "client_name") or fallback_name,
        redirect_uris=uris,
        grant_types=grant_types,
        response_types=response_types,
        scope=scope,
        # RFC 7591 §2: the default method is client_secret_basic.
        token_endpoint_auth_method=_string(body, "token_endpoint_auth_method")
        or "client_secret_basic",
        require_pkce=True,
        skip_consent=False,
        # OIDC Registration §2: RS256 unless the client asks for another alg.
        id_token_signed_response_alg=_string(body, "id_token_signed_response_alg") or "RS256",
        application_type=application_type,
        post_logout_redirect_uris=_strings(body, "post_logout_redirect_uris") or [],
        backchannel_logout_uri=_url(body, "backchannel_logout_uri"),
        backchannel_logout_session_required=_flag(body, "backchannel_logout_session_required"),
        frontchannel_logout_uri=_url(body, "frontchannel_logout_uri"),
        frontchannel_logout_session_required=_flag(body, "frontchannel_logout_session_required"),
        jwks=jwks,
        jwks_uri=_url(body, "jwks_uri"),
        token_endpoint_auth_signing_alg=_string(body, "token_endpoint_auth_signing_alg"),
        # CIBA Core 1.0 §4
        backchannel_token_delivery_mode=_string(body, "backchannel_token_delivery_mode"),
        backchannel_client_notification_endpoint=_url(
            body, "backchannel_client_notification_endpoint"
        ),
        backchannel_user_code_parameter=_flag(body, "backchannel_user_code_parameter"),
        jar_metadata=jar_metadata.from_body(body),  # RFC 9101, RFC 9126 §6, JARM §3
        mtls_metadata=mtls_metadata.from_body(body),  # RFC 8705 §2.1.2, §2.2, §3.4
        dpop_bound_access_tokens=_flag(body, "dpop_bound_access_tokens"),  # RFC 9449 §5.2
        metadata=metadata,
        **response_values,
    )
    try:
        validate(spec)
    except MetadataError as exc:
        raise refused(exc.field, exc.message) from None
    return spec


# --- responses ---


def registration_view(client: Client, provider: Provider) -> dict[str, Any]:
    """The client information response (RFC 7591 §3.2.1, RFC 7592 §3)."""
    view = {k: v for k, v in client_view(client).items() if k not in _HIDDEN}
    if client.client_secret_hash is not None:
        view["client_secret_expires_at"] = 0  # §3.2.1: REQUIRED with a secret; 0 = never
    view["registration_client_uri"] = provider.settings.url(f"{REGISTER_PATH}/{client.client_id}")
    return view


@dataclass(frozen=True, slots=True)
class Registered:
    body: dict[str, Any]
    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)


# --- RFC 7591 §3: register ---


async def check_rate(req: OAuthRequest, provider: Provider) -> None:
    """At most RATE_LIMIT registration attempts per source address in a RATE_WINDOW; past
    it a 429 with Retry-After (RFC 9110 §10.2.3) until the window ends."""
    now = provider.now()
    window = now // RATE_WINDOW
    key = f"register:{req.remote_addr or 'unknown'}:{window}"
    state = await provider.store.throttle.record_failure(key, now)
    if state.failures > RATE_LIMIT:
        retry_after = (window + 1) * RATE_WINDOW - now
        raise OAuthError(
            "registration-rate-limited",
            f"Too many registrations from this address; retry in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


async def check_initial_access_token(req: OAuthRequest, provider: Provider) -> str | None:
    """The marker key to consume after validation (single-use tokens), or None."""
    token = req.bearer_token()
    if token is None:
        if provider.settings.open_registration:
            return None
        raise OAuthError(
            "registration-token-missing",
            "Registration needs an initial access token: Authorization: Bearer <token> "
            "(`keystead client registration-token`).",
            headers=_BEARER,
        )
    token_hash, now = sha256_hex(token), provider.now()
    if await provider.store.markers.get(_REUSABLE + token_hash, now) is not None:
        return None
    if await provider.store.markers.get(_ONCE + token_hash, now) is not None:
        return _ONCE + token_hash
    if provider.settings.open_registration:
        return None  # a stale token does not matter where none is needed
    raise OAuthError(
        "registration-token-invalid",
        "The initial access token is unknown, expired or already used.",
        headers={"WWW-Authenticate": 'Bearer realm="keystead-registration", error="invalid_token"'},
    )


async def take_initial_access_token(single_use: str | None, provider: Provider) -> None:
    """Use up a single-use initial access token, once the metadata is known to be valid (a
    refused registration leaves it usable)."""
    if single_use is not None and not await provider.store.markers.take(single_use, provider.now()):
        raise OAuthError(
            "registration-token-invalid",
            "The initial access token was used by a concurrent registration.",
            headers=_BEARER,
        )


def new_registration_access_token() -> tuple[str, dict[str, Any]]:
    """(token in clear, the Client.extra entry that keeps its hash)."""
    token = random_token(32)
    return token, {TOKEN_HASH: sha256_hex(token)}


# --- RFC 7592: read, replace, delete ---


async def managed_client(req: OAuthRequest, client_id: str, provider: Provider) -> Client:
    """RFC 7592 §2: the client, if the registration access token is its own. An unknown
    client and a wrong token get the same 401, so client_ids cannot be probed."""
    token = req.bearer_token()
    client = await provider.store.clients.get(client_id)
    stored = client.extra.get(TOKEN_HASH) if client is not None else None
    if token is None or client is None or not isinstance(stored, str):
        raise OAuthError(
            "registration-access-token-invalid",
            "Send the registration_access_token of this client as Authorization: Bearer.",
            headers=_BEARER,
        )
    if not matches_hash(token, stored):
        raise OAuthError(
            "registration-access-token-invalid",
            "The registration access token is not this client's.",
            headers={
                "WWW-Authenticate": 'Bearer realm="keystead-registration", error="invalid_token"'
            },
        )
    return client


def replacement(client: Client, body: Any) -> tuple[ClientSpec, bool]:
    """RFC 7592 §2.2: the spec a client update request replaces the registration with, and
    whether a new secret is to be issued. Omitted fields are removed (set to their defaults).
    A client_secret in the body must be the current one and keeps it; without one, a new
    secret is issued (rotation) and returned once."""
    client_id = client.client_id
    if not isinstance(body, dict):
        raise _invalid("The update request must be a JSON object (RFC 7592 §2.2).")
    if body.get("client_id") != client_id:
        raise _invalid("client_id in the body must be the client's client_id (RFC 7592 §2.2).")
    presented = body.get("client_secret")
    if presented is not None and (
        not isinstance(presented, str)
        or client.client_secret_hash is None
        or not matches_hash(presented, client.client_secret_hash)
    ):
        raise _invalid(
            "client_secret must be the current secret; a client cannot choose its own "
            "(RFC 7592 §2.2). Omit it to have a new one issued."
        )
    read_only = ("registration_access_token", "registration_client_uri", "client_id_issued_at")
    metadata = {  # §2.2: read-only values are not metadata
        k: v for k, v in body.items() if k != "client_secret" and k not in read_only
    }
    spec = parse_metadata(metadata)
    keep = spec_of(client)  # what a registration cannot change stays as it was
    spec.skip_consent, spec.require_pkce = keep.skip_consent, keep.require_pkce
    spec.default_resource, spec.allowed_origins = keep.default_resource, keep.allowed_origins
    return spec, presented is None
