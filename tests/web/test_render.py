"""render.redirect answers exactly as Starlette's RedirectResponse with NO_STORE did."""

from __future__ import annotations

import pytest
from starlette.responses import RedirectResponse

from keystead.web.render import NO_STORE, redirect

LOCATIONS = [
    "https://app.example.com/cb?code=abc&state=x%20y&iss=https%3A%2F%2Fid.example.com",
    "https://app.example.com/cb#code=a&id_token=b.c.d",
    "http://127.0.0.1:8080/cb?x=1",
    'https://é.example/c b|^{}?x="1"#f',
    "com.example.app:/callback?code=z",
    "/relative",
]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("status", [302, 303])
def test_redirect_is_starlettes(location: str, status: int) -> None:
    expected = RedirectResponse(location, status_code=status, headers=NO_STORE)
    got = redirect(location, status)
    assert got.status_code == expected.status_code
    assert got.raw_headers == expected.raw_headers
    assert got.body == expected.body
