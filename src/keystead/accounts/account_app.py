"""The account page's sign-in: keystead's own first-party app, a reserved client that is not
stored. ``/account`` without a session sends the browser through ``/authorize`` with this
client (``response_type=none``), so the account page gets every sign-in feature the
applications get — throttling, second factors, passkeys — from the one flow; when the flow
would issue, web/ returns to ``/account`` instead: no grant, no token, only the SSO session.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from keystead.config import Settings
from keystead.secrets_util import random_token
from keystead.store.base import Client

ACCOUNT_CLIENT_ID = "keystead-account"
ACCOUNT_PATH = "/account"


def account_client(settings: Settings) -> Client:
    return Client(
        client_id=ACCOUNT_CLIENT_ID,
        client_name="your keystead account",
        redirect_uris=(settings.url(ACCOUNT_PATH),),
        grant_types=(),
        response_types=("none",),
        scope="openid",
        token_endpoint_auth_method="none",
        skip_consent=True,
    )


# Where a sign-in through the account client may return besides /account: the device flow's
# verification page (RFC 8628 §3.3) with the code the user came with. The return travels in
# ``state`` (anyone can write a state, so only these shapes are followed: no open redirect).
_DEVICE_RETURN = re.compile(r"^device(?::([A-Za-z0-9-]{1,16}))?$")
# ... and the OAuth 1.0a authorization page (RFC 5849 §2.2) with its oauth_token (base64url).
_OAUTH1_RETURN = re.compile(r"^oauth1:([A-Za-z0-9_-]{16,64})$")


def _returnable(then: str) -> bool:
    return bool(_DEVICE_RETURN.match(then) or _OAUTH1_RETURN.match(then))


def sign_in_url(
    settings: Settings,
    *,
    fresh: bool = False,
    then: str | None = None,
    acr_values: str | None = None,
) -> str:
    """Where ``/account`` sends a browser without a session (``fresh``: a new login even
    with one, before a security change; OIDC Core §3.1.2.1 prompt=login); ``then``: where
    the sign-in returns, ``device``, ``device:USER-CODE`` or ``oauth1:OAUTH_TOKEN``
    (default: /account)."""
    state = random_token(12)
    if then is not None and _returnable(then):
        state = f"{state}.{then}"
    params = {
        "client_id": ACCOUNT_CLIENT_ID,
        "response_type": "none",
        "redirect_uri": settings.url(ACCOUNT_PATH),
        "scope": "openid",
        "state": state,
    }
    if fresh:
        params["prompt"] = "login"
    if acr_values:  # a step-up first (OIDC Core §3.1.2.1): e.g. a CIBA request asking for "2"
        params["acr_values"] = acr_values
    return settings.url("/authorize") + "?" + urlencode(params)


def return_url(settings: Settings, state: str | None) -> str:
    """Where a finished account sign-in goes: /account, or the device page it came from."""
    then = (state or "").partition(".")[2]
    oauth1 = _OAUTH1_RETURN.match(then)
    if oauth1 is not None:
        return settings.url("/oauth1/authorize") + "?" + urlencode({"oauth_token": oauth1[1]})
    match = _DEVICE_RETURN.match(then)
    if match is None:
        return settings.url(ACCOUNT_PATH)
    code = match.group(1)
    return settings.url("/device") + (f"?{urlencode({'user_code': code})}" if code else "")
