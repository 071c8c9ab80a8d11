"""The CIBA client metadata (CIBA Core 1.0 §4) through every channel a client comes from:
dynamic registration (RFC 7591), the admin API and the CLI — one rule set
(protocol/ciba_metadata.py): poll or ping only, ping needs an https notification endpoint
(http only on loopback), CIBA needs a confidential client, user_code is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keystead.protocol.ciba_metadata import GRANT_TYPE
from keystead.protocol.client_metadata import ClientSpec, MetadataError, validate
from tests.e2e.conftest import Env, make_env
from tests.e2e.test_admin_api import ADMIN, admin, admin_token
from tests.e2e.test_registration import register

pytestmark = pytest.mark.anyio

BASE: dict[str, Any] = {
    "client_name": "Kiosk",
    "grant_types": [GRANT_TYPE],
    "response_types": [],
    "scope": "openid profile",
}


def spec(**changes: Any) -> ClientSpec:
    s = ClientSpec(
        client_name="Kiosk",
        redirect_uris=[],
        grant_types=[GRANT_TYPE],
        response_types=[],
        backchannel_token_delivery_mode="poll",
    )
    for name, value in changes.items():
        setattr(s, name, value)
    return s


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"backchannel_token_delivery_mode": None}, "backchannel_token_delivery_mode"),
        ({"backchannel_token_delivery_mode": "push"}, "backchannel_token_delivery_mode"),
        ({"backchannel_token_delivery_mode": "ping"}, "backchannel_client_notification_endpoint"),
        (
            {
                "backchannel_token_delivery_mode": "ping",
                "backchannel_client_notification_endpoint": "http://kiosk.example/cb",
            },
            "backchannel_client_notification_endpoint",
        ),
        (
            {
                "backchannel_token_delivery_mode": "ping",
                "backchannel_client_notification_endpoint": "https://kiosk.example/cb#x",
            },
            "backchannel_client_notification_endpoint",
        ),
        ({"token_endpoint_auth_method": "none"}, "token_endpoint_auth_method"),
        ({"backchannel_user_code_parameter": True}, "backchannel_user_code_parameter"),
        ({"grant_types": ["client_credentials"]}, "backchannel_token_delivery_mode"),
    ],
)
def test_metadata_rules(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(MetadataError) as refused:
        validate(spec(**changes))
    assert refused.value.field == field


def test_metadata_accepted() -> None:
    validate(spec())
    validate(
        spec(
            backchannel_token_delivery_mode="ping",
            backchannel_client_notification_endpoint="https://kiosk.example/ciba",
        )
    )
    validate(  # development: http on loopback, as for back-channel logout URIs
        spec(
            backchannel_token_delivery_mode="ping",
            backchannel_client_notification_endpoint="http://127.0.0.1:9000/ciba",
        )
    )


async def test_dynamic_registration(tmp_path: Path) -> None:
    env = await make_env(tmp_path, open_registration=True)
    try:
        ping = {
            **BASE,
            "backchannel_token_delivery_mode": "ping",
            "backchannel_client_notification_endpoint": "https://kiosk.example/ciba",
        }
        r = await register(env, ping)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["backchannel_token_delivery_mode"] == "ping"
        assert body["backchannel_client_notification_endpoint"] == "https://kiosk.example/ciba"
        assert GRANT_TYPE in body["grant_types"]
        for refused in (
            {**BASE},  # no delivery mode
            {**BASE, "backchannel_token_delivery_mode": "push"},
            {
                **BASE,
                "backchannel_token_delivery_mode": "poll",
                "backchannel_user_code_parameter": True,
            },
            {
                **BASE,
                "backchannel_token_delivery_mode": "poll",
                "token_endpoint_auth_method": "none",
            },
        ):
            r = await register(env, refused)
            assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata", r.text
    finally:
        await env.provider.close()


async def test_admin_api(env: Env) -> None:
    token = await admin_token(env)
    async with admin(env, token) as http:
        body = {
            "client_name": "Kiosk",
            "redirect_uris": [],
            "response_types": [],
            "grant_types": [GRANT_TYPE],
            "backchannel_token_delivery_mode": "poll",
        }
        r = await http.post(f"{ADMIN}/clients", json=body)
        assert r.status_code == 201, r.text
        client_id = r.json()["client_id"]
        assert r.json()["backchannel_token_delivery_mode"] == "poll"
        r = await http.patch(
            f"{ADMIN}/clients/{client_id}", json={"backchannel_token_delivery_mode": "ping"}
        )
        assert r.status_code == 422, r.text  # ping without a notification endpoint
        r = await http.patch(
            f"{ADMIN}/clients/{client_id}",
            json={
                "backchannel_token_delivery_mode": "ping",
                "backchannel_client_notification_endpoint": "https://kiosk.example/ciba",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["backchannel_client_notification_endpoint"] == "https://kiosk.example/ciba"


def test_cli(run: Any) -> None:
    created = run(
        *("client", "create", "--name", "Kiosk", "--grant-type", GRANT_TYPE),
        *("--response-type", "code", "--redirect-uri", "https://kiosk.example/cb"),
        *("--backchannel-token-delivery-mode", "poll"),
    )
    assert created["backchannel_token_delivery_mode"] == "poll"
    updated = run(
        *("client", "update", created["client_id"]),
        *("--backchannel-token-delivery-mode", "ping"),
        *("--backchannel-client-notification-endpoint", "https://kiosk.example/ciba"),
    )
    assert updated["backchannel_token_delivery_mode"] == "ping"
    assert updated["backchannel_client_notification_endpoint"] == "https://kiosk.example/ciba"
    words = run(
        *("client", "create", "--name", "Bad", "--grant-type", GRANT_TYPE),
        *("--redirect-uri", "https://kiosk.example/cb"),
        *("--backchannel-token-delivery-mode", "push"),
        ok=False,
    )
    assert "--backchannel-token-delivery-mode" in words and "poll or ping" in words
