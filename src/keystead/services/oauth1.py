"""OAuth 1.0a token credentials (RFC 5849 §2.3) an operator or the user sees and revokes:
the CLI (``keystead oauth1 tokens`` / ``oauth1 revoke``), the admin API
(/users/{sub}/oauth1-tokens, /oauth1-tokens/{token_id}) and the account page's list. A
revoked token stops working at once (its next signed request is a 401)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.services.common import Actor, NotFound, audit
from keystead.store.oauth1 import TokenCredential

if TYPE_CHECKING:
    from keystead.provider import Provider


async def token_view(provider: Provider, token: TokenCredential) -> dict[str, Any]:
    """A token as an operator sees it (never the token or its secret)."""
    client = await provider.get_client(token.client_id)
    return {
        "token_id": token.token_id,
        "client_id": token.client_id,
        "client_name": client.client_name if client else None,
        "sub": token.sub,
        "scope": token.scope,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
    }


async def list_tokens(provider: Provider, sub: str, *, live: bool = False) -> list[dict[str, Any]]:
    """The user's token credentials, newest first (``live``: the unrevoked ones)."""
    if await provider.store.users.get(sub) is None:
        raise NotFound("sub", f"No user {sub}.")
    tokens = await provider.store.oauth1.tokens_of(sub)
    return [await token_view(provider, t) for t in tokens if not live or t.revoked_at is None]


async def revoke(
    provider: Provider, token_id: str, actor: Actor, *, sub: str | None = None
) -> dict[str, Any]:
    """Revoke one token credential; NotFound if unknown (or, with ``sub``, not that
    user's). Revoking a revoked token changes nothing and answers it as it is."""
    token = await provider.store.oauth1.get_token_by_id(token_id)
    if token is None or (sub is not None and token.sub != sub):
        raise NotFound("token_id", f"No OAuth 1.0a token {token_id}.")
    if await provider.store.oauth1.revoke_token(token_id, provider.now()):
        audit(
            provider,
            actor,
            "oauth1.token_revoked",
            token_id=token_id,
            client_id=token.client_id,
            sub=token.sub,
        )
    revoked = await provider.store.oauth1.get_token_by_id(token_id)
    assert revoked is not None
    return await token_view(provider, revoked)


async def revoke_all(provider: Provider, sub: str, now: int) -> int:
    """Revoke every live token credential of the user: their password changed or was reset,
    so, as with their OAuth 2.0 grants, whoever knew the old one is out. How many."""
    revoked = 0
    for token in await provider.store.oauth1.tokens_of(sub):
        if token.revoked_at is None and await provider.store.oauth1.revoke_token(
            token.token_id, now
        ):
            revoked += 1
    return revoked
