"""A DPoP proof sent to the pushed authorization request endpoint (RFC 9449 §10.1).

The proof is verified as at the token endpoint (htm POST, htu the /par URL built from the
issuer, iat window, jti once) and its key's thumbprint becomes the pushed request's
``dpop_jkt``: the authorization code is then bound to that key (§10) and redeemed only with
a proof of it. When the request also carries ``dpop_jkt``, the two must name the same key.
A push without a DPoP header does nothing here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.errors import OAuthError
from keystead.protocol import dpop
from keystead.protocol.request import OAuthRequest, from_pairs

if TYPE_CHECKING:
    from keystead.provider import Provider
    from keystead.store.base import Client

PATH = "/par"  # protocol/par.py's endpoint, whose URL the proof's htu names
PARAMETER = "dpop_jkt"  # RFC 9449 §10


async def bind(
    req: OAuthRequest, effective: OAuthRequest, provider: Provider, client: Client
) -> OAuthRequest:
    """``effective`` (the pushed parameters) bound to the key of ``req``'s DPoP proof."""
    value = req.headers.get("dpop")
    if value is None:
        return effective
    proof = await dpop.verify(provider, value, htm="POST", path=PATH)
    dpop.check_client_alg(client, proof)
    sent = effective.get(PARAMETER)
    if sent is not None:
        # RFC 9449 §10.1: both present: they must name one key.
        if sent != proof.jkt:
            raise OAuthError(
                "par-dpop-jkt-mismatch",
                f"{PARAMETER} ({sent}) is not the thumbprint of the DPoP proof's key "
                f"({proof.jkt}); send the thumbprint of the key that signs the proof, or "
                f"leave {PARAMETER} out (the proof's key is used).",
            )
        return effective
    provider.events.emit("dpop.par_bound", jkt=proof.jkt)
    return from_pairs(effective.method, [*effective.pairs, (PARAMETER, proof.jkt)])
