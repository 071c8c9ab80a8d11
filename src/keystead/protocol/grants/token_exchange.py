"""Token exchange (RFC 8693 §2): a client trades a subject token (and, for delegation, an
actor token) for an access token for one API.

Without an actor token the new token stands for the subject alone (impersonation); with one,
it carries ``act`` naming the actor (delegation, §4.1), with the subject token's own ``act``
nested inside, so the current actor is outermost. Both modes, and the APIs a client may get
tokens for, are the operator's per-client policy ``token_exchange``
(services/client_policy.py); nothing is allowed by default.

The new token's scope is never wider than the subject token's (when it has one) nor the
client's. Only access tokens are issued (``requested_token_type`` access_token, or jwt for an
API with RFC 9068 JWT access tokens); no refresh token: the subject token is the grant, and
the client exchanges it again while it lasts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import scopes
from keystead.protocol.grants.exchange_tokens import ACCESS_TOKEN, JWT, Party, party
from keystead.protocol.grants.subject_token import issue
from keystead.protocol.request import OAuthRequest
from keystead.protocol.resources import ApiIndex, select_api, token_scopes
from keystead.store.base import Api, Client

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
PARAMETERS = (
    "subject_token",
    "subject_token_type",
    "actor_token",
    "actor_token_type",
    "requested_token_type",
    "audience",
    "resource",
    "scope",
)
MAX_ACT_DEPTH = 8  # a delegation chain longer than this is refused


def policy_of(client: Client) -> dict[str, Any]:
    """The client's ``token_exchange`` policy row (checked when set; absent: nothing)."""
    policy = client.extra.get("token_exchange")
    if not isinstance(policy, dict):
        return {"audiences": [], "impersonate": False, "delegate": False}
    return policy


def _target(req: OAuthRequest, client: Client, index: ApiIndex, wanted: tuple[str, ...]) -> Api:
    """The one API the token is for: audience and/or resource (§2.1), else the scopes' API or
    the client's default API; it must be one the client's policy allows."""
    named = [v for v in (req.get("audience"), req.get("resource")) if v is not None]
    for value in named:
        if value not in index.by_identifier:
            raise OAuthError(
                "token-exchange-target-unknown",
                f"{value} is not a registered API; audience and resource name an API by its "
                "identifier.",
            )
    if len(set(named)) > 1:
        raise OAuthError(
            "token-exchange-target-unknown",
            "audience and resource name two APIs; a token is for one API.",
        )
    api = select_api(
        index,
        client=client,
        requested=named[0] if named else None,
        granted_resources=(),
        scopes=wanted,
    )
    if api is None:
        raise OAuthError(
            "token-exchange-target-unknown",
            "No API follows from the request: name it with audience or resource.",
        )
    allowed = policy_of(client)["audiences"]
    if api.identifier not in allowed:
        raise OAuthError(
            "token-exchange-target-not-allowed",
            f"This client may not exchange tokens for {api.identifier}; its token_exchange "
            f"policy allows: {', '.join(allowed) or 'none'}.",
        )
    return api


def _scope(req: OAuthRequest, client: Client, subject: Party) -> tuple[str, ...]:
    """§2.1 scope: down-scoping only — within the subject token's scope and the client's."""
    permitted = set(scopes.parse(client.scope))
    if subject.scope is not None:
        permitted &= set(subject.scope)
    requested = scopes.parse(req.get("scope"))
    wider = [s for s in requested if s not in permitted]
    if wider:
        raise OAuthError(
            "token-exchange-scope-wider",
            f"scope {' '.join(wider)} is wider than the subject token's and the client's "
            f"scope allow; request a subset of: {' '.join(sorted(permitted)) or 'none'}.",
        )
    ceiling = subject.scope if subject.scope is not None else scopes.parse(client.scope)
    chosen = requested or tuple(s for s in ceiling if s in permitted)
    return tuple(s for s in chosen if s != scopes.OFFLINE_ACCESS)


def _depth(act: dict[str, Any] | None) -> int:
    depth = 0
    while isinstance(act, dict):
        depth, act = depth + 1, act.get("act")
    return depth


def _act(subject: Party, actor: Party | None) -> dict[str, Any] | None:
    """§4.1: the current actor outermost, prior actors (the subject token's act) nested."""
    if actor is None:
        return subject.act  # impersonating a delegated token keeps its chain
    act: dict[str, Any] = {"sub": actor.sub}
    if actor.iss is not None:
        act["iss"] = actor.iss
    if subject.act is not None:
        act["act"] = subject.act
    if _depth(act) > MAX_ACT_DEPTH:
        raise OAuthError(
            "token-exchange-subject-invalid",
            f"subject_token: the delegation chain would exceed {MAX_ACT_DEPTH} actors.",
        )
    return act


async def _parties(
    req: OAuthRequest, client: Client, provider: Provider
) -> tuple[Party, Party | None]:
    policy = policy_of(client)
    actor_token, actor_type = req.get("actor_token"), req.get("actor_token_type")
    if (actor_token is None) != (actor_type is None):  # §2.1: both or neither
        raise OAuthError(
            "token-exchange-actor-type",
            "actor_token_type is required with actor_token, and only with it (RFC 8693 §2.1).",
        )
    if actor_token is None and not policy["impersonate"]:
        raise OAuthError(
            "token-exchange-impersonation-not-allowed",
            "This client may not exchange tokens without an actor_token (impersonation); its "
            "token_exchange policy does not allow it.",
        )
    if actor_token is not None and not policy["delegate"]:
        raise OAuthError(
            "token-exchange-delegation-not-allowed",
            "This client may not exchange tokens with an actor_token (delegation); its "
            "token_exchange policy does not allow it.",
        )
    subject = await party(
        provider,
        client,
        req.require("subject_token"),
        req.require("subject_token_type"),
        "subject_token",
    )
    actor = None
    if actor_token is not None and actor_type is not None:
        actor = await party(provider, client, actor_token, actor_type, "actor_token")
    return subject, actor


async def _handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    if client.is_public:
        raise OAuthError(
            "token-exchange-public-client",
            "Token exchange needs a confidential client: its policy is per client, so the "
            "client must authenticate.",
        )
    requested_type = req.get("requested_token_type") or ACCESS_TOKEN
    if requested_type not in (ACCESS_TOKEN, JWT):
        raise OAuthError(
            "token-exchange-token-type",
            f"requested_token_type {requested_type} cannot be issued; use {ACCESS_TOKEN} "
            f"(or {JWT} for an API with JWT access tokens).",
        )
    subject, actor = await _parties(req, client, provider)
    wanted = _scope(req, client, subject)
    index = await provider.apis()
    api = _target(req, client, index, wanted)
    if requested_type == JWT and api.token_format != "jwt":
        raise OAuthError(
            "token-exchange-token-type",
            f"requested_token_type {JWT}: the API {api.identifier} uses opaque access tokens.",
        )
    act = _act(subject, actor)
    token = await issue(
        provider, client, sub=subject.sub, scope=token_scopes(wanted, api, index), api=api, act=act
    )
    provider.events.emit(
        "token.exchanged",
        client_id=client.client_id,
        sub=subject.sub,
        actor=actor.sub if actor else None,
        audience=api.identifier,
        mode="delegation" if actor else "impersonation",
    )
    # RFC 8693 §2.2.1: issued_token_type, and token_type Bearer for an access token.
    return {
        "access_token": token.value,
        "issued_token_type": requested_type,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": token.scope,
    }


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    try:
        return await _handle(req, client, provider)
    except OAuthError as exc:
        provider.events.emit(
            "token_exchange.refused", client_id=client.client_id, catalog_id=exc.catalog_id
        )
        raise
