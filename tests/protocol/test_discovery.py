"""Provider metadata (OIDC Discovery §3, RFC 8414 §2), derived from the dispatch tables."""

from __future__ import annotations

import pytest

from keystead.config import Settings
from keystead.jose.keys import SUPPORTED_ALGS
from keystead.protocol import discovery, pkce
from keystead.protocol.client_auth import CLIENT_AUTH_METHODS
from keystead.protocol.grants import GRANTS
from keystead.protocol.response import RESPONSE_MODES
from keystead.protocol.response_types import RESPONSE_TYPES

URL_FIELDS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


@pytest.fixture
def metadata(tmp_path):
    return discovery.metadata(Settings(issuer="https://id.example.com", data_dir=tmp_path))


def test_issuer_is_the_configured_one(metadata) -> None:
    assert metadata["issuer"] == "https://id.example.com"


def test_every_endpoint_url_starts_with_the_issuer(metadata) -> None:
    for name in URL_FIELDS:
        assert metadata[name].startswith("https://id.example.com/"), name
    assert metadata["token_endpoint"] == "https://id.example.com/token"


@pytest.mark.parametrize("issuer", ["https://example.com/tenant1", "https://example.com/tenant1/"])
def test_issuer_with_a_path_puts_every_endpoint_under_it(tmp_path, issuer) -> None:
    metadata = discovery.metadata(Settings(issuer=issuer, data_dir=tmp_path))
    assert metadata["issuer"] == "https://example.com/tenant1"
    for name in URL_FIELDS:
        assert metadata[name].startswith("https://example.com/tenant1/"), name
    assert metadata["jwks_uri"] == "https://example.com/tenant1/jwks"


def test_advertised_values_equal_the_dispatch_tables(metadata) -> None:
    assert metadata["grant_types_supported"] == list(GRANTS)
    assert metadata["response_types_supported"] == list(RESPONSE_TYPES)
    assert metadata["response_modes_supported"] == list(RESPONSE_MODES)
    # The mTLS methods (RFC 8705) only when mTLS is enabled: nothing else brings a certificate.
    without_mtls = [m for m in CLIENT_AUTH_METHODS if "tls_client_auth" not in m]
    assert metadata["token_endpoint_auth_methods_supported"] == without_mtls
    assert metadata["code_challenge_methods_supported"] == list(pkce.METHODS_SUPPORTED)
    assert metadata["id_token_signing_alg_values_supported"] == list(SUPPORTED_ALGS)


def test_metadata_follows_a_new_grant(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(GRANTS, "urn:example:grant", object())
    metadata = discovery.metadata(Settings(issuer="https://id.example.com", data_dir=tmp_path))
    assert "urn:example:grant" in metadata["grant_types_supported"]


def test_unsupported_features_are_advertised_as_such(metadata) -> None:
    # RFC 9101 (docs/par-jar-jarm.md): request objects by value and by registered reference.
    assert metadata["request_uri_parameter_supported"] is True
    assert metadata["request_parameter_supported"] is True
    assert metadata["require_request_uri_registration"] is True
    assert metadata["require_pushed_authorization_requests"] is False
    assert metadata["pushed_authorization_request_endpoint"].endswith("/par")
    assert {"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"} <= set(
        metadata["response_modes_supported"]
    )
    assert metadata["claims_parameter_supported"] is True  # OIDC Core §5.5 (issue 4)
    assert "plain" not in metadata["code_challenge_methods_supported"]
    assert "none" not in metadata["id_token_signing_alg_values_supported"]


def test_required_oidc_discovery_fields(metadata) -> None:
    # OIDC Discovery §3: REQUIRED metadata
    for name in (
        "issuer",
        "authorization_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ):
        assert metadata[name], name
    assert metadata["authorization_response_iss_parameter_supported"] is True  # RFC 9207


def test_claims_and_scopes(metadata) -> None:
    assert {"sub", "email", "name", "iss", "aud", "at_hash"} <= set(metadata["claims_supported"])
    assert metadata["claims_supported"] == sorted(metadata["claims_supported"])
    assert "openid" in metadata["scopes_supported"]
