"""Page headers: the Content-Security-Policy's form-action sources for redirect targets."""

from __future__ import annotations

import pytest

from keystead.web.pages import origin_of


@pytest.mark.parametrize(
    ("uri", "source"),
    [
        ("https://rp.example.com/cb?x=1", "https://rp.example.com"),
        ("https://RP.example.com:8443/cb", "https://rp.example.com:8443"),
        ("http://[::1]:3000/cb", "http://[::1]:3000"),
        ("com.example.app:/cb", "com.example.app:"),  # RFC 8252 §7.1
        # Only scheme, host and port reach the policy: never a ';' or a space.
        ("https://a;frame-ancestors *;@evil.example/cb", "https://evil.example"),
        ("https://a b/cb", "'none'"),
        ("https://[x/cb", "'none'"),
    ],
)
def test_csp_sources_are_rebuilt_from_parsed_parts(uri: str, source: str) -> None:
    assert origin_of(uri) == source
