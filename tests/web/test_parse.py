"""Form bodies: the quick path for bodies with nothing escaped gives what parse_qsl gives."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, unquote_plus

import pytest
from starlette.datastructures import QueryParams

from keystead.errors import OAuthError
from keystead.web.parse import _unquote, parse_form, parse_query

BODIES = [
    "",
    "a=1",
    "grant_type=client_credentials&scope=api:read&resource=https://api.example.com",
    "a=1&&b=2&",
    "&a",
    "a=&b",
    "a=b=c",
    "=x",
    "a=1&a=2",
    "scope=openid+profile&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb",
    "a=%E2%9C%93&b=%20",
    "a;b=1&c=2",
    "ü=ä",
    "a%=1",
    "%zz=1&b=%2",
    "a+b=c+d",
    "a%41=%41%42+",
    "redirect_uri=http://x/?q=1",
    "a=%C3%A9+%2B%2b&b=x%2",
    "code_challenge=abc-_&state=%7Bjson%7D%25",
]


@pytest.mark.parametrize("body", BODIES)
def test_parse_form_equals_parse_qsl(body: str) -> None:
    expected = parse_qsl(body, keep_blank_values=True, errors="strict")
    assert parse_form(body.encode("utf-8")) == expected


@pytest.mark.parametrize("body", [b"a=%ff", b"\xff=1", b"a=%e2%9c", b"%ff=1"])
def test_bad_utf8_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(OAuthError) as caught:
        parse_form(body)
    assert "UTF-8" in caught.value.description


@pytest.mark.parametrize("query", [*BODIES, "a=%ff&b=%e2%9c", "x=\xe9"])
def test_parse_query_equals_starlettes_query_params(query: str) -> None:
    raw = query.encode("utf-8") if query != "x=\xe9" else b"x=\xe9"  # raw latin-1 bytes too
    expected = QueryParams(raw).multi_items()
    assert parse_query(raw) == expected


def test_unquote_is_unquote_plus() -> None:
    """The ASCII quick path of ``_unquote`` against ``unquote_plus``, on random fields of
    escapes (valid, truncated, invalid UTF-8), pluses and non-ASCII characters."""
    pieces = ["a", "+", "%", "2", "%20", "%41", "%C3", "%A9", "%ff", "%e2%82%ac", "%zz", "é", "€"]
    rng = random.Random(7)
    for _ in range(5000):
        field = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        for errors in ("strict", "replace"):
            try:
                expected: object = unquote_plus(field, errors=errors)
            except UnicodeDecodeError:
                expected = UnicodeDecodeError
            try:
                got: object = _unquote(field, errors)
            except UnicodeDecodeError:
                got = UnicodeDecodeError
            assert got == expected, (field, errors)
