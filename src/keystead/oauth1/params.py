"""RFC 5849 §3.5 and §3.4.1.3.1: where a signed request's parameters come from.

``SignedRequest`` is what web/ hands over, framework-free: the method, the request URL built
from the issuer (never the Host header: §3.4.1.2's base string URI must be the one the
consumer signed for keystead's own name), the query's pairs, the form body's pairs (only for
a single-part ``application/x-www-form-urlencoded`` body, §3.4.1.3.1) and the Authorization
header. ``collect`` finds the protocol parameters in exactly one place (§3.5) and every
parameter the signature covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from keystead.errors import OAuthError

Pairs = list[tuple[str, str]]

HEADER, FORM, QUERY = "header", "form", "query"

# RFC 5849 §3.1: the protocol parameters keystead understands; any other oauth_* name is
# refused (§3.2: "unsupported parameter").
PROTOCOL = frozenset(
    {
        "oauth_consumer_key",
        "oauth_token",
        "oauth_signature_method",
        "oauth_signature",
        "oauth_timestamp",
        "oauth_nonce",
        "oauth_version",
        "oauth_callback",
        "oauth_verifier",
        "oauth_body_hash",  # an extension some consumers add; covered by the signature
    }
)

# RFC 5849 §3.5.1 / RFC 2617 §1.2: auth-param = token "=" quoted-string, comma separated.
_PARAM = re.compile(r'\s*([A-Za-z0-9_.~-]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


@dataclass(frozen=True, slots=True)
class SignedRequest:
    method: str
    url: str  # the issuer's URL of the endpoint, without the query
    query: Pairs = field(default_factory=list)
    form: Pairs = field(default_factory=list)
    authorization: str | None = None
    secure: bool = False  # the issuer is https: PLAINTEXT may be used (§3.4.4)


@dataclass(frozen=True, slots=True)
class Collected:
    protocol: dict[str, str]  # the oauth_* parameters, each once
    signed: Pairs  # every parameter the base string covers (§3.4.1.3.1), realm excluded
    location: str  # header | form | query


def _bad(description: str) -> OAuthError:
    return OAuthError("oauth1-parameter-rejected", description)


def parse_authorization(header: str) -> Pairs | None:
    """RFC 5849 §3.5.1: the ``OAuth`` scheme's parameters, percent-decoded (§3.6), realm
    included; None for another scheme (Basic, Bearer)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    pairs: Pairs = []
    position, rest = 0, rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            raise _bad(
                'The Authorization header is not OAuth name="value" pairs separated by commas '
                f"(RFC 5849 §3.5.1); the trouble starts at: {rest[position : position + 40]}"
            )
        pairs.append((unquote(match.group(1)), unquote(match.group(2))))
        position = match.end()
    return pairs


def collect(req: SignedRequest) -> Collected:
    header = parse_authorization(req.authorization) if req.authorization else None
    places = {HEADER: header or [], FORM: req.form, QUERY: req.query}
    carrying = [name for name, pairs in places.items() if any(_is_oauth(n) for n, _ in pairs)]
    if not carrying:
        raise OAuthError(
            "oauth1-parameter-absent",
            "The request carries no OAuth protocol parameters: sign it and send them in the "
            "Authorization: OAuth header, the form body or the query (RFC 5849 §3.5).",
        )
    if len(carrying) > 1:  # RFC 5849 §3.5: one and only one of the three places
        raise _bad(
            f"The OAuth protocol parameters are sent in both the {carrying[0]} and the "
            f"{carrying[1]}; send them in one place only (RFC 5849 §3.5)."
        )
    location = carrying[0]
    protocol: dict[str, str] = {}
    for name, value in places[location]:
        if name == "realm" and location == HEADER:
            continue
        if location == HEADER and not _is_oauth(name):
            raise _bad(
                f"The Authorization header carries {name}; it takes only oauth_* parameters "
                "and realm (RFC 5849 §3.5.1)."
            )
        if not _is_oauth(name):
            continue
        if name not in PROTOCOL:
            raise _bad(f"{name} is not an OAuth 1.0a protocol parameter (RFC 5849 §3.1).")
        if name in protocol:  # RFC 5849 §3.2: a duplicated protocol parameter is a 400
            raise _bad(f"{name} is sent more than once.")
        protocol[name] = value
    # RFC 5849 §3.4.1.3.1: the query, the header's parameters but realm, the form body.
    signed = [*req.query, *(p for p in places[HEADER] if p[0] != "realm"), *req.form]
    return Collected(protocol, signed, location)


def _is_oauth(name: str) -> bool:
    return name.startswith("oauth_")
