"""Properties of the parsers and checks hostile input reaches first: redirect URI validation
and matching, form and query decoding, PKCE, and the verification of keystead's own JWTs."""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from keystead.errors import OAuthError
from keystead.jose.jwt import JoseError, sign, verify
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import SUPPORTED_ALGS, KeyRing, generate_key
from keystead.protocol import pkce, redirect_uris
from keystead.protocol.redirect_uris import RedirectUriError
from keystead.web.parse import parse_form, parse_query
from tests.fuzz.conftest import bounded, run_seeded
from tests.fuzz.strategies import MALFORMED_URLS

# --- redirect URIs (RFC 3986 §3.2.2, RFC 6749 §3.1.2, RFC 9700 §2.1, RFC 8252 §7.3) ---

# RFC 3986 §3.2.2 host, as a redirect target's host may be: a DNS name (RFC 1123 labels) or
# an IP literal. Written independently of protocol/redirect_uris.py's own pattern.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?\Z")

schemes = st.sampled_from(["https", "http", "com.example.app", "HTTPS", "ftp", "", "a+b", "1x"])
hosts = st.one_of(
    st.sampled_from(
        [
            "rp.example.com",
            "127.0.0.1",
            "[::1]",
            "localhost",
            "[x",
            "a;b",
            "*",
            "a b",
            "user@host",
            "u:p@rp.example.com",
            "[::1]x",
            "xn--bcher-kva.example",
            "127.1",
            "0177.0.0.1",
            "%41.example",
            "",
        ]
    ),
    st.text(max_size=15),
)
ports = st.one_of(st.just(""), st.integers(-1, 70000).map(lambda p: f":{p}"), st.text(max_size=4))
tails = st.one_of(st.just("/cb"), st.text(max_size=15))


@st.composite
def uris(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(st.text(), st.sampled_from(MALFORMED_URLS)))
    return f"{draw(schemes)}://{draw(hosts)}{draw(ports)}{draw(tails)}"


def _host_is_rfc3986(uri: str) -> bool:
    parts = urlsplit(uri)
    if not parts.netloc:
        return True  # a private-use scheme without an authority
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    return bool(_DNS_NAME.match(host))


@bounded(400)
@given(uri=uris(), application_type=st.sampled_from(["web", "native", "other"]))
@example(uri="https://a;frame-ancestors *;@evil.example/cb", application_type="web")
@example(uri="https://[x", application_type="web")
@example(uri="https://u:p@rp.example.com/cb", application_type="web")
@example(
    uri="https://rp.example.com..0", application_type="web"
)  # an empty label (seed 2332897939)
def _redirect_uri_validation(uri: str, application_type: str) -> None:
    try:
        redirect_uris.kind_of(uri)
        redirect_uris.check_registration(uri, application_type)
    except RedirectUriError:
        return
    assert _host_is_rfc3986(uri), uri
    assert not re.search(r"[\s;*,<>\"\\{}|^`]", urlsplit(uri).netloc), uri
    assert "@" not in urlsplit(uri).netloc, uri  # no user information (RFC 3986 §3.2.1)


def _with_port(uri: str, port: int | None) -> str:
    parts = urlsplit(uri)
    host = parts.netloc.rpartition(":")[0] if parts.port is not None else parts.netloc
    netloc = host if port is None else f"{host}:{port}"
    return parts._replace(netloc=netloc).geturl()


@bounded(300)
@given(
    registered=st.sampled_from(
        [
            "https://rp.example.com/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8080/cb?x=1",
            "http://[::1]:1234/cb",
            "http://localhost:3000/cb",
            "com.example.app:/cb",
        ]
    ),
    change=st.one_of(
        st.integers(0, 65535).map(lambda p: ("port", p)),
        st.just(("port", None)),
        st.text(max_size=3).map(lambda t: ("append", t)),
        st.sampled_from(["HTTP", "HTTPS", "http", "https"]).map(lambda s: ("scheme", s)),
        st.just(("same", "")),
    ),
    application_type=st.sampled_from(["web", "native"]),
)
def _redirect_uri_matching(registered: str, change: tuple[str, Any], application_type: str) -> None:
    """RFC 9700 §2.1: exact string comparison; the one exception is RFC 8252 §7.3's port of a
    native app's loopback IP literal."""
    how, value = change
    if how == "port":
        sent = _with_port(registered, value) if urlsplit(registered).netloc else registered
    elif how == "append":
        sent = registered + value
    elif how == "scheme":
        sent = value + registered[registered.index(":") :]
    else:
        sent = registered
    if not redirect_uris.matches(registered, sent, application_type):
        assert sent != registered
        return
    if sent == registered:
        return
    assert application_type == "native" and redirect_uris.kind_of(registered) == "loopback-ip"
    assert _with_port(sent, None) == _with_port(registered, None), (registered, sent)


# --- parameter decoding (web/parse.py) ---

pairs = st.lists(st.tuples(st.text(), st.text()), max_size=8)


@bounded(300)
@given(items=pairs)
def _parse_form_is_parse_qsl(items: list[tuple[str, str]]) -> None:
    items = [
        (k.encode("utf-8", "replace").decode(), v.encode("utf-8", "replace").decode())
        for k, v in items
    ]
    body = urlencode(items).encode()
    assert parse_form(body) == parse_qsl(body.decode(), keep_blank_values=True)
    assert parse_query(body) == parse_qsl(body.decode(), keep_blank_values=True)


@bounded(300)
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
)
@example(raw=b"a=%ZZ&b=%FF&c=%ED%A0%80")
def _parse_raises_only_oauth_errors(raw: bytes) -> None:
    try:
        parse_form(raw)
    except OAuthError:
        pass
    # The query decodes latin-1 with replacement characters, as Starlette does: never raises.
    expected = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="replace")
    assert parse_query(raw) == expected


# --- PKCE (RFC 7636 §4.1, §4.6) ---

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


verifiers = st.one_of(
    st.text(alphabet=_UNRESERVED, min_size=43, max_size=128),
    st.text(alphabet=_UNRESERVED, min_size=30, max_size=140),
    st.text(min_size=40, max_size=130),
    st.text(max_size=5),
)


@bounded(300)
@given(verifier=verifiers, other=verifiers)
def _pkce_only_a_valid_verifier_matches_its_challenge(verifier: str, other: str) -> None:
    valid = 43 <= len(verifier) <= 128 and all(c in _UNRESERVED for c in verifier)
    challenge = _s256(verifier)
    try:
        pkce.check_verifier(challenge, verifier)
        accepted = True
    except OAuthError:
        accepted = False
    assert accepted == valid, verifier
    if other != verifier:
        with pytest.raises(OAuthError):
            pkce.check_verifier(challenge, other)


@bounded(200)
@given(
    challenge=st.one_of(st.none(), st.text(max_size=60)),
    method=st.one_of(st.none(), st.text(max_size=8)),
    required=st.booleans(),
)
def _pkce_challenge_check_raises_only_oauth_errors(
    challenge: str | None, method: str | None, required: bool
) -> None:
    try:
        pkce.check_challenge(challenge, method, required)
    except OAuthError:
        return
    assert challenge is None or (method == "S256" and re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge))


# --- keystead's own JWTs: tampered ones are refused, never a crash ---

NOW = 1_700_000_000


@functools.cache
def ring() -> KeyRing:
    kek = KeyEncryptor(b"f" * 32)
    return KeyRing.load([generate_key(alg, kek, now=NOW) for alg in SUPPORTED_ALGS], kek)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


tampering = st.one_of(
    st.tuples(st.just("signature-bit"), st.integers(0, 10_000)),
    st.tuples(st.just("signature-cut"), st.integers(0, 200)),
    st.tuples(st.just("signature-extend"), st.binary(min_size=1, max_size=8)),
    st.tuples(
        st.just("header"),
        st.sampled_from(
            [
                {"alg": "none"},
                {"alg": "HS256"},
                {"kid": "other"},
                {"typ": "JWT"},
                {"crit": ["exp"]},
                {"b64": False},
                {"jku": "https://evil.example/jwks"},
                {"kid": None},
                {"alg": None},
            ]
        ),
    ),
    st.tuples(
        st.just("payload"),
        st.dictionaries(
            st.sampled_from(["sub", "aud", "exp", "scope", "x"]), st.text(max_size=5), min_size=1
        ),
    ),
    st.tuples(st.just("raw"), st.text(max_size=20)),
    st.tuples(st.just("nested"), st.integers(1, 5000)),
)


@bounded(300)
@given(alg=st.sampled_from(SUPPORTED_ALGS), change=tampering)
def _tampered_jwts_are_refused(alg: str, change: tuple[str, Any]) -> None:
    keys = ring()
    token = sign({"sub": "alice", "aud": "rp", "exp": NOW + 60}, keys, alg, now=NOW, typ="at+jwt")
    assert verify(token, keys)[1]["sub"] == "alice"
    head, body, sig = token.split(".")
    how, value = change
    if how == "signature-bit":
        raw = bytearray(_unb64(sig))
        raw[value % len(raw)] ^= 1 << (value % 8)
        sig = _b64(bytes(raw))
    elif how == "signature-cut":
        sig = _b64(_unb64(sig)[: value % len(_unb64(sig))])
    elif how == "signature-extend":
        sig = _b64(_unb64(sig) + value)
    elif how == "header":
        header = {**json.loads(_unb64(head)), **value}
        head = _b64(json.dumps(header).encode())
    elif how == "payload":
        body = _b64(json.dumps({**json.loads(_unb64(body)), **value}).encode())
    elif how == "raw":
        body = body + value
    else:
        body = _b64(("[" * value + "]" * value).encode())
    tampered = f"{head}.{body}.{sig}"
    if tampered == token:
        return
    with pytest.raises(JoseError):
        verify(tampered, keys)


# Each property runs with the fixed seed and with a random one (tests/fuzz/conftest.py).
@pytest.mark.parametrize(
    "prop",
    [
        _redirect_uri_validation,
        _redirect_uri_matching,
        _parse_form_is_parse_qsl,
        _parse_raises_only_oauth_errors,
        _pkce_only_a_valid_verifier_matches_its_challenge,
        _pkce_challenge_check_raises_only_oauth_errors,
        _tampered_jwts_are_refused,
    ],
    ids=lambda prop: prop.__name__.lstrip("_"),
)
def test_property(prop: Any, fuzz_seed: int) -> None:
    run_seeded(prop, fuzz_seed)
