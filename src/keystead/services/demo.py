"""Demo data for the development quickstart only (`keystead serve --demo`).

Never created silently: only the --demo flag calls this. Each start gives the demo client a
new secret and the demo user a new password (only hashes are stored, so they are printed).
"""

from __future__ import annotations

from dataclasses import dataclass

from keystead.provider import Provider
from keystead.secrets_util import random_token
from keystead.services import clients, users
from keystead.services.clients import ClientSpec
from keystead.services.common import DEMO, NotFound

DEMO_CLIENT_ID = "demo-app"
DEMO_USERNAME = "demo"
DEMO_CALLBACK = "/demo/callback"


@dataclass(frozen=True, slots=True)
class DemoData:
    client_id: str
    client_secret: str
    redirect_uri: str
    username: str
    password: str


async def ensure_demo(provider: Provider) -> DemoData:
    redirect_uri = provider.settings.url(DEMO_CALLBACK)
    try:  # a fresh client each start: its secret is printed, and only its hash is kept
        await clients.delete(provider, DEMO_CLIENT_ID, DEMO)
    except NotFound:
        pass
    _, secret = await clients.create(
        provider,
        ClientSpec(
            client_id=DEMO_CLIENT_ID,
            client_name="keystead demo app",
            redirect_uris=[redirect_uri, "http://127.0.0.1:9000/callback"],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            scope="openid profile email offline_access",
            token_endpoint_auth_method="client_secret_basic",
        ),
        DEMO,
    )
    assert secret is not None
    password = random_token(9)
    if await provider.store.users.get_by_username(DEMO_USERNAME) is None:
        await users.create(
            provider,
            DEMO_USERNAME,
            password,
            DEMO,
            email="demo@example.com",
            email_verified=True,
            name="Demo User",
            given_name="Demo",
            family_name="User",
        )
    else:
        await users.set_password_of(provider, DEMO_USERNAME, password, DEMO)
    return DemoData(DEMO_CLIENT_ID, secret, redirect_uri, DEMO_USERNAME, password)
