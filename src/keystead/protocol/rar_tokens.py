"""Rich Authorization Requests (RFC 9396) beyond the authorization endpoint.

- Token endpoint, authorization_code and refresh_token grants (§6.1, §6.2): a token request
  may carry ``authorization_details`` to get an access token for part of what was granted.
  Each object must lie within a granted object of its type: the common arrays (locations,
  actions, datatypes, privileges) a subset of the granted ones, every other member equal.
  The access token (its JWT claim, its introspection) and the token response (§7) carry the
  narrowed array; the grant and its refresh token keep the whole.
- client_credentials (§6): the client asks for details of the types of the APIs it may use
  (those owning a scope of the client, and its default API); the token is for that one API.
- Device authorization (RFC 8628) and CIBA requests: the details are checked as at
  /authorize, shown on the approval page (``rar.describe``) and carried into the tokens.

A token request without the parameter does none of this (the grants test ``req.get`` once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import rar, scopes
from keystead.protocol.resources import ApiIndex, default_api
from keystead.store.base import Api, Client

if TYPE_CHECKING:
    from keystead.provider import Provider

Details = tuple[dict[str, Any], ...]


def _beyond(asked: Mapping[str, Any], granted: Mapping[str, Any]) -> str | None:
    """What ``asked`` wants beyond ``granted`` (an object of the same type), or None."""
    for name in sorted(asked.keys() | granted.keys()):
        if name in rar.STRING_ARRAYS:
            if name not in granted:
                continue  # a restriction the grant did not have: narrower still
            wanted = asked.get(name)
            if wanted is None:
                return f"it leaves out {name} (granted: {', '.join(granted[name])})"
            extra = [v for v in wanted if v not in granted[name]]
            if extra:
                return f"{name} {', '.join(extra)} not granted"
        elif asked.get(name) != granted.get(name):
            return f"{name} differs from the granted value"
    return None


async def narrow(
    provider: Provider, raw: str, granted: Sequence[Mapping[str, Any]] | None
) -> Details:
    """RFC 9396 §6.1: the token request's authorization_details, each within the grant's."""
    registered = rar.types_of((await provider.apis()).by_id.values())
    details = rar.parse(raw, registered)
    assert details is not None  # raw is not None
    if not granted:
        raise OAuthError(
            "authorization-details-not-granted",
            "This grant has no authorization_details; leave authorization_details out of the "
            "token request (or ask for them in the authorization request).",
        )
    for position, asked in enumerate(details):
        same = [g for g in granted if g.get("type") == asked["type"]]
        where = f"authorization_details[{position}] (type {asked['type']})"
        if not same:
            raise OAuthError(
                "authorization-details-not-granted",
                f"{where} was not granted; the grant holds the types "
                f"{', '.join(sorted({str(g.get('type')) for g in granted}))}.",
            )
        reasons = [_beyond(asked, g) for g in same]
        if all(reasons):
            raise OAuthError(
                "authorization-details-not-granted",
                f"{where} asks for more than was granted: {reasons[0]}. Send a subset of the "
                "granted authorization_details, or leave the parameter out for all of them.",
            )
    return tuple(details)


def _client_apis(client: Client, index: ApiIndex) -> dict[str, Api]:
    """The APIs ``client`` may get tokens for: those owning one of its scopes, its default."""
    apis = {
        index.by_scope[s].api_id: index.by_scope[s]
        for s in scopes.parse(client.scope)
        if s in index.by_scope
    }
    default = default_api(client, index)
    if default is not None:
        apis[default.api_id] = default
    return apis


def for_client(raw: str, client: Client, index: ApiIndex) -> Details:
    """RFC 9396 §6 for client_credentials: details of types of the APIs the client may use."""
    allowed = rar.types_of(_client_apis(client, index).values())
    details = rar.parse(raw, rar.types_of(index.by_id.values()))
    assert details is not None
    for position, detail in enumerate(details):
        if detail["type"] not in allowed:
            raise OAuthError(
                "authorization-details-client",
                f"authorization_details[{position}].type {detail['type']} belongs to an API "
                "this client may not use; its APIs accept: "
                f"{', '.join(sorted(allowed)) or 'no types'}.",
            )
    return tuple(details)


def api_of(details: Details, index: ApiIndex) -> Api | None:
    """The one API the details' types belong to (None: types of several APIs)."""
    owners = rar.types_of(index.by_id.values())
    found = {owners[d["type"]].api_id: owners[d["type"]] for d in details}
    return next(iter(found.values())) if len(found) == 1 else None


def check_api(details: Details, api: Api) -> None:
    """One API per access token: every object's type must be one ``api`` accepts."""
    for position, detail in enumerate(details):
        if detail["type"] not in api.authorization_details_types:
            raise OAuthError(
                "authorization-details-client",
                f"authorization_details[{position}].type {detail['type']} is not a type of "
                f"{api.identifier}, the API of this token (one API per access token); send "
                "details of one API, or resource= naming the API they belong to.",
            )


async def for_request(provider: Provider, raw: str | None) -> Details | None:
    """Device authorization and CIBA requests: checked as at /authorize (§2, §5)."""
    if raw is None:
        return None
    details = rar.parse(raw, rar.types_of((await provider.apis()).by_id.values()))
    return None if details is None else tuple(details)
