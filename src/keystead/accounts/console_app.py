"""The admin console's sign-in: keystead's own first-party client, reserved and not stored
(like the account page's, accounts/account_app.py). ``/admin`` without a console session sends
the browser through ``/authorize`` with this client — authorization code + PKCE (RFC 7636),
so the console gets every sign-in feature the applications get — and ``/admin/callback``
redeems the code at the token endpoint's own function, in process.

With ``KEYSTEAD_ADMIN_REQUIRE_MFA`` (the default) the client carries the ``require_mfa``
policy and the request asks for an essential ``acr`` of at least "2" (OIDC Core §5.5.1.1):
an admin signs in with a second factor; the callback checks the ID token's ``acr`` again.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from keystead.config import Settings
from keystead.protocol.acr import ACR_MFA, ACR_PHISHING_RESISTANT
from keystead.store.base import Client, DuplicateError, Store

CONSOLE_CLIENT_ID = "keystead-console"
CONSOLE_PATH = "/admin"
CALLBACK_PATH = "/admin/callback"


def console_client(settings: Settings) -> Client:
    extra = {"require_mfa": True} if settings.admin_require_mfa else {}
    return Client(
        client_id=CONSOLE_CLIENT_ID,
        client_name="the keystead admin console",
        redirect_uris=(settings.url(CALLBACK_PATH),),
        grant_types=("authorization_code",),
        response_types=("code",),
        scope="openid",
        token_endpoint_auth_method="none",  # a public client: PKCE binds the code
        require_pkce=True,
        skip_consent=True,
        extra=extra,
    )


async def ensure_anchor(store: Store, settings: Settings, now: int) -> None:
    """The grants of a code flow reference a stored client (a foreign key), so the console's
    client has a row too: an anchor written at the first sign-in. Its contents are never
    read — ``Provider.get_client`` builds the client from the settings — and a deleted row
    (with its grants) comes back at the next sign-in."""
    if await store.clients.get(CONSOLE_CLIENT_ID) is None:
        try:
            client = console_client(settings)
            await store.clients.add(
                Client(**{**_fields(client), "created_at": now, "extra": {"reserved": True}})
            )
        except DuplicateError:
            pass  # another process wrote it meanwhile


def _fields(client: Client) -> dict[str, object]:
    return {name: getattr(client, name) for name in Client.__dataclass_fields__}


def sign_in_url(settings: Settings, *, state: str, nonce: str, code_challenge: str) -> str:
    params = {
        "client_id": CONSOLE_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": settings.url(CALLBACK_PATH),
        "scope": "openid",
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if settings.admin_require_mfa:
        params["acr_values"] = f"{ACR_MFA} {ACR_PHISHING_RESISTANT}"
        essential = {"essential": True, "values": [ACR_MFA, ACR_PHISHING_RESISTANT]}
        params["claims"] = json.dumps({"id_token": {"acr": essential}}, separators=(",", ":"))
    return settings.url("/authorize") + "?" + urlencode(params)
