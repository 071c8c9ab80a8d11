"""JWT Secured Authorization Response Mode for OAuth 2.0 (JARM): the response parameters
(code, state, iss, error ...) in one JWT signed with keystead's key, ``aud`` the client_id,
sent as ``response`` in the query, the fragment or a form post.

The modes are rows of protocol/response.py's table; a JARM response is sealed into a plain
response of its base mode (``query.jwt`` -> ``query`` with the one parameter ``response``),
which then travels like any other. A client that registered
``authorization_encrypted_response_alg`` (JARM §3) gets the signed JWT encrypted to its key
(a nested JWT, ``cty`` "JWT"; protocol/encrypted_responses.py finds the key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.jose.jwe import DEFAULT_ENC, encrypt
from keystead.jose.keys import SUPPORTED_ALGS
from keystead.protocol.encrypted_responses import encryption_key
from keystead.protocol.response import AuthorizationResponse, default_response_mode
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

BASE_MODES = {"query.jwt": "query", "fragment.jwt": "fragment", "form_post.jwt": "form_post"}
GENERIC = "jwt"  # JARM §2.3.4: query.jwt, or fragment.jwt for responses with tokens
ALG = "authorization_signed_response_alg"  # client metadata, in Client.extra
ENC_ALG = "authorization_encrypted_response_alg"  # JARM §3 (protocol/response_metadata.py)
ENC_ENC = "authorization_encrypted_response_enc"
DEFAULT_ALG = "RS256"  # JARM §3: RS256 when the client registered none
LIFETIME = 120  # JARM §4.1: a short-lived response; the client checks exp
SIGNING_ALGS: tuple[str, ...] = tuple(SUPPORTED_ALGS)

Seal = Callable[[AuthorizationResponse], AuthorizationResponse]


def is_jwt(mode: str) -> bool:
    return mode in BASE_MODES or mode == GENERIC


def explicit(mode: str, response_type: str) -> str:
    """``jwt`` as the mode it stands for with ``response_type`` (JARM §2.3.4)."""
    if mode != GENERIC:
        return mode
    return default_response_mode(response_type) + ".jwt"


def alg_of(client: Client) -> str:
    alg = client.extra.get(ALG)
    return alg if isinstance(alg, str) else DEFAULT_ALG


async def sealer(provider: Provider, client: Client) -> Seal:
    """A function sealing a response for ``client`` (sync: render.py's error path calls it)."""
    ring = await provider.keyring()
    issuer = provider.settings.issuer
    alg = alg_of(client)
    enc_alg: str | None = client.extra.get(ENC_ALG)
    # JARM §2.2: signed, then encrypted to the client's key (fetched here: seal is sync).
    key = None if enc_alg is None else await encryption_key(provider, client, enc_alg)
    enc = client.extra.get(ENC_ENC) or DEFAULT_ENC  # JARM §3: A128CBC-HS256 by default

    def seal(resp: AuthorizationResponse) -> AuthorizationResponse:
        now = provider.now()
        # JARM §2.1: iss, aud (the client_id) and exp, with the response parameters.
        claims: dict[str, Any] = {
            **resp.params,
            "iss": issuer,
            "aud": client.client_id,
            "exp": now + LIFETIME,
            "iat": now,
        }
        token = jwt.sign(claims, ring, alg, now=now)
        if key is not None and enc_alg is not None:
            token = encrypt(token, key, enc_alg, enc, cty="JWT")
        base = BASE_MODES.get(resp.response_mode, "query")
        return AuthorizationResponse(resp.redirect_uri, base, {"response": token}, resp.client_id)

    return seal


async def error_sealer(err: OAuthError, provider: Provider) -> Seal | None:
    """For an error that travels to the client in a JARM mode: its sealer; else None."""
    target = err.redirect
    if target is None or not is_jwt(target.response_mode) or target.client_id is None:
        return None
    client = await provider.get_client(target.client_id)
    if client is None:
        return None  # check_client refused it: no redirect is made anyway
    try:
        return await sealer(provider, client)
    except OAuthError:
        # No key to encrypt to: the error is shown on keystead's page, never sent unencrypted.
        err.redirect = None
        return None
