"""Issue the authorization response once the user is logged in and has consented."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.protocol import acr, jarm, response, scopes
from keystead.protocol.authorization_request import AuthorizationRequest
from keystead.protocol.response import AuthorizationResponse
from keystead.protocol.response_types import RESPONSE_TYPES, IssueContext
from keystead.secrets_util import random_token
from keystead.store.base import Grant, Session

if TYPE_CHECKING:
    from keystead.provider import Provider


def granted_scopes(areq: AuthorizationRequest, *, consent_given_now: bool) -> tuple[str, ...]:
    """OIDC Core §11: offline_access only with a code and an explicit (or implied) consent;
    otherwise it is silently dropped, never an error."""
    offline_ok = "code" in areq.response_type.split() and (
        consent_given_now or areq.client.skip_consent
    )
    return tuple(s for s in areq.scope if s != scopes.OFFLINE_ACCESS or offline_ok)


async def issue(
    areq: AuthorizationRequest,
    session: Session,
    provider: Provider,
    *,
    consent_given_now: bool,
) -> AuthorizationResponse:
    now = provider.now()
    # JARM: the sealer first, so a client whose encryption key cannot be found gets nothing
    # issued (no code or grant that could never be delivered).
    seal = (
        await jarm.sealer(provider, areq.client) if jarm.is_jwt(areq.target.response_mode) else None
    )
    grant = Grant(
        grant_id=random_token(16),
        client_id=areq.client.client_id,
        sub=session.sub,
        scope=scopes.join(granted_scopes(areq, consent_given_now=consent_given_now)),
        created_at=now,
        auth_time=session.auth_time,
        sid=session.sid,
        resources=areq.resources,
        claims=areq.claims,
        acr=acr.reported(session.amr, acr.wanted(areq.client, areq.acr_values, areq.claims)[0]),
        amr=session.amr,
    )
    if "code" not in areq.response_type.split():
        await provider.store.grants.add_grant(grant)
    # else the code part stores the grant with its code, in one transaction (issue_code runs
    # first: a front-channel token's record needs its grant stored).
    ctx = IssueContext(areq, session, grant, provider, now)
    params: dict[str, str] = {}
    for part in RESPONSE_TYPES[areq.response_type]:
        params.update(await part(ctx, params))
    # Every requested part must have been produced (nothing silently missing).
    for name in areq.response_type.split():
        produced = {"token": "access_token"}.get(name, name)
        if name != "none":
            assert produced in params, f"response_type part {name} was not produced"
    provider.events.emit(
        "authorization.issued",
        client_id=areq.client.client_id,
        sub=session.sub,
        grant_id=grant.grant_id,
        response_type=areq.response_type,
        scope=grant.scope,
    )
    resp = response.success(areq.target, provider.settings.issuer, params)
    if seal is not None:  # JARM: the parameters in one signed (and encrypted) JWT
        resp = seal(resp)
    return resp
