"""The admin API's client bodies (pydantic, ``extra="forbid"``): the RFC 7591 metadata and
the operator's policy (services/client_policy.py) a client is created or changed with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from keystead.protocol.client_metadata import AUTH_METHODS
from keystead.protocol.response_metadata import RESPONSE_METADATA


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Client fields that null resets (a list to empty, an optional member to absent); every
# other client field must not be null (web/admin/clients.py refuses it, the document says so).
CLIENT_NULLABLE = frozenset(
    {
        "default_resource",
        "jwks",
        "jwks_uri",
        "token_endpoint_auth_signing_alg",
        "backchannel_logout_uri",
        "frontchannel_logout_uri",
        "backchannel_token_delivery_mode",
        "backchannel_client_notification_endpoint",
        *RESPONSE_METADATA,
    }
)
CLIENT_LISTS = frozenset(
    {
        "redirect_uris",
        "grant_types",
        "response_types",
        "allowed_origins",
        "post_logout_redirect_uris",
    }
)


class _ClientFields(Body):
    redirect_uris: list[str] | None = None
    grant_types: list[str] | None = None
    response_types: list[str] | None = None
    scope: str | None = None
    token_endpoint_auth_method: str | None = Field(
        None,
        description=" | ".join(AUTH_METHODS),
    )
    require_pkce: bool | None = None
    skip_consent: bool | None = None
    require_mfa: bool | None = Field(
        None, description="Every sign-in for this client needs a second factor (policy)."
    )
    token_exchange: dict[str, Any] | None = Field(
        None,
        description='Token exchange policy (RFC 8693): {"audiences": [API identifiers], '
        '"impersonate": bool, "delegate": bool}; replaces the whole policy (a member left out '
        "is [] or false).",
    )
    oauth1: bool | None = Field(None, description="Also an OAuth 1.0a consumer (policy).")
    oauth1_oob: bool | None = Field(None, description="OAuth 1.0a: oob allowed (policy).")
    oauth1_rsa_public_key: str | None = Field(
        None, description='OAuth 1.0a RSA-SHA1: PEM public key ("" removes it) (policy).'
    )
    profile: str | None = Field(
        None,
        description="fapi2: held to the FAPI 2.0 Security Profile; null removes it (policy).",
    )
    id_token_signed_response_alg: str | None = None
    application_type: Literal["web", "native"] | None = None
    default_resource: str | None = None
    allowed_origins: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool | None = None
    frontchannel_logout_uri: str | None = None
    frontchannel_logout_session_required: bool | None = None
    jwks: dict[str, Any] | None = Field(None, description="private_key_jwt: public JWK Set")
    jwks_uri: str | None = None
    token_endpoint_auth_signing_alg: str | None = None
    backchannel_token_delivery_mode: Literal["poll", "ping"] | None = Field(
        None, description="CIBA Core 1.0 §4 (grant type urn:openid:params:grant-type:ciba)"
    )
    backchannel_client_notification_endpoint: str | None = None
    backchannel_user_code_parameter: bool | None = None
    # RFC 9101 / RFC 9126 §6 / JARM §3 (protocol/jar_metadata.py); null removes one.
    request_uris: list[str] | None = None
    request_object_signing_alg: str | None = None
    authorization_signed_response_alg: str | None = None
    require_pushed_authorization_requests: bool | None = None
    subject_type: Literal["public", "pairwise"] | None = Field(None, description="OIDC Core §8")
    sector_identifier_uri: str | None = Field(
        None, description="OIDC Registration §5: an https URL listing the redirect URIs"
    )
    id_token_encrypted_response_alg: str | None = Field(None, description="OIDC Core §10.2")
    id_token_encrypted_response_enc: str | None = None
    userinfo_signed_response_alg: str | None = None
    userinfo_encrypted_response_alg: str | None = None
    userinfo_encrypted_response_enc: str | None = None
    authorization_encrypted_response_alg: str | None = Field(None, description="JARM §3")
    authorization_encrypted_response_enc: str | None = None
    dpop_bound_access_tokens: bool | None = Field(
        None, description="RFC 9449 §5.2: tokens only with a DPoP proof"
    )
    # RFC 8705 (protocol/mtls_metadata.py): tls_client_auth's one certificate subject
    # (§2.1.2) and certificate-bound access tokens (§3.4); null removes one.
    tls_client_auth_subject_dn: str | None = None
    tls_client_auth_san_dns: str | None = None
    tls_client_auth_san_uri: str | None = None
    tls_client_auth_san_ip: str | None = None
    tls_client_auth_san_email: str | None = None
    tls_client_certificate_bound_access_tokens: bool | None = None
    client_uri: str | None = None
    logo_uri: str | None = None
    tos_uri: str | None = None
    policy_uri: str | None = None
    contacts: list[str] | None = None


class ClientCreate(_ClientFields):
    client_name: str = Field(min_length=1, max_length=200)
    client_id: str | None = Field(None, min_length=1, max_length=200)


class ClientUpdate(_ClientFields):
    """Only the fields sent change; null removes an optional field."""

    client_name: str | None = Field(None, min_length=1, max_length=200)
