"""The client commands' flags: each metadata name's flag (how the CLI words a refusal), the
help texts, and the flags of the operator's policy (services/client_policy.py) turned into
policy rows for ``create``/``update``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keystead.cli.common import fail
from keystead.protocol.mtls_metadata import NAMES as MTLS_NAMES
from keystead.protocol.response_metadata import RESPONSE_METADATA
from keystead.services import client_policy
from keystead.store.base import Client

# The flag of each client metadata name: how this channel words a service's refusal.
FLAGS = {
    "client_name": "--name",
    "redirect_uris": "--redirect-uri",
    "grant_types": "--grant-type",
    "response_types": "--response-type",
    "scope": "--scope",
    "token_endpoint_auth_method": "--token-endpoint-auth-method",
    "jwks": "--jwks",
    "jwks_uri": "--jwks-uri",
    "token_endpoint_auth_signing_alg": "--token-endpoint-auth-signing-alg",
    "require_pkce": "--require-pkce",
    "id_token_signed_response_alg": "--id-token-signed-response-alg",
    "application_type": "--application-type",
    "client_id": "--client-id",
    "default_resource": "--default-resource",
    "post_logout_redirect_uris": "--post-logout-redirect-uri",
    "allowed_origins": "--allowed-origin",
    "backchannel_logout_uri": "--backchannel-logout-uri",
    "backchannel_logout_session_required": "--backchannel-logout-session-required",
    "frontchannel_logout_uri": "--frontchannel-logout-uri",
    "frontchannel_logout_session_required": "--frontchannel-logout-session-required",
    "oauth1_rsa_public_key": "--oauth1-rsa-public-key",
    "expires_in": "--expires-in",
    "backchannel_token_delivery_mode": "--backchannel-token-delivery-mode",
    "backchannel_client_notification_endpoint": "--backchannel-client-notification-endpoint",
    "token_exchange": "--token-exchange-audience",
    "require_mfa": "--require-mfa",
    "connections": "--connection",
    "password_login": "--password-login",
    "request_uris": "--request-uri",
    "request_object_signing_alg": "--request-object-signing-alg",
    "authorization_signed_response_alg": "--authorization-signed-response-alg",
    "require_pushed_authorization_requests": "--require-par",
    **{name: "--" + name.replace("_", "-") for name in RESPONSE_METADATA},
    "dpop_bound_access_tokens": "--dpop-bound-access-tokens",
    "profile": "--profile",
    **{name: "--" + name.replace("_", "-") for name in MTLS_NAMES},  # RFC 8705
}
PROFILE_HELP = (
    "fapi2: hold the client to the FAPI 2.0 Security Profile (docs/fapi2.md); none removes it."
)
SUBJECT_TYPE_HELP = "OIDC Core §8: public (default) | pairwise (a sub per sector)."
SECTOR_HELP = "Pairwise: an https URL returning a JSON array of the client's redirect URIs."
ENC_ALG_HELP = "RSA-OAEP-256 | ECDH-ES | ECDH-ES+A256KW (needs --jwks or --jwks-uri)."
ENC_ENC_HELP = "A128CBC-HS256 (default) | A256GCM."
DPOP_HELP = "RFC 9449 §5.2: tokens only with a DPoP proof; they are bound to its key."
CIBA_MODE_HELP = "CIBA §4: poll | ping (with --grant-type urn:openid:params:grant-type:ciba)."
CIBA_ENDPOINT_HELP = "CIBA ping mode: where the ping goes (https; http only on loopback)."
AUTH_METHOD_HELP = (
    "client_secret_basic | client_secret_post | client_secret_jwt | private_key_jwt "
    "(with --jwks or --jwks-uri) | none (public client)."
)
SIGNING_ALG_HELP = (
    "The one alg the client's assertions use (default: HS256 for client_secret_jwt; "
    "RS256, PS256, ES256 or EdDSA for private_key_jwt)."
)
CONNECTION_HELP = (
    "Repeatable. An upstream connection (keystead connection list) its login page offers; "
    "default: every enabled one."
)
PASSWORD_LOGIN_HELP = "--no-password-login: its login page offers upstream connections only."
ORIGIN_HELP = (
    "Repeatable. A browser origin (https://app.example.com) that may call the token, "
    "UserInfo and revocation endpoints, besides the origins of the redirect URIs."
)

EXCHANGE_AUDIENCE_HELP = (
    "Repeatable. An API identifier this client may get tokens for by token exchange "
    "(RFC 8693); with --token-exchange-impersonate and/or --token-exchange-delegate."
)


def exchange_changes(
    client: Client,
    audiences: list[str] | None,
    impersonate: bool | None,
    delegate: bool | None,
) -> dict[str, Any] | None:
    """The token_exchange policy with the given flags changed (None: no flag given)."""
    given = {"audiences": audiences, "impersonate": impersonate, "delegate": delegate}
    if all(v is None for v in given.values()):
        return None
    current = dict(client_policy.get(client, "token_exchange"))
    current.update({k: v for k, v in given.items() if v is not None})
    return current


def oauth1_policy(
    enabled: bool | None, oob: bool | None, rsa_key_file: Path | None
) -> dict[str, Any]:
    """The OAuth 1.0a rows (docs/oauth1.md); None: not given."""
    policy: dict[str, Any] = {"oauth1": enabled, "oauth1_oob": oob}
    if rsa_key_file is not None:
        try:
            policy["oauth1_rsa_public_key"] = rsa_key_file.read_text()
        except (OSError, ValueError) as exc:
            fail(f"--oauth1-rsa-public-key {rsa_key_file}: {exc}")
    return policy


def given(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy rows an update names (an option not given is None: the row stays)."""
    return {name: value for name, value in policy.items() if value is not None}


def connections_change(all_connections: bool, names: list[str] | None) -> dict[str, Any]:
    """``--all-connections`` (None: every enabled one) or ``--connection NAME`` (a list)."""
    if all_connections:
        return {"connections": None}
    return {"connections": names} if names else {}


# RFC 9101 / RFC 9126 §6 / JARM §3 (protocol/jar_metadata.py, docs/par-jar-jarm.md).
REQUEST_URI_HELP = "Repeatable. RFC 9101: a URL the client serves request objects at."
REQUEST_OBJECT_ALG_HELP = "RFC 9101: the alg its request objects use (RS256, ES256, ... or none)."
RESPONSE_ALG_HELP = "JARM: the alg of its signed authorization responses (default RS256)."
REQUIRE_PAR_HELP = "RFC 9126 §6: its authorization requests must come through /par."


def jar_changes(
    request_uri: list[str] | None,
    request_object_alg: str | None,
    response_alg: str | None,
    require_par: bool | None,
) -> dict[str, object]:
    """The jar_metadata members given (None: not given; an empty list: none kept)."""
    values = {
        "request_uris": request_uri,
        "request_object_signing_alg": request_object_alg,
        "authorization_signed_response_alg": response_alg,
        "require_pushed_authorization_requests": require_par,
    }
    return {k: v for k, v in values.items() if v is not None}


# RFC 8705 (protocol/mtls_metadata.py, docs/mtls.md).
MTLS_SUBJECT_HELP = "tls_client_auth (RFC 8705 §2.1.2): give exactly one certificate subject."
MTLS_BOUND_HELP = "RFC 8705 §3: access tokens bound to the client certificate (cnf.x5t#S256)."


def mtls_changes(subjects: dict[str, str | None], bound: bool | None) -> dict[str, object]:
    """The mtls_metadata members given; a subject given replaces the registered one."""
    given: dict[str, object] = {k: v for k, v in subjects.items() if v is not None}
    if given:  # RFC 8705 §2.1.2: one subject; the others are cleared
        given = {name: given.get(name) for name in subjects}
    if bound is not None:
        given["tls_client_certificate_bound_access_tokens"] = bound
    return given
