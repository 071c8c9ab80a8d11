"""Form bodies: the quick path for bodies with nothing escaped gives what parse_qsl gives."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from keystead.errors import OAuthError
from keystead.web.parse import parse_form

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
]


@pytest.mark.parametrize("body", BODIES)
def test_parse_form_equals_parse_qsl(body: str) -> None:
    expected = parse_qsl(body, keep_blank_values=True, errors="strict")
    assert parse_form(body.encode("utf-8")) == expected


@pytest.mark.parametrize("body", [b"a=%ff", b"\xff=1"])
def test_bad_utf8_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(OAuthError) as caught:
        parse_form(body)
    assert "UTF-8" in caught.value.description
