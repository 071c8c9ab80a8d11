"""Authorization responses in their response mode (RFC 6749 §4.1.2, OAuth 2.0 Multiple
Response Type Encoding Practices, OAuth 2.0 Form Post Response Mode), with ``iss`` (RFC 9207).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote_plus, urlsplit, urlunsplit

from keystead.errors import OAuthError, RedirectTarget


class AuthorizationResponse(NamedTuple):
    redirect_uri: str
    response_mode: str
    params: dict[str, str]
    client_id: str | None = None  # JARM (protocol/jarm.py): the signed response's aud


def default_response_mode(response_type: str) -> str:
    # Multiple Response Types §2.1: query for code and none, fragment when tokens are returned.
    return "query" if response_type in ("code", "none") else "fragment"


# What quote_plus leaves as it is (RFC 3986 §2.3 unreserved characters): most values sent
# back (codes, tokens, state) need no quoting at all.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _quoted(value: Any) -> str:
    if type(value) is str and _UNQUOTED(value):
        return value
    return quote_plus(str(value))


def urlencode(params: dict[str, Any]) -> str:
    """``urllib.parse.urlencode(params)``, the same text, without quoting what needs none."""
    return "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in params.items())


def _query(redirect_uri: str, params: dict[str, str]) -> str:
    # RFC 6749 §3.1.2: keep the registered query component, add ours to it.
    parts = urlsplit(redirect_uri)
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _fragment(redirect_uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(redirect_uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, urlencode(params)))


def _form_post(redirect_uri: str, params: dict[str, str]) -> str:
    return redirect_uri  # web/ renders the auto-submitting form to this action


# response_mode -> how the parameters are attached; None-returning modes are rendered as pages.
RESPONSE_MODES: dict[str, Callable[[str, dict[str, str]], str]] = {
    "query": _query,
    "fragment": _fragment,
    "form_post": _form_post,
    # JARM (protocol/jarm.py): sealed into ``response`` and sent in the base mode; ``jwt``
    # is made explicit (query.jwt or fragment.jwt) by the authorization checks.
    "jwt": _query,
    "query.jwt": _query,
    "fragment.jwt": _fragment,
    "form_post.jwt": _form_post,
}


def success(target: RedirectTarget, issuer: str, params: dict[str, str]) -> AuthorizationResponse:
    out = dict(params)
    if target.state is not None:
        out["state"] = target.state
    out["iss"] = issuer  # RFC 9207 §2
    return AuthorizationResponse(target.redirect_uri, target.response_mode, out, target.client_id)


def error(err: OAuthError, issuer: str) -> AuthorizationResponse:
    assert err.redirect is not None
    return success(err.redirect, issuer, err.to_dict())


def location(response: AuthorizationResponse) -> str:
    return RESPONSE_MODES[response.response_mode](response.redirect_uri, response.params)
