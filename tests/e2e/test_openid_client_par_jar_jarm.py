"""openid-client (panva's, tests/rp_node) against a real `keystead serve`, with its PAR
(``buildAuthorizationUrlWithPAR``), JAR (``buildAuthorizationUrlWithJAR``) and JARM
(``useJwtResponseMode``) helpers: a full code flow each, PAR and JAR together, and a
tampered JARM response that openid-client must refuse. node and npm are required."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import ECKey

from tests.e2e.conftest import form_fields
from tests.e2e.serving import serving
from tests.e2e.test_openid_client_logout import rp_node, run_rp  # noqa: F401 - the fixture
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(240)

PASSWORD = "openid client password"
CALLBACK = "http://127.0.0.1:9/callback"  # never fetched: the answer is read off the redirect
KEY = ECKey.generate_key("P-256", parameters={"kid": "rp-1"})
ENC_KEY = ECKey.generate_key("P-256", parameters={"kid": "rp-enc", "use": "enc"})
ENCRYPTED: dict[str, str] = {}  # the client of encrypted JARM responses (its id and secret)


def node(*args: str) -> dict[str, Any]:
    env = {**os.environ, "DECRYPTION_JWK": json.dumps(ENC_KEY.as_dict(private=True))}
    return run_rp("par_jar_jarm.mjs", *args, env=env)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
    rp_node: Path,  # noqa: F811 - the fixture
) -> Iterator[tuple[str, str, str]]:
    tmp = tmp_path_factory.mktemp("par")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    cli = Cli(tmp / "data", issuer)
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps({"keys": [KEY.as_dict(private=False)]}))
    client = cli.json(
        "client", "create", "--name", "node RP", "--redirect-uri", CALLBACK,
        "--skip-consent", "--scope", "openid profile", "--jwks", str(jwks),
        "--request-object-signing-alg", "ES256",
    )  # fmt: skip
    enc_jwks = tmp / "enc-jwks.json"
    enc_jwks.write_text(json.dumps({"keys": [ENC_KEY.as_dict(private=False)]}))
    encrypted = cli.json(
        "client", "create", "--name", "node RP (encrypted JARM)", "--redirect-uri", CALLBACK,
        "--skip-consent", "--scope", "openid profile", "--jwks", str(enc_jwks),
        "--authorization-encrypted-response-alg", "ECDH-ES+A256KW",
        "--authorization-encrypted-response-enc", "A256GCM",
    )  # fmt: skip
    ENCRYPTED.update(client_id=encrypted["client_id"], secret=encrypted["client_secret"])
    cli.json("user", "create", "rita", "--password-stdin", stdin=PASSWORD + "\n")
    with serving(cli, port):
        yield issuer, client["client_id"], client["client_secret"]


def sign_in(issuer: str, url: str) -> str:
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(url)
        assert page.status_code == 200 and 'name="password"' in page.text, page.text[:500]
        data = form_fields(page.text) | {"username": "rita", "password": PASSWORD}
        done = browser.post(issuer + "/login", data=data)
        assert done.status_code == 303 and done.headers["location"].startswith(CALLBACK)
        return str(done.headers["location"])


def flow(served: tuple[str, str, str], modes: str) -> tuple[dict[str, Any], str]:
    issuer, client_id, secret = served
    common = (issuer, client_id, secret, CALLBACK, modes)
    started = node("start", *common, json.dumps(KEY.as_dict(private=True)))
    callback = sign_in(issuer, started["url"])
    checks = (started["verifier"], started["state"], started["nonce"])
    finished = node("finish", *common, callback, *checks)
    return {**started, **finished}, callback


def test_par(served: tuple[str, str, str]) -> None:
    result, _ = flow(served, "par")
    query = parse_qs(urlsplit(result["url"]).query)
    assert set(query) == {"client_id", "request_uri"}  # RFC 9126 §4: nothing else in the URL
    assert result["claims"]["aud"] == served[1] and result["claims"]["nonce"] == result["nonce"]
    again = httpx.get(result["url"])  # single use
    assert again.status_code == 400 and "location" not in again.headers


def test_jar(served: tuple[str, str, str]) -> None:
    result, _ = flow(served, "jar")
    query = parse_qs(urlsplit(result["url"]).query)
    assert set(query) == {"client_id", "request"}
    assert result["claims"]["aud"] == served[1]


def test_par_with_a_request_object(served: tuple[str, str, str]) -> None:
    result, _ = flow(served, "par,jar")
    assert result["claims"]["aud"] == served[1]


def test_jarm(served: tuple[str, str, str]) -> None:
    result, callback = flow(served, "jarm")
    assert set(parse_qs(urlsplit(callback).query)) == {"response"}
    assert result["claims"]["aud"] == served[1]


def test_tampered_jarm_response_is_refused(served: tuple[str, str, str]) -> None:
    issuer, client_id, secret = served
    common = (issuer, client_id, secret, CALLBACK, "jarm")
    started = node("start", *common, "{}")
    callback = sign_in(issuer, started["url"])
    response = parse_qs(urlsplit(callback).query)["response"][0]
    header, payload, signature = response.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["state"] = started["state"]
    claims["code"] = claims["code"][:-2] + "xx"  # another code, under the same signature
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{CALLBACK}?response={header}.{forged}.{signature}"
    checks = (started["verifier"], started["state"], started["nonce"])
    finished = node("finish", *common, tampered, *checks)
    assert "error" in finished and "claims" not in finished
    assert finished["error"] == "OAUTH_INVALID_RESPONSE"
    assert "signature verification failed" in finished["cause"], finished


def test_encrypted_jarm(served: tuple[str, str, str]) -> None:
    """JARM §2.2: openid-client decrypts the response with the client's key
    (enableDecryptingResponses), then verifies the inner signature."""
    issuer = served[0]
    result, callback = flow((issuer, ENCRYPTED["client_id"], ENCRYPTED["secret"]), "jarm,enc")
    response = parse_qs(urlsplit(callback).query)["response"][0]
    assert response.count(".") == 4  # a JWE
    assert result.get("claims", {}).get("aud") == ENCRYPTED["client_id"], result
