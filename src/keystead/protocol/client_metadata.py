"""What a client may be registered with (RFC 7591 §2, OIDC Registration §2, RFC 7523).

One rule set for every way a client comes to exist or change: the CLI, the admin API and
dynamic registration (through services/clients.py), and the RFC 7591 translation in
protocol/registration.py. Allowed values come from the protocol tables — grant types from
``protocol/grants.GRANTS``, authentication methods from ``protocol/client_auth``'s
``CLIENT_AUTH_METHODS``, response types from ``protocol/response_types.RESPONSE_TYPES`` — so
what may be registered is what discovery advertises and the endpoints implement.

A refusal is a ``MetadataError(field, message)``: ``field`` the metadata name
(``redirect_uris``), ``message`` words for any channel; each channel names the field its way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from keystead.jose.client_keys import InvalidJwks, parse_jwks
from keystead.jose.keys import SUPPORTED_ALGS
from keystead.protocol import (
    ciba_metadata,
    jar_metadata,
    mtls_metadata,
    redirect_uris,
    response_metadata,
    scopes,
)
from keystead.protocol.client_auth import CLIENT_AUTH_METHODS
from keystead.protocol.grants import GRANTS
from keystead.protocol.origins import parse_origin
from keystead.protocol.response_types import RESPONSE_TYPES, normalize_response_type
from keystead.store.base import Client

# RFC 7591 §2: "implicit" is a grant type a client registers although it never reaches the
# token endpoint (its tokens come from the authorization endpoint, RFC 6749 §4.2).
GRANT_TYPES: tuple[str, ...] = (*GRANTS, "implicit")
AUTH_METHODS: tuple[str, ...] = tuple(CLIENT_AUTH_METHODS)
# The methods that authenticate with a client_secret (RFC 7591 §2 client_secret_basic and
# client_secret_post, OIDC Core §9 client_secret_jwt): the registered names say so.
SECRET_METHODS: tuple[str, ...] = tuple(m for m in AUTH_METHODS if m.startswith("client_secret_"))
# RFC 7591 §2 metadata kept verbatim in Client.extra.
DESCRIPTIVE_METADATA = (
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "contacts",
    "software_id",
    "software_version",
)
# Client authentication metadata (RFC 7591 §2, RFC 7523 §2.2), kept in Client.extra.
AUTH_METADATA = ("jwks", "jwks_uri", "token_endpoint_auth_signing_alg")


# Text no store can keep: lone UTF-16 surrogates (JSON's "\\ud800" decodes to one; it has no
# UTF-8 form, RFC 8259 §8.2, RFC 7493 §2.1) and NUL (PostgreSQL text refuses it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class MetadataError(ValueError):
    """Client metadata no client may have: ``field`` names it, ``message`` says what to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


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
    # Back-Channel Logout 1.0 §2.2 and Front-Channel Logout 1.0 §2.
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False
    frontchannel_logout_uri: str | None = None
    frontchannel_logout_session_required: bool = False
    jwks: dict[str, Any] | None = None  # private_key_jwt: the client's public keys, inline
    jwks_uri: str | None = None  # ... or where it publishes them (exclusive with jwks)
    token_endpoint_auth_signing_alg: str | None = None  # the one alg its assertions use
    # CIBA Core 1.0 §4 (protocol/ciba_metadata.py).
    backchannel_token_delivery_mode: str | None = None
    backchannel_client_notification_endpoint: str | None = None
    backchannel_user_code_parameter: bool = False
    # RFC 9101 / RFC 9126 §6 / JARM §3 metadata, by name (protocol/jar_metadata.py).
    jar_metadata: dict[str, Any] = field(default_factory=dict)
    # OIDC Core §8 pairwise subjects, §10.2 encrypted responses (protocol/response_metadata.py).
    subject_type: str | None = None
    sector_identifier_uri: str | None = None
    id_token_encrypted_response_alg: str | None = None
    id_token_encrypted_response_enc: str | None = None
    userinfo_signed_response_alg: str | None = None
    userinfo_encrypted_response_alg: str | None = None
    userinfo_encrypted_response_enc: str | None = None
    authorization_encrypted_response_alg: str | None = None  # JARM §3
    authorization_encrypted_response_enc: str | None = None
    dpop_bound_access_tokens: bool = False  # RFC 9449 §5.2: no token without a DPoP proof
    mtls_metadata: dict[str, Any] = field(default_factory=dict)  # RFC 8705 (mtls_metadata.py)
    metadata: dict[str, Any] = field(default_factory=dict)  # DESCRIPTIVE_METADATA values


def check_redirect_uri(uri: str, application_type: str, name: str = "redirect_uris") -> None:
    """The rule table in protocol/redirect_uris.py, shared with the authorization endpoint."""
    try:
        redirect_uris.check_registration(uri, application_type)
    except redirect_uris.RedirectUriError as exc:
        raise MetadataError(name, str(exc)) from None


LOGOUT_METADATA = (
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "frontchannel_logout_uri",
    "frontchannel_logout_session_required",
)


def _origin(uri: str) -> tuple[str, str, int | None]:
    parts = urlsplit(uri)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def check_logout_uris(spec: ClientSpec) -> None:
    """Back-Channel Logout 1.0 §2.2: an absolute URI without a fragment, https (http only on
    a loopback host, for development); Front-Channel Logout 1.0 §2: the same, with the
    scheme, host and port of a registered redirect URI. A *_session_required flag needs its
    URI."""
    for name in ("backchannel_logout_uri", "frontchannel_logout_uri"):
        uri = getattr(spec, name)
        if uri is None:
            if getattr(spec, name.replace("_uri", "_session_required")):
                raise MetadataError(
                    name.replace("_uri", "_session_required"), f"It needs {name} to be set."
                )
            continue
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise MetadataError(name, f"{name} {uri} is not a URI.") from None
        if parts.fragment or "#" in uri:
            raise MetadataError(name, f"{name} must not contain a fragment (#...).")
        if parts.scheme != "https" and not (
            parts.scheme == "http" and redirect_uris.is_loopback(parts.hostname)
        ):
            raise MetadataError(
                name, f"{name} must be an https URL (http only on 127.0.0.1 or localhost)."
            )
    front = spec.frontchannel_logout_uri
    if front is not None and _origin(front) not in {_origin(u) for u in spec.redirect_uris}:
        raise MetadataError(
            "frontchannel_logout_uri",
            "frontchannel_logout_uri must have the scheme, host and port of a registered "
            "redirect URI (Front-Channel Logout 1.0 §2).",
        )


def check_allowed_origins(values: list[str]) -> list[str]:
    """CORS origins beyond those of the redirect URIs, normalized as browsers send them."""
    try:
        return list(dict.fromkeys(parse_origin(v) for v in values))
    except ValueError as exc:
        raise MetadataError("allowed_origins", str(exc)) from None


_CLIENT_ID = re.compile(r"[!-~]{1,200}\Z")
_CLIENT_ID_FORBIDDEN = "/?#%:"


def validate(spec: ClientSpec) -> None:
    """MetadataError for the first rule ``spec`` breaks."""
    for spec_field in fields(spec):
        if _has_unstorable(getattr(spec, spec_field.name)):
            raise MetadataError(
                spec_field.name,
                f"{spec_field.name} holds a NUL or a lone surrogate, which is not valid text.",
            )
    client_id = spec.client_id
    if client_id is not None and (
        not _CLIENT_ID.match(client_id) or any(c in client_id for c in _CLIENT_ID_FORBIDDEN)
    ):
        # RFC 6749 §A.1: client-id = *VSCHAR; narrowed to what a URL path, an HTTP header
        # (Location) and HTTP Basic carry unescaped: no space, '/', '?', '#', '%' or ':'.
        raise MetadataError(
            "client_id",
            "client_id must be 1-200 printable ASCII characters without spaces or / ? # % : "
            "(e.g. letters, digits, '-', '_', '.').",
        )
    if not spec.client_name.strip():
        raise MetadataError("client_name", "The client name must not be empty.")
    if spec.application_type not in redirect_uris.APPLICATION_TYPES:
        raise MetadataError("application_type", "application_type must be web or native.")
    for grant_type in spec.grant_types:
        if grant_type not in GRANT_TYPES:
            raise MetadataError(
                "grant_types", f"grant_type {grant_type} is unknown; use {', '.join(GRANT_TYPES)}."
            )
    for response_type in spec.response_types:
        if normalize_response_type(response_type) not in RESPONSE_TYPES:
            raise MetadataError(
                "response_types",
                f"response_type {response_type} is unknown; use {', '.join(RESPONSE_TYPES)}.",
            )
    method = spec.token_endpoint_auth_method
    if method not in AUTH_METHODS:
        raise MetadataError(
            "token_endpoint_auth_method",
            f"token_endpoint_auth_method {method} is unknown; use {', '.join(AUTH_METHODS)}.",
        )
    if spec.id_token_signed_response_alg not in SUPPORTED_ALGS:
        raise MetadataError(
            "id_token_signed_response_alg",
            f"id_token_signed_response_alg must be one of {', '.join(SUPPORTED_ALGS)}.",
        )
    public = method == "none"
    if public and not spec.require_pkce:
        # RFC 9700 §2.1.1: public clients MUST use PKCE.
        raise MetadataError(
            "require_pkce", "Public clients (token_endpoint_auth_method none) must use PKCE."
        )
    if public and "client_credentials" in spec.grant_types:
        # RFC 6749 §4.4: the client credentials grant is for confidential clients only.
        raise MetadataError("grant_types", "client_credentials needs a confidential client.")
    if {"authorization_code", "implicit"} & set(spec.grant_types) and not spec.redirect_uris:
        raise MetadataError(
            "redirect_uris", "At least one redirect URI is required for this grant type."
        )
    for uri in spec.redirect_uris:
        check_redirect_uri(uri, spec.application_type)
    check_allowed_origins(spec.allowed_origins)
    for uri in spec.post_logout_redirect_uris:  # same rules as redirect URIs
        check_redirect_uri(uri, spec.application_type, "post_logout_redirect_uris")
    check_logout_uris(spec)
    for token in scopes.parse(spec.scope):
        if not scopes.is_valid_token(token):
            raise MetadataError(
                "scope", f"scope {token!r} has characters RFC 6749 §3.3 does not allow."
            )
    check_auth_metadata(spec)
    broken = ciba_metadata.problem(
        spec.grant_types,
        spec.token_endpoint_auth_method,
        spec.backchannel_token_delivery_mode,
        spec.backchannel_client_notification_endpoint,
        spec.backchannel_user_code_parameter,
    )
    if broken is not None:
        raise MetadataError(*broken)
    has_keys = spec.jwks is not None or spec.jwks_uri is not None
    broken = mtls_metadata.problem(spec.mtls_metadata, method, has_keys)
    broken = broken or jar_metadata.problem(spec.jar_metadata, has_keys)
    broken = broken or response_metadata.problem(
        {k: getattr(spec, k) for k in response_metadata.RESPONSE_METADATA},
        spec.redirect_uris,
        spec.jwks,
        spec.jwks_uri,
    )
    if broken is not None:
        raise MetadataError(*broken)


def _has_unstorable(value: Any) -> bool:
    """Does ``value`` (JSON-shaped, its depth bounded by jsonlimits) hold unstorable text?"""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_unstorable(k) or _has_unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_unstorable(v) for v in value)
    return False


def is_http_url(value: str) -> bool:
    """An http(s) URL with a host and no fragment; False for what urlsplit cannot parse
    (``https://[x``: an unbalanced IPv6 bracket is a ValueError)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname) and not parts.fragment


def check_auth_metadata(spec: ClientSpec) -> None:
    method = spec.token_endpoint_auth_method
    if spec.jwks is not None and spec.jwks_uri is not None:
        # RFC 7591 §2: jwks_uri and jwks MUST NOT both be present.
        raise MetadataError("jwks", "jwks and jwks_uri must not both be given; choose one.")
    if spec.jwks is not None:
        try:
            parse_jwks(spec.jwks, strict=True)
        except InvalidJwks as exc:
            raise MetadataError("jwks", str(exc)) from None
    # https in production: the fetcher allows http only with private network fetches.
    if spec.jwks_uri is not None and not is_http_url(spec.jwks_uri):
        raise MetadataError("jwks_uri", "jwks_uri must be an https URL without a fragment.")
    if method == "private_key_jwt" and spec.jwks is None and spec.jwks_uri is None:
        raise MetadataError(
            "jwks",
            "private_key_jwt needs the client's public keys: give jwks (a JWK Set) or jwks_uri.",
        )
    alg = spec.token_endpoint_auth_signing_alg
    if alg is not None:
        auth = CLIENT_AUTH_METHODS.get(method)
        allowed = auth.signing_algs if auth is not None else ()
        if not allowed:
            raise MetadataError(
                "token_endpoint_auth_signing_alg",
                "token_endpoint_auth_signing_alg is only for client_secret_jwt and "
                "private_key_jwt clients.",
            )
        if alg not in allowed:
            raise MetadataError(
                "token_endpoint_auth_signing_alg",
                f"token_endpoint_auth_signing_alg for {method} must be one of "
                f"{', '.join(allowed)}.",
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
                *LOGOUT_METADATA,
                *AUTH_METADATA,
                *ciba_metadata.CIBA_METADATA,
                *jar_metadata.NAMES,
                *mtls_metadata.NAMES,
                *response_metadata.RESPONSE_METADATA,
                "dpop_bound_access_tokens",
                *DESCRIPTIVE_METADATA,
            )
            if k in client.extra
        },
    }


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
        backchannel_logout_uri=extra.get("backchannel_logout_uri"),
        backchannel_logout_session_required=bool(extra.get("backchannel_logout_session_required")),
        frontchannel_logout_uri=extra.get("frontchannel_logout_uri"),
        frontchannel_logout_session_required=bool(
            extra.get("frontchannel_logout_session_required")
        ),
        jwks=extra.get("jwks"),
        jwks_uri=extra.get("jwks_uri"),
        token_endpoint_auth_signing_alg=extra.get("token_endpoint_auth_signing_alg"),
        backchannel_token_delivery_mode=extra.get(ciba_metadata.MODE),
        backchannel_client_notification_endpoint=extra.get(ciba_metadata.ENDPOINT),
        backchannel_user_code_parameter=bool(extra.get(ciba_metadata.USER_CODE)),
        jar_metadata={k: extra[k] for k in jar_metadata.NAMES if k in extra},
        mtls_metadata={k: extra[k] for k in mtls_metadata.NAMES if k in extra},
        **{k: extra.get(k) for k in response_metadata.RESPONSE_METADATA},
        dpop_bound_access_tokens=extra.get("dpop_bound_access_tokens") is True,
        metadata={k: extra[k] for k in DESCRIPTIVE_METADATA if k in extra},
    )
