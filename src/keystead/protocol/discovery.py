"""Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2), derived from the dispatch tables
so it can never advertise what is not implemented."""

from __future__ import annotations

from typing import Any

from keystead.config import Settings
from keystead.jose.keys import SUPPORTED_ALGS
from keystead.protocol import jar, jarm, mtls_metadata, par, pkce, scopes
from keystead.protocol.acr import ACR_VALUES
from keystead.protocol.authorize import DISPLAY_VALUES, prompt_values
from keystead.protocol.ciba_metadata import DELIVERY_MODES
from keystead.protocol.client_auth import CLIENT_AUTH_METHODS, signing_algs
from keystead.protocol.dpop import SIGNING_ALGS as DPOP_SIGNING_ALGS
from keystead.protocol.grants import GRANTS
from keystead.protocol.response import RESPONSE_MODES
from keystead.protocol.response_metadata import discovery_metadata
from keystead.protocol.response_types import RESPONSE_TYPES

ENDPOINTS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/jwks",
    "revocation_endpoint": "/revoke",
    "introspection_endpoint": "/introspect",
    "end_session_endpoint": "/logout",
    "registration_endpoint": "/register",  # RFC 7591 §3
    "device_authorization_endpoint": "/device_authorization",  # RFC 8628 §4
    "backchannel_authentication_endpoint": "/bc-authorize",  # CIBA Core 1.0 §4
}


def metadata(settings: Settings) -> dict[str, Any]:
    url = settings.url
    claims = sorted(
        {c for names in scopes.SCOPE_CLAIMS.values() for c in names}
        | {
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "sid",
            "amr",
            "azp",
            "acr",
            "c_hash",
            "s_hash",
        }
    )
    document: dict[str, Any] = {
        "issuer": settings.issuer,
        **{name: url(path) for name, path in ENDPOINTS.items()},
        "scopes_supported": list(scopes.SCOPES_SUPPORTED),
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": list(GRANTS),
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        # RFC 7662 §2.1: callers must authenticate; public clients cannot.
        "introspection_endpoint_auth_methods_supported": [
            m for m in CLIENT_AUTH_METHODS if m != "none"
        ],
        "introspection_signing_alg_values_supported": ["RS256"],  # RFC 9701 §7
        # client_secret_jwt / private_key_jwt assertions (RFC 8414 §2, OIDC Discovery §3)
        "token_endpoint_auth_signing_alg_values_supported": signing_algs(),
        "dpop_signing_alg_values_supported": list(DPOP_SIGNING_ALGS),  # RFC 9449 §5.1
        "revocation_endpoint_auth_signing_alg_values_supported": signing_algs(),
        "introspection_endpoint_auth_signing_alg_values_supported": signing_algs(),
        "code_challenge_methods_supported": list(pkce.METHODS_SUPPORTED),
        "claims_supported": claims,
        "claims_parameter_supported": True,
        "acr_values_supported": list(ACR_VALUES),
        "display_values_supported": list(DISPLAY_VALUES),
        # RFC 9101 (protocol/jar.py): request objects by value and by registered reference.
        "request_parameter_supported": True,
        "request_uri_parameter_supported": True,
        "require_request_uri_registration": True,
        "request_object_signing_alg_values_supported": list(jar.SIGNING_ALGS),
        # RFC 9126 §5 (protocol/par.py)
        "pushed_authorization_request_endpoint": url(par.PATH),
        "require_pushed_authorization_requests": settings.require_par,
        # JARM §4 (protocol/jarm.py)
        "authorization_signing_alg_values_supported": list(jarm.SIGNING_ALGS),
        "prompt_values_supported": list(prompt_values(settings.signup)),
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        # OIDC Back-Channel Logout §2.1: logout tokens, with sid (protocol/backchannel.py)
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        # Front-Channel Logout 1.0 §3
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
        # CIBA Core 1.0 §4: poll and ping (no push), no signed requests (so no
        # backchannel_authentication_request_signing_alg_values_supported), no user_code.
        "backchannel_token_delivery_modes_supported": list(DELIVERY_MODES),
        "backchannel_user_code_parameter_supported": False,
        "claim_types_supported": ["normal"],
        "ui_locales_supported": ["en"],
        # OIDC Core §8 pairwise subjects, §10 signed and encrypted responses
        **discovery_metadata(),
    }
    return document | mtls_metadata.discovery(settings, document)  # RFC 8705 §3.3, §5
