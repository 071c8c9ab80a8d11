"""openid-client (panva's, tests/rp_node) exchanging a token with ``genericGrantRequest``
against a real `keystead serve` (RFC 8693): a partner identity provider's JWT about a user is
the subject token, the service's own client_credentials token the actor; the token it gets
is for the user, with ``act`` naming the service. node and npm are required."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.jose.client_keys import peek
from keystead.protocol.grants.token_exchange import GRANT_TYPE
from tests.e2e.serving import serving
from tests.e2e.test_openid_client_logout import node, rp_node  # noqa: F401 - the fixture
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(180)

ORDERS = "https://orders.example.com"
IDP = "https://idp.partner.example"


def test_openid_client_generic_grant_request(tmp_path: Path, rp_node: Path) -> None:  # noqa: F811
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    cli = Cli(tmp_path / "data", issuer)
    cli.json("api", "create", "--identifier", ORDERS, "--scope", "orders:read")
    gateway = cli.json(
        "client", "create", "--name", "gateway", "--scope", "orders:read",
        "--grant-type", GRANT_TYPE, "--grant-type", "client_credentials",
        "--token-exchange-audience", ORDERS, "--token-exchange-delegate",
    )  # fmt: skip
    user = cli.json("user", "create", "rita", "--password-stdin", stdin="rita password 12\n")
    key = ECKey.generate_key("P-256", parameters={"kid": "p1"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    cli.json(
        "trusted-issuer", "create", "--issuer", IDP, "--jwks", str(jwks),
        "--subject-mapping", "username", "--client", gateway["client_id"],
    )  # fmt: skip
    now = int(time.time())
    claims = {"iss": IDP, "sub": "rita", "aud": issuer, "exp": now + 300, "jti": uuid.uuid4().hex}
    subject = jose_jwt.encode({"alg": "ES256", "kid": "p1"}, claims, key)
    with serving(cli, port):
        tokens = node(
            "exchange", issuer, gateway["client_id"], gateway["client_secret"], subject, ORDERS
        )
    assert tokens["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert tokens["token_type"].lower() == "bearer"
    body = peek(tokens["access_token"])[1]  # an RFC 9068 JWT access token
    assert body["sub"] == user["sub"] and body["aud"] == ORDERS
    assert body["act"] == {"sub": "client:" + gateway["client_id"]}
