"""The three legs of RFC 5849 §2 and the protected resource, as plain functions.

- ``request_token``: §2.1 temporary credentials for a signed request with a registered
  ``oauth_callback`` (or ``oob`` for a consumer allowed it);
- ``pending`` / ``approve`` / ``deny``: §2.2, the user's decision on keystead's page (web/
  renders it; a signed-in user, the account sign-in first);
- ``access_token``: §2.3 token credentials for the temporary ones and their verifier, once;
- ``protected_resource``: a request signed with token credentials (never temporary ones),
  checked for keystead's ``userinfo`` and for an API asking through /oauth1/verify
  (oauth1/api.py) alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from keystead.errors import OAuthError
from keystead.oauth1 import credentials
from keystead.oauth1.params import SignedRequest
from keystead.oauth1.verify import verify
from keystead.protocol import claims as user_claims
from keystead.protocol import scopes
from keystead.secrets_util import random_id, random_token, sha256_hex
from keystead.services import client_policy
from keystead.store.base import Client
from keystead.store.oauth1 import DENIED, PENDING, TemporaryCredential, TokenCredential

if TYPE_CHECKING:
    from keystead.provider import Provider

OOB = "oob"  # RFC 5849 §2.1: out-of-band, the verifier shown to the user
# What a consumer gets: the user's identifier, profile and email at /oauth1/userinfo.
SCOPE = ("openid", "profile", "email")


def _callback_allowed(client: Client, callback: str) -> bool:
    if callback == OOB:
        return bool(client_policy.get(client, "oauth1_oob"))
    return callback in client.redirect_uris  # exact match, as RFC 6749 §3.1.2.3 compares


async def request_token(req: SignedRequest, provider: Provider) -> dict[str, str]:
    checked = await verify(req, provider, "none")
    client, p = checked.client, checked.protocol
    if p.get("oauth_token"):  # RFC 5849 §2.1: no token yet (the empty token at most)
        raise OAuthError(
            "oauth1-parameter-rejected",
            "oauth_token must be absent or empty when requesting temporary credentials.",
        )
    callback = p.get("oauth_callback")
    if not callback:  # RFC 5849 §2.1: oauth_callback is REQUIRED
        raise OAuthError(
            "oauth1-parameter-absent",
            "oauth_callback is required: a registered redirect URI, or oob (RFC 5849 §2.1).",
        )
    if not _callback_allowed(client, callback):
        allowed = "a registered redirect URI" + (
            " or oob" if client_policy.get(client, "oauth1_oob") else ""
        )
        raise OAuthError(
            "oauth1-callback-rejected",
            f"oauth_callback {callback} is not {allowed} of consumer {client.client_id}.",
        )
    token, secret, token_hash = credentials.new_pair()
    now = provider.now()
    await provider.store.oauth1.add_temporary(
        TemporaryCredential(
            token_hash=token_hash,
            secret_enc=credentials.seal_temporary_secret(provider, token_hash, secret),
            client_id=client.client_id,
            callback=callback,
            created_at=now,
            expires_at=now + provider.settings.oauth1_request_token_ttl,
        )
    )
    provider.events.emit("oauth1.request_token", client_id=client.client_id)
    return {"oauth_token": token, "oauth_token_secret": secret, "oauth_callback_confirmed": "true"}


@dataclass(frozen=True, slots=True)
class Pending:
    """A temporary credential waiting for the user's decision, and its consumer."""

    token: str
    cred: TemporaryCredential
    client: Client


def _invalid_link(why: str) -> OAuthError:
    return OAuthError("oauth1-authorize-invalid", f"The oauth_token {why}.")


async def pending(provider: Provider, token: str) -> Pending:
    if not token:
        raise _invalid_link("is missing from /oauth1/authorize")
    cred = await provider.store.oauth1.get_temporary(sha256_hex(token))
    if cred is None:
        raise _invalid_link("is unknown")
    if cred.expires_at <= provider.now():
        raise _invalid_link("expired; the application must start again")
    if cred.status != PENDING:
        raise _invalid_link("was answered already")
    client = await provider.get_client(cred.client_id)
    if client is None or not client_policy.get(client, "oauth1"):
        raise _invalid_link("belongs to a consumer that no longer exists")
    return Pending(token, cred, client)


def _with_query(uri: str, params: dict[str, str]) -> str:
    """RFC 5849 §2.2: the callback's own query kept, the parameters added."""
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def approve(provider: Provider, item: Pending, sub: str) -> tuple[str | None, str]:
    """(where to send the browser, or None for oob; the verifier)."""
    verifier = random_token(24)
    if not await provider.store.oauth1.approve(
        item.cred.token_hash, sub, sha256_hex(verifier), provider.now()
    ):
        raise _invalid_link("was answered already or expired")
    provider.events.emit("oauth1.authorized", client_id=item.client.client_id, sub=sub)
    if item.cred.callback == OOB:
        return None, verifier
    params = {"oauth_token": item.token, "oauth_verifier": verifier}
    return _with_query(item.cred.callback, params), verifier


async def deny(provider: Provider, item: Pending, sub: str) -> str | None:
    """Where to send the browser (the callback with oauth_problem=permission_denied, as the
    Problem Reporting extension names it), or None for oob."""
    if not await provider.store.oauth1.deny(item.cred.token_hash, sub, provider.now()):
        raise _invalid_link("was answered already or expired")
    provider.events.emit("oauth1.denied", client_id=item.client.client_id, sub=sub)
    if item.cred.callback == OOB:
        return None
    params = {"oauth_token": item.token, "oauth_problem": "permission_denied"}
    return _with_query(item.cred.callback, params)


async def access_token(req: SignedRequest, provider: Provider) -> dict[str, str]:
    checked = await verify(req, provider, "temporary")
    temporary = checked.temporary
    assert temporary is not None
    verifier = checked.protocol.get("oauth_verifier")
    if not verifier:  # RFC 5849 §2.3: REQUIRED
        raise OAuthError(
            "oauth1-parameter-absent",
            "oauth_verifier is required: the value the callback received (RFC 5849 §2.3).",
        )
    if temporary.status == DENIED:
        raise OAuthError(
            "oauth1-permission-denied", "The user denied access to these temporary credentials."
        )
    now = provider.now()
    # RFC 5849 §2.3: the verifier is bound to its temporary credentials, used once.
    if temporary.sub is None or not await provider.store.oauth1.redeem(
        temporary.token_hash, sha256_hex(verifier), now
    ):
        provider.events.emit("oauth1.verifier_invalid", client_id=checked.client.client_id)
        raise OAuthError(
            "oauth1-verifier-invalid",
            "oauth_verifier is not the one issued for this oauth_token, or it was used already.",
        )
    token, secret, token_hash = credentials.new_pair()
    cred = TokenCredential(
        token_id=random_id(),
        token_hash=token_hash,
        secret_enc=credentials.seal_token_secret(provider, token_hash, secret),
        client_id=checked.client.client_id,
        sub=temporary.sub,
        scope=scopes.join(list(SCOPE)),
        created_at=now,
    )
    await provider.store.oauth1.add_token(cred)
    provider.events.emit(
        "oauth1.access_token",
        client_id=cred.client_id,
        sub=cred.sub,
        token_id=cred.token_id,
    )
    return {"oauth_token": token, "oauth_token_secret": secret}


@dataclass(frozen=True, slots=True)
class Resource:
    """A request to a protected resource, verified: its consumer, the approving user, the
    approved scope and the claims the token credentials give access to."""

    client_id: str
    sub: str
    scope: str
    token_id: str
    claims: dict[str, Any]


async def protected_resource(req: SignedRequest, provider: Provider) -> Resource:
    """RFC 5849 §3.2 for a protected resource — keystead's /oauth1/userinfo and an API's
    request through /oauth1/verify alike: signature, timestamp, nonce (one replay cache for
    both), token credentials only (never temporary ones), not revoked."""
    checked = await verify(req, provider, "token")
    token = checked.token
    assert token is not None
    user = await provider.store.users.get(token.sub)
    if user is None:
        raise OAuthError("oauth1-token-rejected", "The token's user no longer exists.")
    claims = user_claims.user_claims(user, scopes.parse(token.scope))
    return Resource(token.client_id, token.sub, token.scope, token.token_id, claims)


async def userinfo(req: SignedRequest, provider: Provider) -> dict[str, Any]:
    return (await protected_resource(req, provider)).claims
