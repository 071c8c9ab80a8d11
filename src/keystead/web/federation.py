"""Signing in with an upstream provider (issue 22): the login page's "Continue with NAME"
(``POST /federation/start``), the upstream's redirect back (``GET /federation/{name}/callback``)
and the proof that links an upstream identity to an existing account (``POST
/federation/link``). Linking from the account page comes back through the same callback.

keystead as a relying party lives in federation/ (the upstream's endpoints, ID token checks);
who the identity is here, in accounts/federated.py; this module walks the browser through it
and on into the authorization the sign-in was for.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts import device, federated
from keystead.accounts.account_app import ACCOUNT_PATH
from keystead.accounts.login import authenticate
from keystead.accounts.sessions import load_session
from keystead.errors import OAuthError
from keystead.federation import UpstreamError, UpstreamIdentity
from keystead.protocol.authorization_request import AuthorizationRequest
from keystead.protocol.interaction import resume
from keystead.secrets_util import same_text
from keystead.services.connections import redirect_uri
from keystead.store.base import User
from keystead.store.connections import Connection
from keystead.web import upstream_trip
from keystead.web.authorize import _Flow, _guard, _resume, _signer, session_cookie_name
from keystead.web.authorize import start_session as _start_session
from keystead.web.interaction import Interaction
from keystead.web.parse import read_form

if TYPE_CHECKING:
    from keystead.provider import Provider

LINK_TTL = 600  # seconds to prove the existing account on the link page
_LINK_AAD = b"keystead-upstream-link"


async def offered_connection(
    provider: Provider, areq: AuthorizationRequest, name: str
) -> Connection:
    """The connection ``name`` if the client's login page offers it (enabled, allowed)."""
    for connection in await federated.offered(provider, areq.client):
        if connection.name == name:
            return connection
    raise OAuthError(
        "connection-not-offered",
        f"No enabled connection named {name[:40]!r} is offered to this client "
        "(keystead connection list; the client's --connection policy).",
    )


async def start(request: Request) -> Response:
    """``POST /federation/start``: the login page's button for one connection."""

    async def run() -> Response:
        flow = _Flow(request, after_post=True)
        form = dict(await read_form(request))
        _, areq = await _resume(flow, form)
        connection = await offered_connection(flow.provider, areq, form.get("connection", ""))
        trip = await upstream_trip.begin(
            flow.provider, connection, interaction=form["interaction"], login_hint=areq.login_hint
        )
        return flow.finish(trip)

    return await _guard(request, run, after_post=True)


def _user_words(err: UpstreamError) -> str:
    message, advice = err.entry.user_message
    return f"{message} {advice}".strip()


async def _finish(
    provider: Provider, connection: Connection, trip: upstream_trip.Trip, request: Request
) -> UpstreamIdentity:
    """The upstream's answer checked (state, RFC 9207 iss, error or code), the code redeemed,
    the ID token and UserInfo validated (federation/)."""
    params = dict(request.query_params)
    code = await provider.upstreams.callback_code(connection, params, state=trip.state)
    return await provider.upstreams.finish(
        connection,
        redirect_uri=redirect_uri(provider.settings, connection),
        code=code,
        code_verifier=trip.code_verifier,
        nonce=trip.nonce,
    )


async def callback(request: Request) -> Response:
    """``GET /federation/{name}/callback``: the upstream's answer, checked, then the user."""

    async def run() -> Response:
        provider: Provider = request.app.state.provider
        trip = upstream_trip.read(
            provider,
            request.cookies.get(upstream_trip.cookie_name(provider)),
            request.path_params["name"],
            request.query_params.get("state", ""),
        )
        connection = await provider.store.connections.get(trip.connection_id)
        if connection is None or not connection.enabled:
            raise OAuthError(
                "connection-disabled", f"The connection {trip.name} was disabled or deleted."
            )
        if trip.link_sub is not None:
            return upstream_trip.clear(
                await _link_from_account(request, connection, trip), provider
            )
        flow = _Flow(request, after_post=False)
        interaction = _signer(request).load(trip.interaction or "", provider.now())
        if not (flow.csrf and same_text(interaction.csrf, flow.csrf)):
            raise OAuthError("csrf-invalid", "The sign-in was started in another browser.")
        areq = await resume(interaction.pairs, interaction.validated, provider)
        try:
            who = await _finish(provider, connection, trip, request)
        except UpstreamError as exc:
            provider.events.emit(
                "federation.failed",
                connection=connection.name,
                catalog_id=exc.catalog_id,
                detail=exc.detail,
            )
            page = await flow.login_page(
                areq, interaction.started_at, error=_user_words(exc), status=502
            )
            return upstream_trip.clear(flow.finish(page), provider)
        response = await _signed_in_upstream(flow, areq, interaction, connection, who)
        return upstream_trip.clear(response, provider)

    return await _guard(request, run, after_post=False)


async def _signed_in_upstream(
    flow: _Flow,
    areq: AuthorizationRequest,
    interaction: Interaction,
    connection: Connection,
    who: UpstreamIdentity,
) -> Response:
    provider = flow.provider
    found = await federated.resolve(provider, connection, who)
    user = found.user
    if found.outcome == federated.LINK_NOW and user is not None:
        if not await federated.link(provider, connection, who, user):
            user = None
    elif found.outcome == federated.CREATE:
        user = await federated.create_user(provider, connection, who)
    elif found.outcome == federated.PROOF_NEEDED and user is not None:
        return flow.finish(await _link_page(flow, areq, interaction, connection, who, user))
    elif found.outcome == federated.NO_ACCOUNT:
        provider.events.emit("federation.no_account", connection=connection.name)
        error = (
            f"There is no account here for your {connection.display_name} sign-in, and new "
            "accounts are not made from it. Ask the administrator to invite you."
        )
        return flow.finish(await flow.login_page(areq, interaction.started_at, error=error))
    if user is None:
        raise OAuthError(
            "federation-link-conflict",
            f"This {connection.display_name} account was linked to another account meanwhile.",
        )
    return await sign_in(flow, areq, interaction, user)


async def sign_in(
    flow: _Flow, areq: AuthorizationRequest, interaction: Interaction, user: User
) -> Response:
    """The upstream vouched for the user: a session with amr ``fed`` — after the account's own
    second factor, when it has one (as after a password)."""
    methods = (federated.AMR_FEDERATED,)
    if await flow.provider.store.factors.has_any(user.sub):
        page = await flow.factor_page(
            areq, interaction.started_at, sub=user.sub, session=None, pending_amr=methods
        )
        return flow.finish(page)
    flow.provider.events.emit("federation.signed_in", sub=user.sub)
    return await _start_session(flow, areq, interaction, user, methods)


# --- the link page: prove the existing account before linking ---


def _seal_link(provider: Provider, connection: Connection, who: UpstreamIdentity, sub: str) -> str:
    payload = {
        "who": asdict(who),
        "sub": sub,
        "c": connection.connection_id,
        "exp": provider.now() + LINK_TTL,
    }
    return provider.kek.encrypt(json.dumps(payload).encode(), _LINK_AAD)


def _open_link(provider: Provider, sealed: str) -> tuple[str, UpstreamIdentity, str]:
    try:
        payload = json.loads(provider.kek.decrypt(sealed, _LINK_AAD))
        who = payload["who"]
        who["upstream_amr"] = tuple(who.get("upstream_amr", ()))
        identity = UpstreamIdentity(**who)
        if int(payload["exp"]) > provider.now():
            return str(payload["c"]), identity, str(payload["sub"])
    except (ValueError, TypeError, KeyError):
        pass
    raise OAuthError(
        "upstream-trip-missing",
        f"The link page is older than {LINK_TTL} seconds or was altered; sign in again.",
    )


def _masked(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(1, len(local) - 1)}@{domain}"


async def _link_page(
    flow: _Flow,
    areq: AuthorizationRequest,
    interaction: Interaction,
    connection: Connection,
    who: UpstreamIdentity,
    user: User,
    *,
    sealed: str | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    provider = flow.provider
    provider.events.emit(
        "federation.link_offered",
        sub=user.sub,
        connection=connection.name,
        upstream_email_verified=who.email_verified,
    )
    cancel = provider.settings.url("/authorize") + "?" + urlencode(areq.pairs)
    return flow._page(
        "federation_link.html",
        areq,
        {
            "action": provider.settings.url("/federation/link"),
            "interaction": flow._state(areq, interaction.started_at),
            "upstream": sealed or _seal_link(provider, connection, who, user.sub),
            "connection": connection.display_name,
            "email": _masked(who.email),
            "verified": who.email_verified,
            "error": error,
            "cancel_url": cancel,
            "mail_action": provider.settings.url("/federation/link/mail")
            if federated.can_mail_link(provider, user)
            else "",
        },
        status=status,
    )


async def link(request: Request) -> Response:
    """``POST /federation/link``: the existing account's password, then the link and on."""

    async def run() -> Response:
        flow = _Flow(request, after_post=True)
        form = dict(await read_form(request))
        interaction, areq = await _resume(flow, form)
        provider = flow.provider
        connection, who, user = await _pending_link(provider, form.get("upstream", ""))
        client_ip = request.client.host if request.client else None
        result = await authenticate(
            provider,
            user.username,
            form.get("password", ""),
            client_ip,
            request.cookies.get(device.cookie_name(provider)),
        )
        if result.user is None or result.user.sub != user.sub:
            error = "Incorrect password."
            if result.retry_after:
                error = f"Too many failed attempts. Try again in {result.retry_after} seconds."
            page = await _link_page(
                flow,
                areq,
                interaction,
                connection,
                who,
                user,
                sealed=form["upstream"],
                error=error,
                status=400,
            )
            return flow.finish(page)
        if not await federated.link(provider, connection, who, user):
            raise OAuthError(
                "federation-link-conflict",
                f"This {connection.display_name} account is linked to another account already.",
            )
        return await sign_in(flow, areq, interaction, user)

    return await _guard(request, run, after_post=True)


# --- linking from the account page ---


async def _link_from_account(
    request: Request, connection: Connection, trip: upstream_trip.Trip
) -> Response:
    provider: Provider = request.app.state.provider
    session = await load_session(provider, request.cookies.get(session_cookie_name(provider)))
    if session is None or session.sub != trip.link_sub:
        raise OAuthError(
            "upstream-state-mismatch",
            "The account that started linking is no longer signed in in this browser.",
        )
    user = await provider.store.users.get(session.sub)
    if user is None:
        raise OAuthError("interaction-invalid", "The account no longer exists.")
    try:
        who = await _finish(provider, connection, trip, request)
    except UpstreamError as exc:
        provider.events.emit(
            "federation.failed",
            connection=connection.name,
            catalog_id=exc.catalog_id,
            detail=exc.detail,
        )
        raise
    linked = await provider.store.federated_identities.find(
        connection.connection_id, who.upstream_sub
    )
    if linked is not None and linked.sub != user.sub:
        raise OAuthError(
            "federation-link-conflict",
            f"This {connection.display_name} account is linked to another account already.",
        )
    if linked is None and not await federated.link(provider, connection, who, user):
        raise OAuthError(
            "federation-link-conflict",
            f"This {connection.display_name} account is linked to another account already.",
        )
    target = provider.settings.url(ACCOUNT_PATH) + "?done=linked"
    return RedirectResponse(target, status_code=303)


async def _pending_link(
    provider: Provider, sealed: str
) -> tuple[Connection, UpstreamIdentity, User]:
    connection_id, who, sub = _open_link(provider, sealed)
    connection = await provider.store.connections.get(connection_id)
    user = await provider.store.users.get(sub)
    if connection is None or not connection.enabled or user is None:
        raise OAuthError("connection-disabled", "The connection or the account is gone.")
    return connection, who, user
