"""The FAPI 2.0 Security Profile (OpenID Final, February 2025) as a client profile.

A client the operator marks ``profile: fapi2`` (services/client_policy.py, kept in
``Client.extra["profile"]``) must be registered the way the profile says, and its requests are
held to it. Two tables:

- ``CLIENT_RULES``: what the client's registration must look like, checked whenever it is
  created or changed (CLI, admin API, RFC 7592 updates), each rule naming its section and the
  fix;
- the request-time rules, called from where the request is handled: ``check_pushed`` (PAR
  only), ``check_request`` (a row of protocol/authorize.py's ordered checks, so /par runs it
  too), ``code_ttl``, ``par_ttl`` and ``assertion_audiences``.

Everything here reads one dict entry of a client that is not FAPI and returns: a request of
another client does no extra work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from keystead.errors import OAuthError
from keystead.store.base import Client

PROFILE = "profile"  # the operator's policy row (Client.extra)
FAPI2 = "fapi2"
PROFILES: tuple[str, ...] = (FAPI2,)
SPEC = "FAPI 2.0 Security Profile"

# §5.4.1: JWTs are signed with PS256, ES256 or EdDSA (Ed25519) only; never none.
SIGNING_ALGS: tuple[str, ...] = ("PS256", "ES256", "EdDSA")
# §5.3.2.1: client authentication by MTLS (RFC 8705 §2) or private_key_jwt.
AUTH_METHODS: tuple[str, ...] = (
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
)
# §5.3.2.1: sender-constrained access tokens, by DPoP or by MTLS.
SENDER_CONSTRAINTS: tuple[str, ...] = (
    "dpop_bound_access_tokens",  # RFC 9449 §5.2
    "tls_client_certificate_bound_access_tokens",  # RFC 8705 §3.4
)
CODE_TTL = 60  # §5.3.2.1: authorization codes live at most 60 seconds
PAR_TTL = 599  # §5.3.2.2: request_uri expires_in less than 600 seconds
# The signing algs a client registers, where it stores them (Client.extra unless a field).
SIGNED_METADATA: tuple[str, ...] = (
    "id_token_signed_response_alg",
    "request_object_signing_alg",
    "token_endpoint_auth_signing_alg",
    "authorization_signed_response_alg",
    "userinfo_signed_response_alg",
)


def is_fapi2(client: Client) -> bool:
    return client.extra.get(PROFILE) == FAPI2


def profile_value(value: Any) -> str | None:
    """The stored value of the policy row: None (no profile) or one of PROFILES."""
    if value is None or value in ("", "none"):
        return None
    if value not in PROFILES:
        raise ValueError(f"profile is one of {', '.join(PROFILES)} (or none to remove it).")
    return str(value)


def _rule(section: str, text: str) -> str:
    return f"{SPEC} §{section}: {text}"


# --- registration: what a fapi2 client must be ---


@dataclass(frozen=True, slots=True)
class ClientRule:
    section: str
    field: str  # the metadata member the refusal names
    broken: Callable[[Client], str | None]  # what is wrong with the client, or None
    fix: str


def _public(client: Client) -> str | None:
    if client.is_public:
        return "only confidential clients are allowed, and this one is public (method none)"
    return None


def _auth_method(client: Client) -> str | None:
    method = client.token_endpoint_auth_method
    if method == "none" or method in AUTH_METHODS:
        return None  # none: the confidential-client rule says it
    return f"clients authenticate with {' or '.join(AUTH_METHODS)}, not {method}"


def _sender_constrained(client: Client) -> str | None:
    if any(client.extra.get(name) is True for name in SENDER_CONSTRAINTS):
        return None
    return (
        "access tokens must be sender-constrained, and neither DPoP nor MTLS binding is registered"
    )


def _response_types(client: Client) -> str | None:
    others = [r for r in client.response_types if r != "code"]  # none: no front channel
    if others:
        return f"response_type must be code only (no implicit, no hybrid), not {' '.join(others)}"
    return None


def _grant_types(client: Client) -> str | None:
    # §5.3.2.1 (no password grant) and §5.3.2.2 (code flow, no implicit).
    bad = [g for g in client.grant_types if g in ("implicit", "password")]
    return f"grant_types must not include {', '.join(bad)}" if bad else None


def _pkce(client: Client) -> str | None:
    return None if client.require_pkce else "PKCE with S256 is required, with no exemption"


def _redirect_uris(client: Client) -> str | None:
    plain = [u for u in client.redirect_uris if urlsplit(u).scheme != "https"]
    if plain:
        return f"every endpoint is TLS-protected, and {plain[0]} is not an https URL"
    return None


def _signed_alg(client: Client, name: str) -> str | None:
    if name == "id_token_signed_response_alg":
        return client.id_token_signed_response_alg
    value = client.extra.get(name)
    return value if isinstance(value, str) else None


def _algs(client: Client) -> str | None:
    for name in SIGNED_METADATA:
        alg = _signed_alg(client, name)
        if alg is not None and alg not in SIGNING_ALGS:
            return f"{name} is {alg}; JWTs are signed with {', '.join(SIGNING_ALGS)} only"
    if client.token_endpoint_auth_method == "private_key_jwt" and (
        _signed_alg(client, "token_endpoint_auth_signing_alg") is None
    ):
        return (
            "client assertions must use PS256, ES256 or EdDSA, so token_endpoint_auth_signing_alg "
            "must be registered (without it any asymmetric alg, RS256 too, would be accepted)"
        )
    return None


CLIENT_RULES: tuple[ClientRule, ...] = (
    ClientRule(
        "5.3.2.1",
        "token_endpoint_auth_method",
        _public,
        "register a confidential client: token_endpoint_auth_method private_key_jwt with "
        "jwks or jwks_uri (CLI: --token-endpoint-auth-method, --jwks), or tls_client_auth",
    ),
    ClientRule(
        "5.3.2.1",
        "token_endpoint_auth_method",
        _auth_method,
        "register token_endpoint_auth_method private_key_jwt with jwks or jwks_uri (CLI: "
        "--token-endpoint-auth-method, --jwks), tls_client_auth or self_signed_tls_client_auth",
    ),
    ClientRule(
        "5.3.2.1",
        "dpop_bound_access_tokens",
        _sender_constrained,
        'register "dpop_bound_access_tokens": true (--dpop-bound-access-tokens) or '
        '"tls_client_certificate_bound_access_tokens": true',
    ),
    ClientRule(
        "5.3.2.2", "response_types", _response_types, 'register response_types ["code"] only'
    ),
    ClientRule(
        "5.3.2.1", "grant_types", _grant_types, "use authorization_code (and refresh_token)"
    ),
    ClientRule("5.3.2.2", "require_pkce", _pkce, "keep require_pkce (drop --no-require-pkce)"),
    ClientRule("5.2.1", "redirect_uris", _redirect_uris, "register https redirect URIs only"),
    ClientRule(
        "5.4.1",
        "id_token_signed_response_alg",
        _algs,
        "register PS256, ES256 or EdDSA for it (e.g. --id-token-signed-response-alg ES256, "
        "--token-endpoint-auth-signing-alg ES256)",
    ),
)


def client_problem(client: Client) -> tuple[str, str] | None:
    """(metadata member, message) for the first rule a fapi2 ``client`` breaks; None when it
    meets the profile or has none. The message names the section and says how to fix it."""
    if not is_fapi2(client):
        return None
    broken = [(rule, why) for rule in CLIENT_RULES if (why := rule.broken(client)) is not None]
    if not broken:
        return None
    rule, why = broken[0]
    message = _rule(rule.section, f"{why}. Fix: {rule.fix}.")
    if len(broken) > 1:
        rest = "; ".join(f"§{r.section} {w}" for r, w in broken[1:])
        message += f" Also: {rest}."
    return rule.field, message


# --- request time ---


def check_pushed(client: Client, pushed: bool) -> None:
    """§5.3.2.2: authorization requests only through PAR (RFC 9126)."""
    if is_fapi2(client) and not pushed:
        raise OAuthError(
            "fapi-par-required",
            _rule(
                "5.3.2.2",
                "the authorization server shall reject authorization requests sent without "
                "pushed authorization requests. Push the parameters to /par (authenticated) "
                "and send only client_id and the request_uri here.",
            ),
        )


def check_request(
    client: Client,
    response_type: str,
    response_mode: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> None:
    """The authorization request of a fapi2 ``client`` (run after the ordered checks'
    response type, response mode and PKCE checks, at /par and at /authorize)."""
    if not is_fapi2(client):
        return
    if response_type != "code":  # §5.3.2.2
        raise OAuthError(
            "fapi-response-type",
            _rule("5.3.2.2", f"response_type must be code, not {response_type}."),
        )
    if not code_challenge or code_challenge_method != "S256":  # §5.3.2.2
        raise OAuthError(
            "fapi-pkce-required",
            _rule(
                "5.3.2.2",
                "PKCE is required with S256 as the code challenge method: send code_challenge "
                "= BASE64URL(SHA256(code_verifier)) and code_challenge_method=S256.",
            ),
        )
    # §5.4.1: a JWT-secured response (JARM) is signed with a FAPI alg; JARM's default,
    # RS256, applies unless the client registered another.
    if response_mode is not None and response_mode.endswith("jwt"):
        alg = client.extra.get("authorization_signed_response_alg")
        if alg not in SIGNING_ALGS:
            raise OAuthError(
                "fapi-response-mode",
                _rule(
                    "5.4.1",
                    f"response_mode {response_mode} would be signed with {alg or 'RS256'}; "
                    "register authorization_signed_response_alg PS256, ES256 or EdDSA, or use "
                    "response_mode query.",
                ),
            )


def code_ttl(client: Client, default: int) -> int:
    """§5.3.2.1: a fapi2 client's codes live at most 60 s."""
    return min(default, CODE_TTL) if is_fapi2(client) else default


def par_ttl(client: Client, default: int) -> int:
    """§5.3.2.2: a fapi2 client's request_uri has expires_in below 600 s."""
    return min(default, PAR_TTL) if is_fapi2(client) else default


def assertion_audiences(client: Client, audiences: frozenset[str], issuer: str) -> frozenset[str]:
    """§5.3.2.1: only the issuer identifier is accepted as a client assertion's aud."""
    return frozenset((issuer,)) if is_fapi2(client) and audiences else audiences
