"""Response types: each is a tuple of part handlers that produce response parameters.

Dispatch by table. Adding the Hybrid Flow means adding handlers here; discovery's
``response_types_supported`` is derived from ``RESPONSE_TYPES`` so it never advertises more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple

from keystead.protocol import dpop, fapi
from keystead.protocol import scopes as scopes_mod
from keystead.protocol.claims import requested_names, user_claims
from keystead.protocol.id_token import make_id_token
from keystead.protocol.resources import select_api, token_scopes
from keystead.protocol.tokens import TokenRequest, issue_access_token
from keystead.secrets_util import random_token, sha256_hex
from keystead.store.base import AuthorizationCode, Grant, Session

if TYPE_CHECKING:
    from keystead.protocol.authorization_request import AuthorizationRequest
    from keystead.provider import Provider


def normalize_response_type(raw: str) -> str:
    """response_type values are unordered space-separated lists (RFC 6749 §3.1.1)."""
    return " ".join(sorted(raw.split()))


class IssueContext(NamedTuple):
    areq: AuthorizationRequest
    session: Session
    grant: Grant
    provider: Provider
    now: int


async def issue_code(ctx: IssueContext, produced: dict[str, str]) -> dict[str, str]:
    code = random_token()
    areq = ctx.areq
    await ctx.provider.store.grants.add_grant(
        ctx.grant,
        AuthorizationCode(
            code_hash=sha256_hex(code),
            grant_id=ctx.grant.grant_id,
            client_id=areq.client.client_id,
            sub=ctx.session.sub,
            redirect_uri=areq.redirect_uri,
            scope=ctx.grant.scope,
            # RFC 6749 §4.1.2: short-lived, 10 minutes at most; keystead defaults to 60 s
            # (FAPI 2.0 §5.3.2.1: at most 60 s for a fapi2 client whatever the setting).
            expires_at=ctx.now + fapi.code_ttl(areq.client, ctx.provider.settings.code_ttl),
            created_at=ctx.now,
            auth_time=ctx.session.auth_time,
            sid=ctx.session.sid,
            nonce=areq.nonce,
            code_challenge=areq.code_challenge,
            code_challenge_method=areq.code_challenge_method,
            resources=areq.resources,
            claims=areq.claims,
            acr=ctx.grant.acr,
            dpop_jkt=dpop.code_jkt(areq.params),  # RFC 9449 §10
            amr=ctx.grant.amr,
        ),
    )
    return {"code": code}


async def issue_token(ctx: IssueContext, produced: dict[str, str]) -> dict[str, str]:
    """An access token in the front channel (RFC 6749 §4.2.2); never a refresh token."""
    index = await ctx.provider.apis()
    granted = scopes_mod.parse(ctx.grant.scope)
    api = select_api(
        index,
        client=ctx.areq.client,
        requested=None,
        granted_resources=ctx.grant.resources,
        scopes=granted,
    )
    scope = scopes_mod.join(
        [s for s in token_scopes(granted, api, index) if s != scopes_mod.OFFLINE_ACCESS]
    )
    token = await issue_access_token(
        ctx.provider,
        TokenRequest(
            ctx.areq.client, ctx.grant.sub, scope, api, ctx.grant, auth_time=ctx.session.auth_time
        ),
    )
    return {
        "access_token": token.value,
        "token_type": "Bearer",
        "expires_in": str(token.expires_in),
        "scope": token.scope,
    }


async def issue_id_token(ctx: IssueContext, produced: dict[str, str]) -> dict[str, str]:
    """An ID token in the front channel (OIDC Core §3.2.2.10, §3.3.2.11): c_hash / at_hash
    for the code / token returned beside it, s_hash for state (FAPI)."""
    areq = ctx.areq
    extra: dict[str, object] = {}
    names = requested_names(areq.claims, "id_token")
    if "access_token" not in produced or names:
        user = await ctx.provider.store.users.get(ctx.grant.sub)
        if user is not None:
            # OIDC Core §5.4: with no access token, the scope's claims go in the ID token.
            by_scope = () if "access_token" in produced else scopes_mod.parse(ctx.grant.scope)
            extra = dict(user_claims(user, by_scope, names))
    token = await make_id_token(
        ctx.provider,
        areq.client,
        sub=ctx.grant.sub,
        auth_time=ctx.session.auth_time,
        nonce=areq.nonce,
        sid=ctx.session.sid,
        access_token=produced.get("access_token"),
        code=produced.get("code"),
        state=areq.state,
        amr=ctx.session.amr,
        acr=ctx.grant.acr,
        extra=extra,
    )
    return {"id_token": token}


async def issue_none(ctx: IssueContext, produced: dict[str, str]) -> dict[str, str]:
    return {}  # OAuth 2.0 Multiple Response Types §4: only state (and iss)


PartHandler = Callable[[IssueContext, dict[str, str]], Awaitable[dict[str, str]]]

# Part order matters: the ID token hashes the code and access token produced before it.
RESPONSE_TYPES: dict[str, tuple[PartHandler, ...]] = {
    "code": (issue_code,),
    "id_token": (issue_id_token,),
    "id_token token": (issue_token, issue_id_token),
    "code id_token": (issue_code, issue_id_token),
    "code token": (issue_code, issue_token),
    "code id_token token": (issue_code, issue_token, issue_id_token),
    "none": (issue_none,),
}
