"""The validated authorization request: what protocol/authorize.py's checks produce and what
the interaction (protocol/interaction.py) and issuance (protocol/issue.py, the response type
handlers of protocol/response_types.py) read.

Its own module so that those readers need not import the checks: response_types.py is
imported by authorize.py (which response types exist), so it must not import authorize.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keystead.errors import RedirectTarget
from keystead.store.base import Client


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
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
    claims: dict[str, Any] = field(default_factory=dict)  # OIDC Core §5.5 claims request
    hint_sub: str | None = None  # sub of a valid id_token_hint
    acr_values: tuple[str, ...] = ()
    ui_locales: tuple[str, ...] = ()  # recorded; pages are English for now
    display: str | None = None

    @property
    def target(self) -> RedirectTarget:
        return RedirectTarget(self.redirect_uri, self.response_mode, self.state)
