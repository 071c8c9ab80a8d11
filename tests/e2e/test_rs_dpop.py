"""keystead.rs with DPoP-bound tokens (RFC 9449 §7): the example notes API (JWT access
tokens, checked locally) and an opaque-token API (introspection, whose answer carries
cnf.jkt) accept a bound token only with a proof of its key, for this request, once."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.rs import TokenError
from keystead.rs.dpop import access_token_hash
from tests.e2e.conftest import Env
from tests.e2e.test_apis_and_tokens import CALENDAR, calendar_verifier, notes_api, setup_apis

pytestmark = pytest.mark.anyio

NOTES_URL = "https://notes.example.com/notes"
TOKEN_URL = "http://127.0.0.1:8000/token"


def proof(key: Any, htm: str, htu: str, now: int, **claims: Any) -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": now, **claims}
    return jose_jwt.encode(header, body, key, algorithms=["ES256"])


async def bound_token(env: Env, s: dict[str, Any], key: Any, resource: str) -> str:
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "resource": resource},
            auth=(s["client_id"], s["client_secret"]),
            headers={"DPoP": proof(key, "POST", TOKEN_URL, env.clock())},
        )
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    value: str = r.json()["access_token"]
    return value


async def test_notes_api_accepts_a_bound_jwt_only_with_its_proof(env: Env) -> None:
    s = await setup_apis(env)
    key, other = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    at = await bound_token(env, s, key, "https://notes.example.com")
    now, ath = env.clock(), access_token_hash(at)
    async with notes_api(env) as api:
        good = proof(key, "GET", NOTES_URL, now, ath=ath)
        r = await api.get("/notes", headers={"Authorization": f"DPoP {at}", "DPoP": good})
        assert r.status_code == 200, r.text
        replay = await api.get("/notes", headers={"Authorization": f"DPoP {at}", "DPoP": good})
        assert replay.status_code == 401 and "jti was already used" in replay.text
        assert replay.headers["www-authenticate"].startswith('DPoP realm="notes"')
        bearer = await api.get("/notes", headers={"Authorization": f"Bearer {at}"})
        assert bearer.status_code == 401 and "DPoP-bound" in bearer.text
        for bad, words in (
            (proof(other, "GET", NOTES_URL, now, ath=ath), "another key"),
            (proof(key, "POST", NOTES_URL, now, ath=ath), "htm must be GET"),
            (proof(key, "GET", "https://evil.example/notes", now, ath=ath), "htu must be"),
            (proof(key, "GET", NOTES_URL, now - 3600, ath=ath), "iat is not within"),
            (proof(key, "GET", NOTES_URL, now), "ath (the access token's hash) is missing"),
            (proof(key, "GET", NOTES_URL, now, ath=access_token_hash("x")), "ath does not"),
        ):
            r = await api.get("/notes", headers={"Authorization": f"DPoP {at}", "DPoP": bad})
            assert r.status_code == 401 and words in r.json()["error_description"], (words, r.text)
        nothing = await api.get("/notes", headers={"Authorization": f"DPoP {at}"})
        assert nothing.status_code == 401 and nothing.json()["error"] == "invalid_dpop_proof"


async def test_opaque_bound_token_through_introspection(env: Env) -> None:
    s = await setup_apis(env)
    key = ECKey.generate_key("P-256")
    at = await bound_token(env, s, key, CALENDAR)
    verifier = calendar_verifier(env, s)
    url = CALENDAR + "/events"
    now, ath = env.clock(), access_token_hash(at)
    info = await verifier.verify_request(
        f"DPoP {at}", proof(key, "GET", url, now, ath=ath), "GET", url, ["calendar:read"]
    )
    assert info.claims["cnf"] == {"jkt": key.thumbprint()}
    assert info.claims["token_type"] == "DPoP"
    with pytest.raises(TokenError) as err:
        await verifier.verify(at)
    assert err.value.error == "invalid_token" and "DPoP-bound" in err.value.description
    with pytest.raises(TokenError) as err:
        other = ECKey.generate_key("P-256")
        await verifier.verify_request(
            f"DPoP {at}", proof(other, "GET", url, now, ath=ath), "GET", url
        )
    assert "another key" in err.value.description
