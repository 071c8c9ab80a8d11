"""The redirect URI rule table (protocol/redirect_uris.py): registration by application_type,
and matching at the authorization endpoint, including RFC 8252 native apps."""

from __future__ import annotations

import pytest

from keystead.errors import OAuthError
from keystead.protocol import issue
from keystead.protocol.redirect_uris import (
    RedirectUriError,
    check_registration,
    is_registered,
    kind_of,
    matches,
)
from keystead.services.clients import ClientSpec, ClientSpecError, validate_spec

pytestmark = pytest.mark.anyio


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("https://app.example.com/cb", "https"),
        ("http://127.0.0.1/callback", "loopback-ip"),
        ("http://127.0.0.1:8080/callback", "loopback-ip"),
        ("http://[::1]/callback", "loopback-ip"),
        ("http://localhost:3000/callback", "localhost"),
        ("com.example.app:/oauth2redirect", "private-use"),
    ],
)
def test_kinds(uri: str, kind: str) -> None:
    assert kind_of(uri) == kind


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("http://app.example.com/cb", "use https"),
        ("/relative/cb", "absolute URI"),
        ("https://app.example.com/cb#frag", "fragment"),
        ("myapp:/cb", "reverse-domain private-use scheme"),  # RFC 8252 §7.1: no domain
        ("javascript:alert(1)", "reverse-domain private-use scheme"),
        ("https://app.example.com:99999/cb", "invalid port"),
        ("https://[::1/cb", "not a valid URI"),
        # RFC 3986 host syntax: a CSP injection through the authority (issue 18 #3).
        ("https://a;frame-ancestors *;@evil.example/cb", "not allowed in a URI"),
        ("https://a;frame-ancestors;@evil.example/cb", "user information"),
        ("https://rp.example;x/cb", "invalid host"),
        ("https://rp*.example/cb", "invalid host"),
        ("https://rp.example/c b", "not allowed in a URI"),
        ("https://rp.example/cb\n", "not allowed in a URI"),
        ("http://[::1]x/cb", "invalid IPv6 host"),
        ("https://[zz::1]/cb", "invalid IPv6 host|not a valid URI"),
    ],
)
@pytest.mark.parametrize("application_type", ["web", "native"])
def test_never_registrable(uri: str, says: str, application_type: str) -> None:
    with pytest.raises(RedirectUriError, match=says):
        check_registration(uri, application_type)


def test_private_use_schemes_only_for_native_apps() -> None:
    check_registration("com.example.app:/oauth2redirect", "native")
    with pytest.raises(RedirectUriError, match="--application-type native"):
        check_registration("com.example.app:/oauth2redirect", "web")


@pytest.mark.parametrize(
    "uri",
    ["https://app.example.com/cb", "http://127.0.0.1/cb", "http://[::1]/cb", "http://localhost/cb"],
)
@pytest.mark.parametrize("application_type", ["web", "native"])
def test_https_and_loopback_for_both(uri: str, application_type: str) -> None:
    check_registration(uri, application_type)  # native: claimed https, RFC 8252 §7.2


def test_the_service_uses_the_same_table() -> None:
    spec = ClientSpec(client_name="App", redirect_uris=["com.example.app:/cb"])
    with pytest.raises(ClientSpecError, match="--application-type native"):
        validate_spec(spec)
    spec.application_type = "native"
    validate_spec(spec)


# --- matching --------------------------------------------------------------------------------

LOOPBACK = "http://127.0.0.1/callback"


@pytest.mark.parametrize(
    "sent",
    [
        "http://127.0.0.1:51004/callback",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1/callback",
    ],
)
def test_native_loopback_ip_matches_any_port(sent: str) -> None:
    assert matches(LOOPBACK, sent, "native")  # RFC 8252 §7.3


def test_native_loopback_ipv6_matches_any_port() -> None:
    assert matches("http://[::1]/cb", "http://[::1]:40001/cb", "native")
    assert matches("http://[::1]:8080/cb", "http://[::1]:40001/cb", "native")


@pytest.mark.parametrize(
    "sent",
    [
        "http://127.0.0.1:51004/callback/",  # path
        "http://127.0.0.1:51004/other",
        "http://127.0.0.1:51004/callback?x=1",  # query
        "https://127.0.0.1:51004/callback",  # scheme
        "http://127.0.0.2:51004/callback",  # host
        "http://[::1]:51004/callback",
        "http://localhost:51004/callback",
        "http://user@127.0.0.1:51004/callback",
        "http://127.0.0.1:99999/callback",
        "http://127.0.0.1:51004/callback#x",
    ],
)
def test_native_loopback_is_exact_on_everything_but_the_port(sent: str) -> None:
    assert not matches(LOOPBACK, sent, "native")


def test_web_clients_keep_exact_matching_on_loopback() -> None:
    assert matches("http://127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb", "web")
    assert not matches("http://127.0.0.1:8080/cb", "http://127.0.0.1:8081/cb", "web")
    assert not matches(LOOPBACK, "http://127.0.0.1:51004/callback", "web")


def test_localhost_is_not_a_loopback_ip_for_any_port_matching() -> None:
    # RFC 8252 §8.3: localhost is NOT RECOMMENDED; it is matched exactly.
    registered = "http://localhost/callback"
    assert matches(registered, registered, "native")
    assert not matches(registered, "http://localhost:51004/callback", "native")
    assert not matches("http://localhost:3000/cb", "http://localhost:3001/cb", "native")


def test_private_use_and_https_are_exact_for_native() -> None:
    assert is_registered("com.example.app:/cb", ("com.example.app:/cb",), "native")
    assert not is_registered("com.example.app:/cb2", ("com.example.app:/cb",), "native")
    assert not is_registered(
        "https://app.example.com:444/cb", ("https://app.example.com/cb",), "native"
    )


# --- at the authorization endpoint -------------------------------------------------------------


async def test_native_app_authorizes_on_an_ephemeral_loopback_port(
    oauth, make_client, session
) -> None:
    client = await make_client(
        "cli-app",
        secret=None,
        token_endpoint_auth_method="none",
        application_type="native",
        redirect_uris=(LOOPBACK, "http://[::1]/callback"),
    )
    sent = "http://127.0.0.1:51004/callback"
    areq = await oauth.validate(client, redirect_uri=sent)
    assert areq.redirect_uri == sent  # the response goes to the port the app listens on
    resp = await issue.issue(areq, session, oauth.provider, consent_given_now=True)
    assert resp.redirect_uri == sent
    areq6 = await oauth.validate(client, redirect_uri="http://[::1]:40001/callback")
    assert areq6.redirect_uri == "http://[::1]:40001/callback"


async def test_web_client_loopback_port_must_match(oauth, make_client) -> None:
    client = await make_client(redirect_uris=("http://127.0.0.1:8080/callback",))
    with pytest.raises(OAuthError) as info:
        await oauth.validate(client, redirect_uri="http://127.0.0.1:8081/callback")
    assert info.value.catalog_id == "redirect-uri-mismatch"


async def test_native_localhost_gets_a_hint(oauth, make_client) -> None:
    client = await make_client(
        "cli-app", application_type="native", redirect_uris=("http://localhost/callback",)
    )
    with pytest.raises(OAuthError) as info:
        await oauth.validate(client, redirect_uri="http://localhost:51004/callback")
    err = info.value
    assert err.catalog_id == "redirect-uri-mismatch"
    assert err.redirect is None  # never redirected to an unregistered URI
    assert "use http://127.0.0.1 for any-port matching" in err.description


async def test_native_private_use_scheme_redirect(oauth, make_client, session) -> None:
    uri = "com.example.app:/oauth2redirect"
    client = await make_client(
        "mobile",
        secret=None,
        token_endpoint_auth_method="none",
        application_type="native",
        redirect_uris=(uri,),
    )
    areq = await oauth.validate(client, redirect_uri=uri)
    resp = await issue.issue(areq, session, oauth.provider, consent_given_now=True)
    assert resp.redirect_uri == uri and "code" in resp.params
