"""Mutual TLS (RFC 8705): subject DN and SAN matching, thumbprints, the two client
authentication methods, certificate-bound tokens, client metadata and discovery."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from keystead.errors import OAuthError
from keystead.protocol import mtls, mtls_certs, mtls_chain, mtls_metadata
from keystead.protocol.client_auth import authenticate_client
from keystead.protocol.discovery import metadata
from keystead.protocol.request import OAuthRequest
from keystead.protocol.tokens import resolve_access_token
from keystead.protocol.userinfo import userinfo_for
from tests.mtls.pki import issue, issue_ca, jwk_of, make_ca

pytestmark = pytest.mark.anyio

CA = make_ca()
GOOD = issue(
    CA,
    "client.example.com",
    dns=("client.example.com",),
    uris=("https://client.example.com/id",),
    ips=("192.0.2.7", "2001:db8::7"),
    emails=("ops@Example.COM",),
)
OTHER = issue(CA, "other.example.com", dns=("other.example.com",))
SELF = issue(None, "self-signed client")
ROGUE_CA = make_ca("Rogue CA")
ROGUE = issue(ROGUE_CA, "client.example.com", dns=("client.example.com",))


def request(cert: bytes | None, **params: str) -> OAuthRequest:
    return OAuthRequest(
        "POST",
        {"grant_type": "client_credentials", "client_id": "m", **params},
        client_cert=None if cert is None else (cert,),
    )


# --- pure certificate checks ---


@pytest.mark.parametrize(
    "registered",
    [
        "CN=client.example.com,O=Example,C=SE",
        "cn=CLIENT.example.com, o=example , c=se",
        "CN=client.example.com;O=Example;C=SE",
        "2.5.4.3=client.example.com,O=Example,C=SE",
        "OID.2.5.4.3=client.example.com,O=Example,C=SE",
        "CN=client.example.com,O=Ex\\61mple,C=SE",
    ],
)
def test_subject_dn_matches_as_rfc4514_names(registered: str) -> None:
    assert mtls_certs.dn_matches(registered, mtls_certs.load(GOOD.der))


@pytest.mark.parametrize(
    "registered",
    [
        "CN=other.example.com,O=Example,C=SE",
        "C=SE,O=Example,CN=client.example.com",  # RDN order counts
        "CN=client.example.com,O=Example",  # an RDN missing
        "CN=client.example.com,O=Example,C=SE,DC=extra",
        "XX=client.example.com,O=Example,C=SE",  # unknown attribute type
        "not a dn",
    ],
)
def test_subject_dn_mismatches(registered: str) -> None:
    assert not mtls_certs.dn_matches(registered, mtls_certs.load(GOOD.der))


def test_multi_valued_rdn_in_any_order() -> None:
    a = mtls_certs.parse_dn("CN=x+UID=7,O=Example")
    b = mtls_certs.parse_dn("uid=7+cn=X,o=example")
    assert a == b


@pytest.mark.parametrize(
    ("name", "registered", "ok"),
    [
        (mtls_certs.SAN_DNS, "client.example.com", True),
        (mtls_certs.SAN_DNS, "CLIENT.example.com.", True),
        (mtls_certs.SAN_DNS, "other.example.com", False),
        (mtls_certs.SAN_URI, "https://client.example.com/id", True),
        (mtls_certs.SAN_URI, "https://client.example.com/ID", False),
        (mtls_certs.SAN_IP, "192.0.2.7", True),
        (mtls_certs.SAN_IP, "2001:0db8:0::7", True),
        (mtls_certs.SAN_IP, "192.0.2.8", False),
        (mtls_certs.SAN_EMAIL, "ops@example.com", True),
        (mtls_certs.SAN_EMAIL, "OPS@example.com", False),  # the local part is exact
    ],
)
def test_san_matching(name: str, registered: str, ok: bool) -> None:
    cert = mtls_certs.load(GOOD.der)
    if ok:
        mtls_certs.check_subject(name, registered, cert)
    else:
        with pytest.raises(OAuthError) as caught:
            mtls_certs.check_subject(name, registered, cert)
        assert caught.value.catalog_id == "mtls-subject-mismatch"
        assert registered in caught.value.description  # what was registered
        assert "names:" in caught.value.description  # and what was presented


def test_thumbprint_is_base64url_sha256_of_der() -> None:
    expected = base64.urlsafe_b64encode(hashlib.sha256(GOOD.der).digest()).rstrip(b"=")
    assert mtls_certs.thumbprint(GOOD.der) == expected.decode()
    assert "=" not in mtls_certs.thumbprint(GOOD.der)


def test_chain_check(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(CA.pem)
    mtls_chain.check_chain((GOOD.der,), ca_file, 1_700_000_000)
    with pytest.raises(OAuthError) as caught:
        mtls_chain.check_chain((ROGUE.der,), ca_file, 1_700_000_000)
    assert caught.value.catalog_id == "mtls-certificate-invalid"
    assert "KEYSTEAD_MTLS_CA_FILE" in caught.value.description


def test_chain_check_of_certificates_without_san(tmp_path: Path) -> None:
    """A certificate naming its holder only in the subject DN still chains (the web PKI
    profile of cryptography's verifier wants a SAN); through an intermediate too."""
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(CA.pem)
    plain = issue(CA, "dn only")
    mtls_chain.check_chain((plain.der,), ca_file, 1_700_000_000)
    intermediate = issue_ca(CA, "Issuing CA")
    below = issue(intermediate, "dn only, below")
    mtls_chain.check_chain((below.der, intermediate.der), ca_file, 1_700_000_000)
    for chain, when in (
        ((below.der,), 1_700_000_000),  # the intermediate not sent
        ((issue(ROGUE_CA, "dn only").der,), 1_700_000_000),  # another CA
        ((plain.der,), 2_300_000_000),  # expired (2042)
        ((issue(None, "self").der,), 1_700_000_000),
        ((below.der, issue(CA, "not a CA").der), 1_700_000_000),
    ):
        with pytest.raises(OAuthError) as caught:
            mtls_chain.check_chain(chain, ca_file, when)
        assert caught.value.catalog_id == "mtls-certificate-invalid"


def test_garbage_is_not_a_certificate() -> None:
    with pytest.raises(OAuthError) as caught:
        mtls_certs.load(b"\x30\x03garbage")
    assert caught.value.catalog_id == "mtls-certificate-invalid"


# --- client authentication (§2) ---


async def pki_client(make_client, **extra):
    return await make_client(
        "m",
        secret=None,
        token_endpoint_auth_method="tls_client_auth",
        grant_types=("client_credentials",),
        scope="api:read",
        extra=extra,
    )


API = "https://api.example.com"


async def add_api(provider, token_format: str) -> None:
    from keystead.store.base import Api

    await provider.store.apis.add(
        Api("api-1", API, "API", (("api:read", "Read"),), token_format, 600, 1_700_000_000)
    )


async def test_tls_client_auth(provider, make_client) -> None:
    client = await pki_client(make_client, tls_client_auth_san_dns="client.example.com")
    assert await authenticate_client(request(GOOD.der), provider) == client


async def test_tls_client_auth_refusals(provider, make_client, tmp_path: Path) -> None:
    await pki_client(make_client, tls_client_auth_subject_dn="CN=client.example.com,O=Example,C=SE")
    for cert, catalog_id, words in (
        (None, "mtls-certificate-missing", "mutual TLS"),
        (OTHER.der, "mtls-subject-mismatch", "CN=other.example.com"),
    ):
        with pytest.raises(OAuthError) as caught:
            await authenticate_client(request(cert), provider)
        assert caught.value.catalog_id == catalog_id
        assert caught.value.error == "invalid_client"
        assert words in caught.value.description


async def test_tls_client_auth_checks_the_configured_ca(make_provider, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(CA.pem)
    provider = await make_provider(mtls_ca_file=ca_file)
    from keystead.store.base import Client

    await provider.store.clients.add(
        Client(
            client_id="m",
            client_name="m",
            redirect_uris=(),
            grant_types=("client_credentials",),
            response_types=(),
            scope="",
            token_endpoint_auth_method="tls_client_auth",
            client_secret_hash=None,
            created_at=0,
            extra={"tls_client_auth_san_dns": "client.example.com"},
        )
    )
    await authenticate_client(request(GOOD.der), provider)
    with pytest.raises(OAuthError) as caught:  # the same subject from another CA
        await authenticate_client(request(ROGUE.der), provider)
    assert caught.value.catalog_id == "mtls-certificate-invalid"


async def test_self_signed_tls_client_auth(provider, make_client) -> None:
    await make_client(
        "m",
        secret=None,
        token_endpoint_auth_method="self_signed_tls_client_auth",
        grant_types=("client_credentials",),
        extra={"jwks": {"keys": [jwk_of(SELF)]}},
    )
    await authenticate_client(request(SELF.der), provider)
    with pytest.raises(OAuthError) as caught:
        await authenticate_client(request(OTHER.der), provider)
    assert caught.value.catalog_id == "mtls-key-mismatch"
    assert mtls_certs.thumbprint(OTHER.der) in caught.value.description


async def test_a_secret_is_not_mtls(provider, make_client) -> None:
    await pki_client(make_client, tls_client_auth_san_dns="client.example.com")
    with pytest.raises(OAuthError) as caught:
        await authenticate_client(request(GOOD.der, client_secret="x"), provider)
    assert caught.value.catalog_id == "client-auth-method-mismatch"


# --- certificate-bound tokens (§3, §4) ---


@pytest.mark.parametrize("token_format", ["opaque", "jwt"])
async def test_bound_access_token(provider, make_client, token_format: str) -> None:
    from keystead.protocol.introspection import _access_claims
    from keystead.protocol.token import token_endpoint

    await add_api(provider, token_format)
    await pki_client(
        make_client,
        tls_client_auth_san_dns="client.example.com",
        tls_client_certificate_bound_access_tokens=True,
    )
    body = await token_endpoint(request(GOOD.der, resource=API), provider)
    x5t = mtls_certs.thumbprint(GOOD.der)
    token = await resolve_access_token(provider, body["access_token"])
    assert token is not None and token.x5t_s256 == x5t
    if token_format == "jwt":  # RFC 8705 §3.1
        import json

        payload = body["access_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["cnf"] == {"x5t#S256": x5t}
    introspected = await _access_claims(provider, body["access_token"])  # RFC 8705 §3.2
    assert introspected is not None and introspected["cnf"] == {"x5t#S256": x5t}
    assert introspected["token_type"] == "Bearer"
    assert mtls.check_presented(token.x5t_s256, request(GOOD.der)) is None
    missing = mtls.check_presented(token.x5t_s256, request(None))
    assert missing is not None and "without one" in missing
    other = mtls.check_presented(token.x5t_s256, request(OTHER.der))
    assert other is not None and mtls_certs.thumbprint(OTHER.der) in other


async def test_bound_tokens_need_a_certificate(provider, make_client) -> None:
    from keystead.protocol.token import token_endpoint

    await add_api(provider, "opaque")
    await make_client(
        "m",
        grant_types=("client_credentials",),
        token_endpoint_auth_method="client_secret_post",
        scope="api:read",
        extra={"tls_client_certificate_bound_access_tokens": True},
    )
    req = request(None, client_secret="rp-secret")
    with pytest.raises(OAuthError) as caught:
        await token_endpoint(req, provider)
    assert caught.value.catalog_id == "mtls-certificate-missing"
    body = await token_endpoint(request(GOOD.der, client_secret="rp-secret"), provider)
    assert (await resolve_access_token(provider, body["access_token"])).x5t_s256
    assert body["token_type"] == "Bearer"


async def test_userinfo_refuses_a_bound_token_without_its_certificate(
    provider, make_client, oauth, user
) -> None:
    from keystead.store.base import AccessToken, Grant

    await make_client()
    grant = Grant("g1", "rp", user.sub, "openid", 1_700_000_000 - 10)
    await provider.store.grants.add_grant(grant)
    await provider.store.grants.add_access_token(
        AccessToken(
            token_hash=hashlib.sha256(b"tok").hexdigest(),
            grant_id="g1",
            client_id="rp",
            sub=user.sub,
            scope="openid",
            expires_at=1_700_000_000 + 600,
            created_at=1_700_000_000,
            aud=(provider.settings.issuer,),
            x5t_s256=mtls_certs.thumbprint(GOOD.der),
        )
    )

    def at(cert: bytes | None) -> OAuthRequest:
        return OAuthRequest(
            "GET",
            {},
            authorization="Bearer tok",
            client_cert=None if cert is None else (cert,),
        )

    _, claims = await userinfo_for(at(GOOD.der), provider)
    assert claims["sub"]
    for cert in (None, OTHER.der):
        with pytest.raises(OAuthError) as caught:
            await userinfo_for(at(cert), provider)
        assert caught.value.catalog_id == "mtls-token-bound"
        assert caught.value.error == "invalid_token"
        assert 'error="invalid_token"' in caught.value.headers["WWW-Authenticate"]


def test_refresh_binding() -> None:
    x5t = mtls_certs.thumbprint(GOOD.der)
    mtls.check_refresh(None, request(None))
    mtls.check_refresh(x5t, request(GOOD.der))
    for cert in (None, OTHER.der):
        with pytest.raises(OAuthError) as caught:
            mtls.check_refresh(x5t, request(cert))
        assert caught.value.catalog_id == "mtls-refresh-bound"


# --- metadata and discovery ---


@pytest.mark.parametrize(
    ("values", "method", "has_keys", "field"),
    [
        ({}, "tls_client_auth", False, "tls_client_auth_subject_dn"),
        (
            {"tls_client_auth_san_dns": "a.example", "tls_client_auth_san_ip": "192.0.2.1"},
            "tls_client_auth",
            False,
            "tls_client_auth_san_ip",
        ),
        (
            {"tls_client_auth_san_ip": "not-an-ip"},
            "tls_client_auth",
            False,
            "tls_client_auth_san_ip",
        ),
        (
            {"tls_client_auth_subject_dn": "nonsense"},
            "tls_client_auth",
            False,
            "tls_client_auth_subject_dn",
        ),
        (
            {"tls_client_auth_san_dns": "a.example"},
            "client_secret_basic",
            False,
            "tls_client_auth_san_dns",
        ),
        ({}, "self_signed_tls_client_auth", False, "jwks"),
        ({"tls_client_certificate_bound_access_tokens": "yes"}, "none", False, mtls.BOUND),
    ],
)
def test_metadata_refusals(values, method, has_keys, field) -> None:
    broken = mtls_metadata.problem(values, method, has_keys)
    assert broken is not None and broken[0] == field


def test_metadata_accepted() -> None:
    good = {"tls_client_auth_subject_dn": "CN=a,O=b", mtls.BOUND: True}
    assert mtls_metadata.problem(good, "tls_client_auth", False) is None
    assert mtls_metadata.problem({}, "self_signed_tls_client_auth", True) is None
    assert mtls_metadata.stored({mtls.BOUND: False, "tls_client_auth_san_dns": None}) == {}


async def test_discovery(make_provider) -> None:
    plain = metadata((await make_provider()).settings)
    assert "mtls_endpoint_aliases" not in plain
    assert "tls_client_auth" not in plain["token_endpoint_auth_methods_supported"]
    settings = (await make_provider(mtls_base_url="https://mtls.example.com")).settings
    doc = metadata(settings)
    assert doc["tls_client_certificate_bound_access_tokens"] is True
    assert {"tls_client_auth", "self_signed_tls_client_auth"} <= set(
        doc["token_endpoint_auth_methods_supported"]
    )
    aliases = doc["mtls_endpoint_aliases"]
    assert aliases["token_endpoint"] == "https://mtls.example.com/token"
    assert aliases["userinfo_endpoint"] == "https://mtls.example.com/userinfo"
    assert set(aliases) >= {"introspection_endpoint", "revocation_endpoint"}
    assert "authorization_endpoint" not in aliases


async def test_public_client_refresh_tokens_are_bound(
    provider, make_client, oauth, session
) -> None:
    """RFC 8705 §4: a public client's refresh token is bound to the certificate; its access
    tokens too (§3), and a confidential client's refresh token is not."""
    from keystead.protocol.token import token_endpoint

    spa = await make_client(
        "spa",
        secret=None,
        token_endpoint_auth_method="none",
        grant_types=("authorization_code", "refresh_token"),
        extra={mtls.BOUND: True},
    )
    code = await oauth.code(spa, session, scope="openid offline_access")
    first = await token_endpoint(
        oauth.token_request(spa, code)._replace(client_cert=(GOOD.der,)), provider
    )
    x5t = mtls_certs.thumbprint(GOOD.der)
    stored = await provider.store.grants.get_refresh_token(
        hashlib.sha256(first["refresh_token"].encode()).hexdigest()
    )
    assert stored is not None and stored[0].x5t_s256 == x5t

    def refresh(cert: bytes | None) -> OAuthRequest:
        req = oauth.token_request(
            spa,
            None,
            grant_type="refresh_token",
            refresh_token=first["refresh_token"],
            redirect_uri=None,
            code_verifier=None,
        )
        return req._replace(client_cert=None if cert is None else (cert,))

    with pytest.raises(OAuthError) as caught:  # another certificate
        await token_endpoint(refresh(OTHER.der), provider)
    assert caught.value.catalog_id == "mtls-refresh-bound"
    second = await token_endpoint(refresh(GOOD.der), provider)
    renewed = await resolve_access_token(provider, second["access_token"])
    assert renewed is not None and renewed.x5t_s256 == x5t
