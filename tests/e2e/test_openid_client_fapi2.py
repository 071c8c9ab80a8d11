"""openid-client (panva's, tests/rp_node/fapi2.mjs) as a FAPI 2.0 client against a real
`keystead serve`: a client registered with ``--profile fapi2`` (private_key_jwt, DPoP-bound
tokens, ES256), PAR with a DPoP proof, a sign-in, the code redeemed with DPoP, UserInfo and a
refresh with the same key; and the same library refused at /authorize without PAR.
node and npm are required. docs/fapi2.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc.jwk import ECKey

from tests.e2e.conftest import form_fields
from tests.e2e.serving import serving
from tests.e2e.test_openid_client_logout import rp_node, run_rp  # noqa: F401 - the fixture
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(240)

PASSWORD = "openid client password"
CALLBACK = "https://127.0.0.1:9/callback"  # never fetched: the answer is read off the redirect
CLIENT_KEY = ECKey.generate_key("P-256", parameters={"kid": "bank-1"})
DPOP_KEY = ECKey.generate_key("P-256")


def node(*args: str) -> dict[str, Any]:
    return run_rp("fapi2.mjs", *args)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
    rp_node: Path,  # noqa: F811 - the fixture
) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("fapi2")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    cli = Cli(tmp / "data", issuer)
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps({"keys": [CLIENT_KEY.as_dict(private=False)]}))
    client = cli.json(
        "client", "create", "--name", "Bank app", "--redirect-uri", CALLBACK,
        "--skip-consent", "--scope", "openid profile offline_access", "--profile", "fapi2",
        "--token-endpoint-auth-method", "private_key_jwt", "--jwks", str(jwks),
        "--token-endpoint-auth-signing-alg", "ES256", "--id-token-signed-response-alg", "ES256",
        "--dpop-bound-access-tokens", "--grant-type", "authorization_code",
        "--grant-type", "refresh_token",
    )  # fmt: skip
    assert client["profile"] == "fapi2"
    cli.json("user", "create", "rita", "--password-stdin", stdin=PASSWORD + "\n")
    with serving(cli, port):
        yield issuer, client["client_id"]


def sign_in(issuer: str, url: str) -> str:
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(url)
        assert page.status_code == 200 and 'name="password"' in page.text, page.text[:500]
        data = form_fields(page.text) | {"username": "rita", "password": PASSWORD}
        done = browser.post(issuer + "/login", data=data)
        assert done.status_code == 303 and done.headers["location"].startswith(CALLBACK)
        return str(done.headers["location"])


def test_openid_client_fapi2_flow(served: tuple[str, str]) -> None:
    issuer, client_id = served
    keys = (
        json.dumps(CLIENT_KEY.as_dict(private=True)),
        json.dumps(DPOP_KEY.as_dict(private=True)),
    )
    common = (issuer, client_id, CALLBACK, *keys)
    started = node("start", *common)
    assert set(parse_qs(urlsplit(started["url"]).query)) == {"client_id", "request_uri"}
    callback = sign_in(issuer, started["url"])
    assert parse_qs(urlsplit(callback).query)["iss"] == [issuer]
    finished = node(
        "finish", *common, callback, started["verifier"], started["state"], started["nonce"]
    )
    assert "error" not in finished, finished
    assert finished["token_type"] == "dpop" and finished["refreshed_token_type"] == "dpop"
    assert finished["userinfo"]["sub"] == finished["claims"]["sub"]
    assert finished["claims"]["iss"] == issuer


def test_plain_authorize_refused_for_the_fapi2_client(served: tuple[str, str]) -> None:
    issuer, client_id = served
    query = urlencode({
        "client_id": client_id, "response_type": "code", "redirect_uri": CALLBACK,
        "scope": "openid", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    })  # fmt: skip
    page = httpx.get(f"{issuer}/authorize?{query}", follow_redirects=False)
    assert page.status_code == 400 and "location" not in page.headers
    # outside development mode the page has the generic words; the rule is in the log
    assert "Correlation id" in page.text
