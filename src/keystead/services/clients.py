"""Create, inspect and delete clients (RFC 7591 metadata names throughout)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from keystead.jose.keys import SUPPORTED_ALGS
from keystead.protocol import scopes
from keystead.protocol.response_types import KNOWN_RESPONSE_TYPES, normalize_response_type
from keystead.secrets_util import random_token, sha256_hex
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
LOOPBACK_HOSTS = ("localhost",)


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


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str, application_type: str) -> None:
    parts = urlsplit(uri)
    if not parts.scheme:
        raise ClientSpecError(f"redirect_uri {uri} must be an absolute URI.")
    if parts.fragment or "#" in uri:
        raise ClientSpecError(f"redirect_uri {uri} must not contain a fragment (RFC 6749 §3.1.2).")
    if parts.scheme == "https":
        if not parts.hostname:
            raise ClientSpecError(f"redirect_uri {uri} has no host.")
        return
    if parts.scheme == "http":
        if is_loopback(parts.hostname):
            return
        raise ClientSpecError(
            f"redirect_uri {uri} uses http on a non-loopback host; use https (http is only "
            "allowed on 127.0.0.1, [::1] and localhost for development)."
        )
    # RFC 8252 §7.1: private-use URI schemes, reverse domain names, for native apps only.
    if application_type == "native" and "." in parts.scheme:
        return
    raise ClientSpecError(
        f"redirect_uri {uri} has scheme {parts.scheme}; web clients need https (or http on "
        "loopback); native apps may use a reverse-domain private-use scheme such as "
        "com.example.app:/callback with --application-type native."
    )


def validate_spec(spec: ClientSpec) -> None:
    if not spec.client_name.strip():
        raise ClientSpecError("client_name must not be empty.")
    if spec.application_type not in ("web", "native"):
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
    for token in scopes.parse(spec.scope):
        if not scopes.is_valid_token(token):
            raise ClientSpecError(f"scope {token!r} has characters RFC 6749 §3.3 does not allow.")


async def create_client(store: Store, spec: ClientSpec, now: int) -> tuple[Client, str | None]:
    """Validate and store a client. Returns the client secret in clear, once."""
    validate_spec(spec)
    if spec.default_resource and await store.apis.get_by_identifier(spec.default_resource) is None:
        raise ClientSpecError(
            f"default resource {spec.default_resource} is not a registered API "
            "(`keystead api list`)."
        )
    public = spec.token_endpoint_auth_method == "none"
    secret = None if public else random_token(32)  # 256 bits
    client = Client(
        client_id=spec.client_id or random_token(16),
        client_name=spec.client_name.strip(),
        redirect_uris=tuple(spec.redirect_uris),
        grant_types=tuple(spec.grant_types),
        response_types=tuple(spec.response_types),
        scope=scopes.join(scopes.parse(spec.scope)),
        token_endpoint_auth_method=spec.token_endpoint_auth_method,
        client_secret_hash=sha256_hex(secret) if secret else None,
        require_pkce=spec.require_pkce,
        skip_consent=spec.skip_consent,
        id_token_signed_response_alg=spec.id_token_signed_response_alg,
        application_type=spec.application_type,
        created_at=now,
        extra={"default_resource": spec.default_resource} if spec.default_resource else {},
    )
    await store.clients.add(client)
    return client, secret


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
        **(
            {"default_resource": client.extra["default_resource"]}
            if "default_resource" in client.extra
            else {}
        ),
    }
