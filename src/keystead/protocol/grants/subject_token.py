"""An access token for a subject the grant itself established, with no authorization step:
the JWT bearer grant (RFC 7523 §2.1) and token exchange (RFC 8693). Each such token hangs on
a grant row of its own, so revoking the user's grants (sign out everywhere, deletion) ends
it; an exchanged token's ``act`` is kept on that grant (introspection shows it for opaque
tokens too) and, for JWT access tokens, in the token itself (RFC 8693 §4.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.protocol import scopes
from keystead.protocol.tokens import IssuedToken, TokenRequest, new_access_token
from keystead.secrets_util import random_token
from keystead.store.base import Api, Client, Grant

if TYPE_CHECKING:
    from keystead.provider import Provider


async def issue(
    provider: Provider,
    client: Client,
    *,
    sub: str,
    scope: tuple[str, ...],
    api: Api | None,
    act: dict[str, Any] | None = None,
) -> IssuedToken:
    """Issue and store the access token (and its grant row)."""
    now = provider.now()
    joined = scopes.join(scope)
    grant = Grant(
        random_token(16),
        client.client_id,
        sub,
        joined,
        now,
        claims={"act": act} if act is not None else {},
    )
    token = await new_access_token(provider, TokenRequest(client, sub, joined, api, grant, act=act))
    await provider.store.grants.add_grant(grant)
    if token.record is not None:
        await provider.store.grants.add_access_token(token.record)
    return token
