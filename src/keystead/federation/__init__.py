"""keystead as a relying party of upstream identity providers (issue 22): an OpenID Provider
found by discovery, or GitHub's OAuth 2.0 API. Uses net/ (every call through the SSRF guard)
and jose/; protocol/ (keystead as the provider) never imports it.

- upstream.py: ``UpstreamIdentity``, ``UpstreamError``, ``RequestValues`` (state, nonce,
  PKCE of one request), the sealed client secret
- upstreams.py: ``Upstreams`` (``provider.upstreams``): authorization_url, callback_code,
  finish; ``enabled_connection``
- callback.py: the redirect back (state, RFC 9207 iss, error or code)
- discovery.py, id_token.py, token.py: OIDC Discovery, ID token validation, the calls
- oidc.py, github.py: one module per kind of connection
"""

from __future__ import annotations

from keystead.federation.callback import error_response
from keystead.federation.upstream import RequestValues, UpstreamError, UpstreamIdentity
from keystead.federation.upstreams import Upstreams, enabled_connection

__all__ = [
    "RequestValues",
    "UpstreamError",
    "UpstreamIdentity",
    "Upstreams",
    "enabled_connection",
    "error_response",
]
