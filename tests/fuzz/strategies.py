"""Hypothesis strategies for hostile OAuth requests: parameter names an endpoint reads, values
both plausible (the real client_id, a valid PKCE challenge) and adversarial (huge, nested
JSON, lone surrogates, non-UTF-8 bytes, malformed URLs), encodings of them, and headers."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote_plus

from hypothesis import strategies as st

PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "claims",
    "resource",
    "response_mode",
    "id_token_hint",
    "login_hint",
    "ui_locales",
    "request",
    "request_uri",
    "grant_type",
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "token",
    "token_type_hint",
    "post_logout_redirect_uri",
    "logout_hint",
    "interaction",
    "csrf_token",
    "decision",
    "username",
    "password",
    "access_token",
)


def nested_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_like(header: Any, payload: Any) -> str:
    def part(value: Any) -> str:
        raw = value if isinstance(value, str) else json.dumps(value)
        return _b64(raw.encode("utf-8", "surrogatepass"))

    return f"{part(header)}.{part(payload)}.{_b64(b'sig')}"


def tamper(token: str, how: str, at: int) -> str:
    head, body, sig = (token.split(".") + ["", "", ""])[:3]
    if how == "signature":
        i = at % max(1, len(sig))
        sig = sig[:i] + ("A" if sig[i : i + 1] != "A" else "B") + sig[i + 1 :]
    elif how == "alg-none":
        head, sig = _b64(b'{"alg":"none"}'), ""
    elif how == "alg-hs256":
        head = _b64(b'{"alg":"HS256","kid":"x"}')
    elif how == "payload":
        body = _b64(b'{"sub":"admin","scope":"keystead:admin","exp":9999999999}')
    elif how == "deep-header":
        head = _b64(nested_json(2000).encode())
    else:
        return f"{head}.{body}"
    return f"{head}.{body}.{sig}"


def tampered_jwts(token: str) -> st.SearchStrategy[str]:
    """A keystead-issued JWT with its signature, header or payload changed."""
    hows = st.sampled_from(["signature", "alg-none", "alg-hs256", "payload", "deep-header", "cut"])
    return st.builds(tamper, st.just(token), hows, st.integers(0, 500))


MALFORMED_URLS = (
    "https://[x",
    "https://[::1",
    "https://]x[/",
    "https://a;frame-ancestors *;@evil.example/cb",
    "https://0177.0.0.1/",
    "https://256.1.1.1/",
    "https://a:99999/",
    "https://a:-1/",
    "https://",
    "//evil.example/cb",
    "javascript:alert(1)",
    "data:text/html,<script>",
    "https://rp.example.com/callback#x",
    "https://rp.example.com/callback/../x",
    "http://127.0.0.1:0/",
    "urn:x",
    "https://\u0000/",
    "https://xn--/",
)

ODD = (
    "",
    " ",
    "%",
    "%ZZ",
    "%00",
    "+",
    "&",
    "=",
    "\x00",
    "\ud800",
    "\udfff",
    "\u202e",
    "null",
    "[]",
    "{}",
    "true",
    "-1",
    "99999999999999999999999999",
    "1e400",
    "NaN",
    "openid openid",
    "S256",
    "plain",
    "none",
    "code id_token token",
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
)


def adversarial_values(context: dict[str, str]) -> st.SearchStrategy[str]:
    """A parameter value: plausible ones from ``context`` (the real client, its redirect URI,
    a valid challenge...), odd ones, malformed URLs, nested JSON, JWT-shaped junk, huge."""
    deep = st.integers(min_value=1, max_value=3000).map(nested_json)
    arrays = st.integers(min_value=500, max_value=3000).map(lambda n: "[" * n + "]" * n)
    jwts = st.one_of(
        st.builds(jwt_like, st.just({"alg": "RS256"}), deep),
        st.builds(jwt_like, deep, st.just({"sub": context.get("client_id", "x")})),
        st.builds(
            jwt_like,
            st.sampled_from([{"alg": "none"}, {"alg": "HS256"}, {"alg": "ES256", "kid": 1}]),
            st.fixed_dictionaries({"iss": st.text(max_size=20), "sub": st.text(max_size=20)}),
        ),
        st.text(alphabet="abc.-_=", max_size=60),
    )
    huge = st.sampled_from([300, 5000, 70000]).map(lambda n: "A" * n)
    return st.one_of(
        tampered_jwts(context.get("access_token", "a.b.c")),
        st.sampled_from(sorted(context.values())),
        st.sampled_from(ODD),
        st.sampled_from(MALFORMED_URLS),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
        st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
        deep,
        arrays,
        jwts,
        huge,
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
            max_leaves=10,
        ).map(json.dumps),
    )


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@st.composite
def encoded_pairs(
    draw: st.DrawFn, context: dict[str, str], base: tuple[tuple[str, str], ...] = ()
) -> bytes:
    """name=value pairs as bytes: a valid request's ``base`` parameters with some values
    replaced or dropped, plus random ones; percent-encoded, raw, or with non-UTF-8 bytes;
    names sometimes duplicated."""
    names = st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=12))
    values = adversarial_values(context)
    malformed = st.sampled_from(MALFORMED_URLS)
    urls = st.one_of(malformed, malformed, malformed, values)
    mutated = draw(st.sets(st.integers(0, len(base) - 1), max_size=2)) if base else set()
    pairs = []
    for i, (name, value) in enumerate(base):
        if i not in mutated:
            pairs.append((name, value))
        elif draw(st.integers(0, 4)):  # replaced, or (one time in five) dropped
            url_like = name.endswith("uri") or name == "resource"
            pairs.append((name, draw(urls if url_like else values)))
    pairs += draw(st.lists(st.tuples(names, values), max_size=3 if base else 8))
    pairs = draw(st.permutations(pairs)) if draw(st.booleans()) else pairs
    if pairs and draw(st.booleans()):
        pairs.append(draw(st.sampled_from(pairs)))  # a duplicate
    out = []
    for name, value in pairs:
        style = draw(st.sampled_from(["quoted"] * 7 + ["raw", "raw", "bytes"]))
        if style == "quoted":
            quoted = quote_plus(_encode(name)), quote_plus(_encode(value))
            out.append("=".join(quoted).encode())
        elif style == "raw":
            out.append(_encode(name) + b"=" + _encode(value))
        else:
            out.append(_encode(name) + b"=" + draw(st.binary(max_size=12)))
    if draw(st.integers(0, 7)):
        return b"&".join(out)
    return draw(st.sampled_from([b"&", b"&&", b";", b"&=&"])).join(out)


def authorization(context: dict[str, str]) -> st.SearchStrategy[bytes | None]:
    basic = context.get("basic", "")
    return st.one_of(
        st.none(),
        st.just(b"Basic " + basic.encode()),
        st.builds(lambda b: b"Basic " + base64.b64encode(b), st.binary(max_size=40)),
        st.builds(
            lambda s: b"Basic " + base64.b64encode(_encode(s)),
            st.text(max_size=30).map(lambda s: context.get("client_id", "") + ":" + s),
        ),
        st.sampled_from(
            [
                b"Basic \xc3\xa9",
                b"Basic",
                b"Basic ",
                b"Basic ====",
                b"Basic Og==",
                b"basic " + basic.encode(),
                b"Bearer",
                b"Bearer ",
                b"Bearer \xff\xfe",
                b"Bearer " + context.get("access_token", "x").encode(),
                b"Bearer " + context.get("registration_token", "x").encode(),
                b"Negotiate abc",
                b"\xff",
                b"Basic " + b"A" * 9000,
            ]
        ),
        st.builds(lambda t: b"Bearer " + _encode(t), st.text(max_size=60)),
        tampered_jwts(context.get("access_token", "a.b.c")).map(lambda t: b"Bearer " + t.encode()),
    )


CONTENT_TYPES = (
    None,
    b"application/x-www-form-urlencoded",
    b"application/x-www-form-urlencoded",
    b"application/x-www-form-urlencoded; charset=utf-8",
    b"APPLICATION/X-WWW-FORM-URLENCODED ; charset=latin-1",
    b"application/json",
    b"application/json",
    b"text/plain",
    b"multipart/form-data; boundary=x",
    b"application/jwt",
    b"",
    b"\xff\xfe",
    b";;;",
)


def metadata_json(context: dict[str, str]) -> st.SearchStrategy[bytes]:
    """A registration body: RFC 7591 members with adversarial values, nested JSON, or not
    JSON at all."""
    members = st.sampled_from(
        [
            "redirect_uris",
            "client_name",
            "jwks_uri",
            "jwks",
            "logo_uri",
            "client_uri",
            "policy_uri",
            "tos_uri",
            "contacts",
            "grant_types",
            "response_types",
            "token_endpoint_auth_method",
            "token_endpoint_auth_signing_alg",
            "scope",
            "application_type",
            "post_logout_redirect_uris",
            "software_statement",
            "id_token_signed_response_alg",
        ]
    )
    values = adversarial_values(context)
    value = st.one_of(
        values,
        st.lists(values, max_size=3),
        st.just(["https://rp.example.com/callback"]),
        st.just({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}),
        st.integers(),
        st.none(),
    )
    document = st.dictionaries(members, value, max_size=6).map(
        lambda d: {"redirect_uris": ["https://rp.example.com/callback"], **d}
    )
    return st.one_of(
        document.map(lambda d: json.dumps(d).encode()),
        document.map(lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")),
        st.integers(min_value=1, max_value=5000).map(lambda n: nested_json(n).encode()),
        st.binary(max_size=40),
    )
