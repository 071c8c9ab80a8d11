"""Provision a keystead data dir for the benchmark, in one process: the calls the CLI's
``api create``, ``client create`` and ``user create`` make (keystead.services), without
paying the CLI's start-up four times. Settings come from ``KEYSTEAD_*`` as for the CLI.

    python -m bench.provision [--no-user] [--no-opaque-api]   # prints JSON
"""

from __future__ import annotations

import argparse
import json
import secrets

import anyio

from bench.servers import (
    API,
    API_SCOPE,
    CLIENT_ID,
    OPAQUE_API,
    OPAQUE_SCOPE,
    REDIRECT_URI,
    USERNAME,
)
from keystead.bootstrap import open_provider
from keystead.config import load_settings
from keystead.services.apis import ApiSpec, create_api
from keystead.services.clients import ClientSpec, create_client
from keystead.services.users import create_user


async def provision(*, user: bool, opaque_api: bool) -> dict[str, str]:
    provider = await open_provider(load_settings())
    try:
        store, now = provider.store, provider.now()
        await create_api(store, ApiSpec(API, scopes=[(API_SCOPE, "Read")], token_format="jwt"), now)
        scope = f"openid offline_access {API_SCOPE}"
        if opaque_api:
            spec = ApiSpec(OPAQUE_API, scopes=[(OPAQUE_SCOPE, "Read")], token_format="opaque")
            await create_api(store, spec, now)
            scope += f" {OPAQUE_SCOPE}"
        client_spec = ClientSpec(
            client_name="bench",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token", "client_credentials"],
            scope=scope,
            token_endpoint_auth_method="client_secret_basic",
            skip_consent=True,
            client_id=CLIENT_ID,
            default_resource=API,
        )
        _, secret = await create_client(store, client_spec, now, kek=provider.kek)
        assert secret is not None
        password = secrets.token_urlsafe(18)
        if user:
            await create_user(store, provider.hasher, USERNAME, password, now=now)
        return {
            "client_id": CLIENT_ID,
            "client_secret": secret,
            "username": USERNAME,
            "password": password,
        }
    finally:
        await provider.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-user", action="store_true")
    parser.add_argument("--no-opaque-api", action="store_true")
    args = parser.parse_args()
    result = anyio.run(lambda: provision(user=not args.no_user, opaque_api=not args.no_opaque_api))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
