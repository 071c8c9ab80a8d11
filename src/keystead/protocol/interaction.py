"""What the end-user must do before the authorization can be issued (OIDC Core §3.1.2.3-4).

Pure decision: given the validated request, the SSO session and the stored consent, return
the next step or raise the error ``prompt=none`` requires.
"""

from __future__ import annotations

import enum

from keystead.errors import OAuthError
from keystead.protocol.authorization_request import AuthorizationRequest
from keystead.store.base import Consent, Session


class Step(enum.Enum):
    LOGIN = "login"
    CONSENT = "consent"
    ISSUE = "issue"


def _login_needed(
    areq: AuthorizationRequest, session: Session | None, started_at: int | None, now: int
) -> bool:
    if session is None:
        return True
    # A login that happened during this interaction (after its start) satisfies prompt=login
    # and a mismatched id_token_hint; ``started_at`` None: the interaction begins now, so any
    # session login is from before it (even within the same second).
    fresh = started_at is not None and session.auth_time >= started_at
    # OIDC Core §3.1.2.1 id_token_hint: the session must be the hinted user's.
    if areq.hint_sub is not None and areq.hint_sub != session.sub and not fresh:
        return True
    if areq.prompt & {"login", "select_account"} and not fresh:
        return True
    # OIDC Core §3.1.2.1 max_age: re-authenticate when the last login is older.
    return areq.max_age is not None and now - session.auth_time > areq.max_age


def consent_needed(areq: AuthorizationRequest, consent: Consent | None) -> bool:
    if areq.client.skip_consent:
        return False
    if "consent" in areq.prompt:
        return True
    approved = set(consent.scope.split()) if consent else set()
    return not set(areq.scope) <= approved


def next_step(
    areq: AuthorizationRequest,
    session: Session | None,
    consent: Consent | None,
    *,
    started_at: int | None,
    now: int,
) -> Step:
    silent = "none" in areq.prompt
    if _login_needed(areq, session, started_at, now):
        if silent:
            # OIDC Core §3.1.2.6: prompt=none must not display a login page.
            raise OAuthError(
                "login-required",
                "prompt=none was requested but the user is not logged in, max_age requires a "
                "fresh login, or the session belongs to another user than id_token_hint.",
            )
        return Step.LOGIN
    if consent_needed(areq, consent):
        if silent:
            raise OAuthError(
                "consent-required",
                "prompt=none was requested but the user has not approved these scopes for "
                "this client.",
            )
        return Step.CONSENT
    return Step.ISSUE
