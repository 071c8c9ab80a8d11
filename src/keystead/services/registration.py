"""Dynamic client registration as operations (RFC 7591 register, RFC 7592 read, replace,
delete): the RFC side (tokens, metadata translation, RFC 7591 §3.2.2 wording) is
protocol/registration.py's; storing, changing and deleting the client are the same
services/clients.py operations the CLI and the admin API call, with the same events (their
channel is "registration", the actor the client managing itself)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from keystead.protocol import registration as rfc7591
from keystead.protocol.registration import Registered, registration_view
from keystead.protocol.resources import ApiIndex
from keystead.services import clients
from keystead.services.common import Actor, NotFound, ServiceError, audit

if TYPE_CHECKING:
    from keystead.protocol.request import OAuthRequest
    from keystead.provider import Provider

CHANNEL = "registration"
# The request's metadata, read when asked: only after the caller's token was checked, so an
# unauthenticated caller's body is never parsed (issue 18 #6).
Metadata = Callable[[], Awaitable[Any]]


async def mint_initial_access_token(
    provider: Provider, actor: Actor, *, expires_in: int, reusable: bool
) -> tuple[str, int]:
    """(token in clear, expires_at) for RFC 7591 §3; only its hash is stored."""
    try:
        token, expires_at = await rfc7591.mint_initial_access_token(
            provider, expires_in=expires_in, reusable=reusable
        )
    except rfc7591.InitialAccessTokenError as exc:
        raise ServiceError("expires_in", str(exc)) from None
    audit(provider, actor, "registration_token.created", reusable=reusable, expires_at=expires_at)
    return token, expires_at


async def check_scope(scope: str, provider: Provider) -> None:
    """The operator's self-registration policy (issue 18 #4), read from the store rather than
    the provider's cached API index: a scope the operator just closed is closed at once, on
    every instance. Clients the operator creates (CLI, admin API) do not pass here."""
    rfc7591.check_api_scopes(scope, ApiIndex.build(await provider.store.apis.list()))


async def register(req: OAuthRequest, metadata: Metadata, provider: Provider) -> Registered:
    """RFC 7591 §3.1: check the initial access token, the metadata, then store the client."""
    await rfc7591.check_rate(req, provider)
    single_use = await rfc7591.check_initial_access_token(req, provider)
    spec = rfc7591.parse_metadata(await metadata())
    await check_scope(spec.scope, provider)
    await rfc7591.take_initial_access_token(single_use, provider)
    access_token, extra = rfc7591.new_registration_access_token()
    try:
        client, secret = await clients.create(provider, spec, Actor(CHANNEL), extra=extra)
    except ServiceError as exc:
        raise rfc7591.refused(exc.field, exc.message) from None
    response = registration_view(client, provider)
    if secret is not None:
        response["client_secret"] = secret
    response["registration_access_token"] = access_token
    return Registered(response)


async def read(req: OAuthRequest, client_id: str, provider: Provider) -> Registered:
    """RFC 7592 §2.1."""
    client = await rfc7591.managed_client(req, client_id, provider)
    return Registered(registration_view(client, provider), status=200)


async def replace(
    req: OAuthRequest, client_id: str, metadata: Metadata, provider: Provider
) -> Registered:
    """RFC 7592 §2.2: the body replaces the registration."""
    client = await rfc7591.managed_client(req, client_id, provider)
    spec, new_secret = rfc7591.replacement(client, await metadata())
    await check_scope(spec.scope, provider)
    try:
        updated, secret = await clients.update(
            provider, client, spec, Actor(CHANNEL, client_id), rotate_secret=new_secret
        )
    except ServiceError as exc:
        raise rfc7591.refused(exc.field, exc.message) from None
    response = registration_view(updated, provider)
    if secret is not None:
        response["client_secret"] = secret
    return Registered(response, status=200)


async def delete(req: OAuthRequest, client_id: str, provider: Provider) -> None:
    """RFC 7592 §2.3: the client and its grants and tokens are gone; the registration access
    token stops working with it."""
    await rfc7591.managed_client(req, client_id, provider)
    try:
        await clients.delete(provider, client_id, Actor(CHANNEL, client_id))
    except NotFound:  # deleted meanwhile by another request: gone either way
        pass
