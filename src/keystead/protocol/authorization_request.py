"""The validated authorization request: what protocol/authorize.py's checks produce and what
the interaction (protocol/interaction.py) and issuance (protocol/issue.py, the response type
handlers of protocol/response_types.py) read.

Its own module so that those readers need not import the checks: response_types.py is
imported by authorize.py (which response types exist), so it must not import authorize.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from keystead.errors import RedirectTarget
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client


class AuthorizationRequest(NamedTuple):
    """Immutable: a named tuple, built on every authorization for a third of a frozen
    dataclass's field-by-field ``__init__`` of its 21 fields."""

    client: Client
    redirect_uri: str
    response_type: str
    response_mode: str
    scope: tuple[str, ...]  # requested scopes the client may have (RFC 6749 §3.3)
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None
    params: dict[str, str]
    pairs: tuple[tuple[str, str], ...]  # the original parameters, carried through the pages
    resources: tuple[str, ...] = ()  # RFC 8707 resource indicators
    claims: dict[str, Any] = {}  # noqa: RUF012 - OIDC Core §5.5 claims request; build() always
    # passes one of its own, and nothing mutates it
    hint_sub: str | None = None  # sub of a valid id_token_hint
    acr_values: tuple[str, ...] = ()
    ui_locales: tuple[str, ...] = ()  # recorded; pages are English for now
    display: str | None = None

    @property
    def target(self) -> RedirectTarget:
        return RedirectTarget(
            self.redirect_uri, self.response_mode, self.state, self.client.client_id
        )


def build(
    req: OAuthRequest,
    client: Client,
    *,
    redirect_uri: str,
    response_type: str,
    response_mode: str,
    scope: tuple[str, ...],
    prompt: frozenset[str],
    max_age: int | None,
    resources: tuple[str, ...],
    claims: dict[str, Any],
    hint_sub: str | None,
) -> AuthorizationRequest:
    """The request from its parameters and what the checks derived from them (the keywords)."""
    params = req.params
    # RFC 6749 §3.1: parameters sent without a value are treated as omitted (as req.get does;
    # read once from the mapping here, as this runs on every authorization).
    get = params.get
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        response_type=response_type,
        response_mode=response_mode,
        scope=scope,
        state=get("state") or None,
        nonce=get("nonce") or None,
        code_challenge=get("code_challenge") or None,
        code_challenge_method=get("code_challenge_method") or None,
        prompt=prompt,
        max_age=max_age,
        login_hint=get("login_hint") or None,
        params=dict(params),
        pairs=req.pairs or tuple(params.items()),
        resources=resources,
        claims=claims,
        hint_sub=hint_sub,
        acr_values=tuple((get("acr_values") or "").split()),
        ui_locales=tuple((get("ui_locales") or "").split()),
        display=get("display") or None,
    )


# --- carried through the login and consent pages ---------------------------------------------
# The interaction state (signed by web/interaction.py, so it cannot be altered) holds the
# request's parameters and what the checks derived from them; a later step rebuilds the
# request from both without running the checks again (docs/architecture.md, "The browser flow:
# validated once").


def registration_digest(client: Client) -> str:
    """A digest of what the authorization checks read from the client's registration: a later
    step compares it with the client as registered now (it may have changed since)."""
    read = (
        client.client_id,
        client.redirect_uris,
        client.application_type,
        client.response_types,
        client.scope,
        client.require_pkce,
        client.token_endpoint_auth_method,
    )
    return sha256_hex(json.dumps(read, separators=(",", ":")))[:32]


def carried(areq: AuthorizationRequest) -> dict[str, Any]:
    """What the checks derived, as JSON, with the registration they were checked against."""
    return {
        "registration": registration_digest(areq.client),
        "redirect_uri": areq.redirect_uri,
        "response_type": areq.response_type,
        "response_mode": areq.response_mode,
        "scope": list(areq.scope),
        "prompt": sorted(areq.prompt),
        "max_age": areq.max_age,
        "resources": list(areq.resources),
        "claims": areq.claims,
        "hint_sub": areq.hint_sub,
    }


def rebuild(
    req: OAuthRequest, state: Mapping[str, Any] | None, client: Client
) -> AuthorizationRequest | None:
    """The request validated earlier, for ``client`` as registered now; None when the state
    carries no validated request or the registration it was validated against has changed."""
    if not state or state.get("registration") != registration_digest(client):
        return None
    try:
        max_age = state["max_age"]
        return build(
            req,
            client,
            redirect_uri=str(state["redirect_uri"]),
            response_type=str(state["response_type"]),
            response_mode=str(state["response_mode"]),
            scope=tuple(str(s) for s in state["scope"]),
            prompt=frozenset(str(p) for p in state["prompt"]),
            max_age=None if max_age is None else int(max_age),
            resources=tuple(str(r) for r in state["resources"]),
            claims=dict(state["claims"]),
            hint_sub=None if state["hint_sub"] is None else str(state["hint_sub"]),
        )
    except (KeyError, TypeError, ValueError):
        return None  # a state of another shape (another version): validate again
