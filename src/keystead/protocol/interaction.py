"""What the end-user must do before the authorization can be issued (OIDC Core §3.1.2.3-4),
and the protocol's side of the login and consent pages: which error a step ends with and
whether it may travel to the client, and the validated request resumed at each later step.

Every error raised here comes after the redirect_uri was trusted, so it carries its redirect
(RFC 6749 §4.1.2.1): web/ renders it and decides nothing.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import acr, pairwise, rar
from keystead.protocol.authorization_request import AuthorizationRequest, rebuild
from keystead.protocol.authorize import validate
from keystead.protocol.request import from_pairs
from keystead.protocol.resources import check_resource
from keystead.store.base import Consent, Session

if TYPE_CHECKING:
    from keystead.provider import Provider


class Step(enum.Enum):
    LOGIN = "login"
    FACTOR = "factor"  # a second factor: the session is weaker than the request asks
    CONSENT = "consent"
    ISSUE = "issue"


def _redirected(err: OAuthError, areq: AuthorizationRequest) -> OAuthError:
    err.redirect = areq.target
    return err


def _login_needed(
    areq: AuthorizationRequest, session: Session | None, started_at: int | None, now: int
) -> bool:
    if session is None:
        return True
    # A login that happened during this interaction (after its start) satisfies prompt=login,
    # max_age and a mismatched id_token_hint; ``started_at`` None: the interaction begins now,
    # so any session login is from before it (even within the same second).
    fresh = started_at is not None and session.auth_time >= started_at
    if fresh:
        return False
    # OIDC Core §3.1.2.1 id_token_hint: the session must be the hinted user's.
    if areq.hint_sub is not None and areq.hint_sub != session.sub:
        return True
    if areq.prompt & {"login", "select_account"}:
        return True
    # OIDC Core §3.1.2.1 max_age: re-authenticate when the last login is older; "max_age=0
    # is equivalent to prompt=login", so a login of this very second does not satisfy it.
    if areq.max_age is not None:
        return areq.max_age == 0 or now - session.auth_time > areq.max_age
    return False


def consent_needed(areq: AuthorizationRequest, consent: Consent | None) -> bool:
    if areq.client.skip_consent:
        return False
    if "consent" in areq.prompt or rar.PARAMETER in areq.claims:
        return True  # RFC 9396: authorization_details are approved request by request
    approved = set(consent.scope.split()) if consent else set()
    return not set(areq.scope) <= approved


def next_step(
    areq: AuthorizationRequest,
    session: Session | None,
    consent: Consent | None,
    *,
    started_at: int | None,
    now: int,
    can_step_up: bool = False,
) -> Step:
    """``can_step_up``: the session misses a factor the request asks for and the user has
    one to add (or the requirement is essential: the factor page then says what is missing)."""
    silent = "none" in areq.prompt
    if _login_needed(areq, session, started_at, now):
        if silent:
            # OIDC Core §3.1.2.6: prompt=none must not display a login page.
            raise _redirected(
                OAuthError(
                    "login-required",
                    "prompt=none was requested but the user is not logged in, max_age requires "
                    "a fresh login, or the session belongs to another user than id_token_hint.",
                ),
                areq,
            )
        return Step.LOGIN
    if can_step_up:
        if silent:
            # OIDC Core §3.1.2.6: a factor to add is an interaction prompt=none forbids.
            raise _redirected(
                OAuthError(
                    "interaction-required",
                    "prompt=none was requested but the session's authentication is weaker "
                    "than acr_values, the essential acr claim or the client's require_mfa "
                    "asks for.",
                ),
                areq,
            )
        return Step.FACTOR
    if consent_needed(areq, consent):
        if silent:
            raise _redirected(
                OAuthError(
                    "consent-required",
                    "prompt=none was requested but the user has not approved these scopes for "
                    "this client.",
                ),
                areq,
            )
        return Step.CONSENT
    return Step.ISSUE


async def decide(
    areq: AuthorizationRequest,
    session: Session | None,
    provider: Provider,
    *,
    started_at: int | None,
    consent_given_now: bool = False,
) -> Step:
    """The next step, reading the stored consent; ``started_at`` None: a new interaction."""
    if consent_given_now:
        return Step.ISSUE  # the consent form, bound to this session, was just approved
    consent = (
        await provider.store.consents.get(session.sub, areq.client.client_id)
        if session is not None and not areq.client.skip_consent
        else None
    )
    can_step_up = session is not None and await _can_step_up(areq, session, provider)
    if (
        session is not None
        and areq.hint_sub is not None
        and pairwise.is_pairwise(areq.client)
        and pairwise.matches(provider, areq.client, areq.hint_sub, session.sub)
    ):
        # OIDC Core §8: the hint names the session's user by the client's pairwise sub.
        areq = areq._replace(hint_sub=session.sub)
    return next_step(
        areq, session, consent, started_at=started_at, now=provider.now(), can_step_up=can_step_up
    )


async def _can_step_up(areq: AuthorizationRequest, session: Session, provider: Provider) -> bool:
    """The session misses what the request asks (protocol/acr.py), and either the user has a
    factor to add or the requirement is essential; a voluntary acr_values the user cannot
    meet is reported as it is instead. The factors are read only when something is missing."""
    acceptable, essential = acr.wanted(areq.client, areq.acr_values, areq.claims)
    if acr.met(session.amr, acceptable):
        return False
    return essential or bool(
        acr.helpful(session.amr, await provider.store.factors.list(session.sub), acceptable)
    )


async def resume(
    pairs: tuple[tuple[str, str], ...], state: Mapping[str, Any] | None, provider: Provider
) -> AuthorizationRequest:
    """The request validated when the interaction began, for its login or consent step.

    Its checks do not run again: the signed state carries their result. Re-checked is only
    what lies outside the request and may have changed since: the client (deleted, or its
    registration changed: then the whole request is validated again against what is
    registered now) and the APIs it names (RFC 8707). docs/architecture.md, "The browser
    flow: validated once", says why.
    """
    req = from_pairs("GET", pairs)
    client_id = req.get("client_id")
    client = await provider.get_client(client_id) if client_id else None
    areq = rebuild(req, state, client) if client is not None else None
    if areq is None:
        return await validate(req, provider)
    if areq.resources:
        index = await provider.apis()
        try:
            for value in areq.resources:
                check_resource(value, index)  # RFC 8707 §2: an API deleted since
        except OAuthError as err:
            raise _redirected(err, areq) from None
    return areq


def consenting_session(session: Session | None, sid: str | None) -> Session:
    """The consent form is answered by the session that was shown it, still live."""
    if session is None or sid is None or not hmac.compare_digest(session.sid, sid):
        raise OAuthError(
            "interaction-invalid",
            "The consent form belongs to another or an expired session.",
        )
    return session


def deny(areq: AuthorizationRequest, sub: str, provider: Provider) -> OAuthError:
    """The user said no: access_denied, back to the client (RFC 6749 §4.1.2.1)."""
    provider.events.emit("consent.denied", client_id=areq.client.client_id, sub=sub)
    return _redirected(
        OAuthError("access-denied", "The user denied the authorization request."), areq
    )


def mfa_unavailable(areq: AuthorizationRequest, sub: str, provider: Provider) -> OAuthError:
    """An essential acr (or the client's require_mfa) no factor of the user can meet: a
    failed authentication (OIDC Core §5.5.1.1), back to the client as access_denied."""
    provider.events.emit("mfa.unavailable", client_id=areq.client.client_id, sub=sub)
    return _redirected(
        OAuthError(
            "mfa-unavailable",
            "The request requires a second factor the user has not set up.",
        ),
        areq,
    )
