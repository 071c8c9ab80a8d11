"""The FAPI 2.0 Security Profile's rules (protocol/fapi.py) on plain Client objects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.protocol import fapi
from keystead.store.base import Client


def client(profile: str | None = "fapi2", **fields: Any) -> Client:
    extra: dict[str, Any] = {
        "dpop_bound_access_tokens": True,
        "jwks": {"keys": []},
        "token_endpoint_auth_signing_alg": "ES256",
    }
    if profile is not None:
        extra["profile"] = profile
    extra.update(fields.pop("extra", {}))
    base = Client(
        client_id="bank",
        client_name="Bank",
        redirect_uris=("https://bank.example/cb",),
        grant_types=("authorization_code", "refresh_token"),
        response_types=("code",),
        scope="openid",
        token_endpoint_auth_method="private_key_jwt",
        id_token_signed_response_alg="PS256",
        extra=extra,
    )
    return replace(base, **fields)


def problem(c: Client) -> tuple[str, str]:
    found = fapi.client_problem(c)
    assert found is not None
    return found


def test_a_conforming_client_passes_and_others_are_not_looked_at() -> None:
    assert fapi.client_problem(client()) is None
    sloppy = client(profile=None, token_endpoint_auth_method="client_secret_basic")
    assert fapi.client_problem(sloppy) is None  # no profile: no FAPI rules
    assert not fapi.is_fapi2(sloppy)


def test_every_rule_names_its_section_and_a_fix() -> None:
    for rule in fapi.CLIENT_RULES:
        assert rule.section.startswith("5.")
        assert rule.fix


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"token_endpoint_auth_method": "none"}, "token_endpoint_auth_method", "confidential"),
        (
            {"token_endpoint_auth_method": "client_secret_basic"},
            "token_endpoint_auth_method",
            "not client_secret_basic",
        ),
        (
            {"token_endpoint_auth_method": "client_secret_jwt"},
            "token_endpoint_auth_method",
            "§5.3.2.1",
        ),
        ({"extra": {"dpop_bound_access_tokens": False}}, "dpop_bound_access_tokens", "DPoP"),
        ({"response_types": ("code", "code id_token")}, "response_types", "no hybrid"),
        ({"response_types": ("token",)}, "response_types", "no implicit"),
        ({"grant_types": ("authorization_code", "implicit")}, "grant_types", "implicit"),
        ({"require_pkce": False}, "require_pkce", "§5.3.2.2"),
        ({"redirect_uris": ("http://localhost:8080/cb",)}, "redirect_uris", "§5.2.1"),
        ({"id_token_signed_response_alg": "RS256"}, "id_token_signed_response_alg", "§5.4.1"),
        (
            {"extra": {"request_object_signing_alg": "RS256"}},
            "id_token_signed_response_alg",
            "request_object",
        ),
        (
            {"extra": {"authorization_signed_response_alg": "RS256"}},
            "id_token_signed_response_alg",
            "authorization_signed",
        ),
        (
            {"extra": {"userinfo_signed_response_alg": "RS256"}},
            "id_token_signed_response_alg",
            "userinfo",
        ),
        (
            {"extra": {"token_endpoint_auth_signing_alg": None}},
            "id_token_signed_response_alg",
            "must be registered",
        ),
    ],
)
def test_refusals(fields: dict[str, Any], field: str, words: str) -> None:
    name, message = problem(client(**fields))
    assert name == field
    assert message.startswith("FAPI 2.0 Security Profile §")
    assert words in message
    assert "Fix:" in message


def test_a_client_without_front_channel_passes() -> None:
    machine = client(response_types=(), grant_types=("client_credentials",), redirect_uris=())
    assert fapi.client_problem(machine) is None


def test_mtls_methods_and_binding_are_accepted() -> None:
    mtls = client(
        token_endpoint_auth_method="tls_client_auth",
        extra={
            "dpop_bound_access_tokens": False,
            "tls_client_certificate_bound_access_tokens": True,
            "token_endpoint_auth_signing_alg": None,
        },
    )
    assert fapi.client_problem(mtls) is None


def test_several_broken_rules_are_all_said() -> None:
    _, message = problem(
        client(token_endpoint_auth_method="client_secret_post", require_pkce=False)
    )
    assert "client_secret_post" in message and "Also:" in message and "PKCE" in message


def test_profile_values() -> None:
    assert fapi.profile_value("fapi2") == "fapi2"
    assert fapi.profile_value(None) is None and fapi.profile_value("none") is None
    with pytest.raises(ValueError, match="fapi2"):
        fapi.profile_value("fapi1")


def test_request_rules() -> None:
    c = client()
    fapi.check_request(c, "code", None, "x" * 43, "S256")
    fapi.check_request(client(profile=None), "code id_token", None, None, None)
    for args, catalog_id in (
        (("code id_token", None, "x", "S256"), "fapi-response-type"),
        (("code", None, None, None), "fapi-pkce-required"),
        (("code", None, "x", "plain"), "fapi-pkce-required"),
        (("code", "query.jwt", "x", "S256"), "fapi-response-mode"),
    ):
        with pytest.raises(OAuthError) as err:
            fapi.check_request(c, *args)
        assert err.value.catalog_id == catalog_id
        assert "FAPI 2.0 Security Profile" in err.value.description
    signed = client(extra={"authorization_signed_response_alg": "ES256"})
    fapi.check_request(signed, "code", "query.jwt", "x", "S256")


def test_pushed_only() -> None:
    fapi.check_pushed(client(), True)
    fapi.check_pushed(client(profile=None), False)
    with pytest.raises(OAuthError) as err:
        fapi.check_pushed(client(), False)
    assert err.value.catalog_id == "fapi-par-required"
    assert err.value.error == "invalid_request"


def test_lifetimes_and_audiences() -> None:
    assert fapi.code_ttl(client(), 300) == 60 and fapi.code_ttl(client(), 30) == 30
    assert fapi.code_ttl(client(profile=None), 300) == 300
    assert fapi.par_ttl(client(), 600) == 599 and fapi.par_ttl(client(), 60) == 60
    assert fapi.par_ttl(client(profile=None), 600) == 600
    many = frozenset({"https://id.example", "https://id.example/token"})
    assert fapi.assertion_audiences(client(), many, "https://id.example") == {"https://id.example"}
    assert fapi.assertion_audiences(client(profile=None), many, "https://id.example") == many


# --- a DPoP proof at /par (protocol/par_dpop.py, RFC 9449 §10.1) ---


@pytest.mark.anyio
async def test_par_dpop_binds_and_checks_dpop_jkt(provider: Any, clock: Any) -> None:
    from joserfc.jwk import ECKey

    from keystead.protocol import par_dpop
    from keystead.protocol.request import from_pairs
    from tests.e2e.test_dpop import proof

    key, other = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    client = Client("rp", "RP", (), (), ("code",), "openid", "private_key_jwt")
    url = provider.settings.url("/par")

    def pushed(dpop: str | None, *pairs: tuple[str, str]) -> tuple[Any, Any]:
        headers = {} if dpop is None else {"dpop": dpop}
        req = from_pairs("POST", [("client_id", "rp"), *pairs], headers=headers)
        return req, from_pairs("POST", [("client_id", "rp"), *pairs])

    req, effective = pushed(None)
    assert await par_dpop.bind(req, effective, provider, client) is effective  # no header: no work
    req, effective = pushed(proof(key, "POST", url, clock()))
    bound = await par_dpop.bind(req, effective, provider, client)
    assert bound.get("dpop_jkt") == key.thumbprint()
    req, effective = pushed(proof(key, "POST", url, clock()), ("dpop_jkt", key.thumbprint()))
    assert (await par_dpop.bind(req, effective, provider, client)).get(
        "dpop_jkt"
    ) == key.thumbprint()
    req, effective = pushed(proof(key, "POST", url, clock()), ("dpop_jkt", other.thumbprint()))
    with pytest.raises(OAuthError) as err:
        await par_dpop.bind(req, effective, provider, client)
    assert err.value.catalog_id == "par-dpop-jkt-mismatch" and err.value.error == "invalid_request"
    req, effective = pushed(proof(key, "GET", url, clock()))
    with pytest.raises(OAuthError) as err:
        await par_dpop.bind(req, effective, provider, client)
    assert err.value.error == "invalid_dpop_proof" and "htm" in err.value.description
