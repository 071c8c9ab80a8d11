"""RFC 5849 §3.4 unit tests: the base string of §3.4.1.1's example, exactly; each signature
method against an independent implementation (Authlib's OAuth 1.0 client, the RFC's own
example values); and property tests of the base string against Authlib's and oauthlib's (the
library under requests-oauthlib) for random parameter sets (unicode, reserved characters,
duplicate names)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlencode

import pytest
from authlib.oauth1.rfc5849 import signature as authlib_signature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from oauthlib.oauth1.rfc5849 import signature as oauthlib_signature

from keystead.errors import OAuthError
from keystead.oauth1 import signature
from keystead.oauth1.params import SignedRequest, collect, parse_authorization

# RFC 5849 §3.4.1.1's example request.
EXAMPLE_AUTHORIZATION = (
    'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", '
    'oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", '
    'oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", '
    'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"'
)
EXAMPLE_BASE_STRING = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
    "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
    "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
    "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
    "9d7dh3k39sjv7"
)


def example_request() -> SignedRequest:
    # GET-decoded as web/parse.py does: query b5=%3D%253D&a3=a&c%40=&a2=r%20b, body c2&a3=2+q
    return SignedRequest(
        method="POST",
        url="http://EXAMPLE.com:80/request",
        query=[("b5", "=%3D"), ("a3", "a"), ("c@", ""), ("a2", "r b")],
        form=[("c2", ""), ("a3", "2 q")],
        authorization=EXAMPLE_AUTHORIZATION,
    )


def test_rfc5849_example_base_string_exactly() -> None:
    got = collect(example_request())
    assert got.location == "header"
    assert "realm" not in dict(got.signed)  # §3.4.1.3.1: realm excluded
    base = signature.base_string("POST", "http://EXAMPLE.com:80/request", got.signed)
    assert base == EXAMPLE_BASE_STRING


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),  # §3.4.1.2
        ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),
        ("https://id.example.com:443", "https://id.example.com/"),
        ("http://[::1]:8000/oauth1", "http://[::1]:8000/oauth1"),
    ],
)
def test_base_string_uri(url: str, expected: str) -> None:
    assert signature.base_string_uri(url) == expected


def test_percent_encoding_rfc3986() -> None:
    # §3.6: unreserved kept, everything else %XX upper case over UTF-8
    assert signature.encode("abcABC123-._~") == "abcABC123-._~"
    assert signature.encode("a b+c/=&%é☃") == "a%20b%2Bc%2F%3D%26%25%C3%A9%E2%98%83"


def test_hmac_sha1_matches_the_rfc_example_signature() -> None:
    # §1.2's photos example: GET with consumer dpf43f3p2l4k3l03 and token nnch734d00sl2jdk
    params = [
        ("file", "vacation.jpg"),
        ("size", "original"),
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]
    base = signature.base_string("GET", "http://photos.example.net/photos", params)
    sig = signature.hmac_signature("HMAC-SHA1", base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00")
    # RFC 5849 §1.2: oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"
    assert sig == "MdpQcU8iPSUjWoN/UDMsK2sui9I="
    assert sig == authlib_signature.hmac_sha1_signature(
        base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"
    )
    assert signature.verify(
        "HMAC-SHA1", base, sig, client_secret="kd94hf93k423kf44", token_secret="pfkkdhi9sl3r4s00"
    )
    assert not signature.verify(
        "HMAC-SHA1", base, sig, client_secret="kd94hf93k423kf44", token_secret="other"
    )


def test_hmac_sha256_is_hmac_with_sha256() -> None:
    base = "GET&http%3A%2F%2Fx%2F&a%3Db"
    key = b"c%26s&t"  # the secrets encoded, then joined with "&" (§3.4.2)
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()
    assert signature.hmac_signature("HMAC-SHA256", base, "c&s", "t") == expected
    assert signature.verify("HMAC-SHA256", base, expected, client_secret="c&s", token_secret="t")
    assert not signature.verify("HMAC-SHA1", base, expected, client_secret="c&s", token_secret="t")


def test_rsa_sha1_against_authlib() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    base = EXAMPLE_BASE_STRING
    sig = authlib_signature.rsa_sha1_signature(base, pem)
    loaded = signature.load_rsa_public_key(public_pem)
    assert signature.verify(
        "RSA-SHA1", base, sig, client_secret=None, token_secret="", rsa_public_key=loaded
    )
    assert not signature.verify(
        "RSA-SHA1", base + "x", sig, client_secret=None, token_secret="", rsa_public_key=loaded
    )
    assert not signature.verify(
        "RSA-SHA1", base, "not base64!", client_secret=None, token_secret="", rsa_public_key=loaded
    )
    # an RSA-SHA1 signature made with another key does not verify
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = base64.b64encode(
        other.sign(base.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    ).decode()
    assert not signature.verify(
        "RSA-SHA1", base, forged, client_secret=None, token_secret="", rsa_public_key=loaded
    )


def test_small_or_non_rsa_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505
    pem = small.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(ValueError, match="2048"):
        signature.load_rsa_public_key(pem)
    with pytest.raises(ValueError):
        signature.load_rsa_public_key("not a key")


def test_plaintext() -> None:
    assert signature.plaintext_signature("c&s", "t s") == "c%26s&t%20s"
    assert signature.verify(
        "PLAINTEXT", "ignored", "c%26s&t%20s", client_secret="c&s", token_secret="t s"
    )
    assert not signature.verify(
        "PLAINTEXT", "ignored", "c&s&t s", client_secret="c&s", token_secret="t s"
    )


def test_a_method_without_its_key_never_verifies() -> None:
    assert not signature.verify("HMAC-SHA1", "b", "x", client_secret=None, token_secret="")
    assert not signature.verify("RSA-SHA1", "b", "x", client_secret="s", token_secret="")
    assert not signature.verify("MD5", "b", "x", client_secret="s", token_secret="")


def test_authorization_header_parsing() -> None:
    pairs = parse_authorization('OAuth realm="a b",oauth_nonce="x%20y" , oauth_token=""')
    assert pairs == [("realm", "a b"), ("oauth_nonce", "x y"), ("oauth_token", "")]
    assert parse_authorization("Bearer abc") is None
    with pytest.raises(OAuthError) as exc:
        parse_authorization("OAuth oauth_nonce=unquoted")
    assert exc.value.status == 400


def test_protocol_parameters_in_one_place_once() -> None:
    both = SignedRequest(
        "GET", "https://x/", query=[("oauth_nonce", "1")], authorization=EXAMPLE_AUTHORIZATION
    )
    with pytest.raises(OAuthError) as exc:
        collect(both)
    assert exc.value.catalog_id == "oauth1-parameter-rejected" and exc.value.status == 400
    twice = SignedRequest("GET", "https://x/", query=[("oauth_nonce", "1"), ("oauth_nonce", "2")])
    with pytest.raises(OAuthError, match="more than once"):
        collect(twice)
    unknown = SignedRequest("GET", "https://x/", query=[("oauth_nonce", "1"), ("oauth_foo", "2")])
    with pytest.raises(OAuthError, match="oauth_foo"):
        collect(unknown)
    with pytest.raises(OAuthError) as absent:
        collect(SignedRequest("GET", "https://x/", query=[("a", "1")]))
    assert absent.value.catalog_id == "oauth1-parameter-absent"


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
)  # any unicode but surrogates: reserved characters, spaces, "&", "=", "%", emoji
_PARAMS = st.lists(
    st.tuples(st.sampled_from(["a", "a", "b", "oauth_x", "c@", "ü"]) | _TEXT, _TEXT), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(params=_PARAMS, method=st.sampled_from(["GET", "POST", "put"]), path=_TEXT)
def test_base_string_agrees_with_authlib(
    params: list[tuple[str, str]], method: str, path: str
) -> None:
    url = "https://ID.example.com:443/" + signature.encode(path)
    theirs = authlib_signature.construct_base_string(method, url, params)
    assert signature.base_string(method, url, params) == theirs


@settings(max_examples=300, deadline=None)
@given(
    params=_PARAMS,
    method=st.sampled_from(["GET", "POST", "put", "DELETE"]),
    path=_TEXT,
    host=st.sampled_from(["ID.example.com:443", "id.example.com", "127.0.0.1:8000", "X.Y:80"]),
    scheme=st.sampled_from(["https", "http", "HTTPS"]),
)
def test_base_string_agrees_with_oauthlib(
    params: list[tuple[str, str]], method: str, path: str, host: str, scheme: str
) -> None:
    """requests-oauthlib signs with oauthlib's §3.4.1: keystead must build the same string."""
    url = f"{scheme}://{host}/" + signature.encode(path)
    theirs = oauthlib_signature.signature_base_string(
        method,
        oauthlib_signature.base_string_uri(url),
        oauthlib_signature.normalize_parameters(params),
    )
    assert signature.base_string(method, url, params) == theirs


_PLAIN = _PARAMS.map(lambda ps: [(n, v) for n, v in ps if n and not n.startswith("oauth_")])
_HEADER = (
    'OAuth realm="Photos", oauth_consumer_key="c%20k", oauth_token="t", '
    'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", '
    'oauth_nonce="n%C3%A9", oauth_signature="s%3D"'
)


@settings(max_examples=200, deadline=None)
@given(query=_PLAIN, form=_PLAIN)
def test_collected_parameters_agree_with_oauthlib(
    query: list[tuple[str, str]], form: list[tuple[str, str]]
) -> None:
    """From the wire: oauthlib collects the encoded query, form body and header; keystead
    the decoded pairs web/ hands over. The same base string either way."""
    uri_query = urlencode(query, quote_via=quote)  # %20 in a query
    body = urlencode(form)  # "+" for a space in a form body
    params = oauthlib_signature.collect_parameters(
        uri_query=uri_query, body=body, headers={"Authorization": _HEADER}
    )
    url = "https://id.example.com/oauth1/userinfo"
    theirs = oauthlib_signature.signature_base_string(
        "POST",
        oauthlib_signature.base_string_uri(url),
        oauthlib_signature.normalize_parameters(params),
    )
    got = collect(SignedRequest("POST", url, query=query, form=form, authorization=_HEADER))
    assert signature.base_string("POST", url, got.signed) == theirs


def test_oauthlib_collects_and_normalises_the_rfc_example_as_keystead() -> None:
    """oauthlib's own §3.4.1.3.1 collection (query, header without realm and
    oauth_signature, form body) and keystead's give §3.4.1.1's base string."""
    params = oauthlib_signature.collect_parameters(
        uri_query="b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        body="c2&a3=2+q",
        headers={"Authorization": EXAMPLE_AUTHORIZATION},
    )
    theirs = oauthlib_signature.signature_base_string(
        "POST",
        oauthlib_signature.base_string_uri("http://EXAMPLE.com:80/request"),
        oauthlib_signature.normalize_parameters(params),
    )
    assert theirs == EXAMPLE_BASE_STRING
    got = collect(example_request())
    assert signature.base_string("POST", "http://EXAMPLE.com:80/request", got.signed) == theirs


@settings(max_examples=300, deadline=None)
@given(
    header=st.one_of(
        st.text(max_size=200),
        st.lists(st.tuples(st.sampled_from(["oauth_nonce", "realm", "x", "oauth_"]), _TEXT)).map(
            lambda ps: "OAuth " + ",".join(f'{n}="{v}"' for n, v in ps)
        ),
    ),
    query=_PARAMS,
)
def test_hostile_headers_are_refused_cleanly(header: str, query: list[tuple[str, str]]) -> None:
    """Whatever the Authorization header and query hold: collected, or a 400 OAuthError."""
    try:
        got = collect(SignedRequest("GET", "https://x/", query=query, authorization=header))
    except OAuthError as exc:
        assert exc.status == 400
    else:
        assert all(name.startswith("oauth_") for name in got.protocol)
