"""Response types: each is a tuple of part handlers that produce response parameters.

Dispatch by table. Adding the Hybrid Flow means adding handlers here; discovery's
``response_types_supported`` is derived from ``RESPONSE_TYPES`` so it never advertises more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystead.secrets_util import random_token, sha256_hex
from keystead.store.base import AuthorizationCode, Grant, Session

if TYPE_CHECKING:
    from keystead.protocol.authorize import AuthorizationRequest
    from keystead.provider import Provider

# Every response type OIDC Core / Multiple Response Types define; stored in client metadata
# even where this server does not implement it yet.
KNOWN_RESPONSE_TYPES = (
    "code",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
    "none",
)


def normalize_response_type(raw: str) -> str:
    """response_type values are unordered space-separated lists (RFC 6749 §3.1.1)."""
    return " ".join(sorted(raw.split()))


@dataclass(frozen=True, slots=True)
class IssueContext:
    areq: AuthorizationRequest
    session: Session
    grant: Grant
    provider: Provider
    now: int


async def issue_code(ctx: IssueContext) -> dict[str, str]:
    code = random_token()
    areq = ctx.areq
    await ctx.provider.store.grants.add_code(
        AuthorizationCode(
            code_hash=sha256_hex(code),
            grant_id=ctx.grant.grant_id,
            client_id=areq.client.client_id,
            sub=ctx.session.sub,
            redirect_uri=areq.redirect_uri,
            scope=ctx.grant.scope,
            # RFC 6749 §4.1.2: short-lived, 10 minutes at most; keystead defaults to 60 s.
            expires_at=ctx.now + ctx.provider.settings.code_ttl,
            created_at=ctx.now,
            auth_time=ctx.session.auth_time,
            sid=ctx.session.sid,
            nonce=areq.nonce,
            code_challenge=areq.code_challenge,
            code_challenge_method=areq.code_challenge_method,
            resources=areq.resources,
        )
    )
    return {"code": code}


PartHandler = Callable[[IssueContext], Awaitable[dict[str, str]]]

RESPONSE_TYPES: dict[str, tuple[PartHandler, ...]] = {
    "code": (issue_code,),
}
