"""Issuing the authorization response; offline_access (OIDC Core §11)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from keystead.protocol import response
from keystead.protocol.issue import granted_scopes, issue
from keystead.secrets_util import sha256_hex

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000
OFFLINE = "openid email offline_access"


@pytest.fixture
async def areq(oauth, client):
    return await oauth.validate(client, scope=OFFLINE)


# --- granted_scopes --------------------------------------------------------------------------


async def test_offline_access_with_code_and_consent_given_now(areq) -> None:
    assert granted_scopes(areq, consent_given_now=True) == ("openid", "email", "offline_access")


async def test_offline_access_dropped_without_explicit_consent(areq) -> None:
    # OIDC Core §11: a remembered consent does not carry offline access; dropped, not an error.
    assert granted_scopes(areq, consent_given_now=False) == ("openid", "email")


async def test_offline_access_implied_by_a_skip_consent_client(oauth, make_client) -> None:
    client = await make_client("first-party", skip_consent=True)
    areq = await oauth.validate(client, scope=OFFLINE)
    assert granted_scopes(areq, consent_given_now=False) == ("openid", "email", "offline_access")


@pytest.mark.parametrize("response_type", ["id_token", "id_token token", "none"])
async def test_offline_access_dropped_without_a_code(areq, response_type) -> None:
    # OIDC Core §11: ignored unless the response_type returns an authorization code.
    other = areq._replace(response_type=response_type)
    assert "offline_access" not in granted_scopes(other, consent_given_now=True)


async def test_offline_access_kept_for_hybrid_code_response(areq) -> None:
    hybrid = areq._replace(response_type="code id_token")
    assert "offline_access" in granted_scopes(hybrid, consent_given_now=True)


async def test_other_scopes_are_untouched(oauth, client) -> None:
    areq = await oauth.validate(client, scope="email openid profile")
    assert granted_scopes(areq, consent_given_now=False) == ("email", "openid", "profile")


# --- issue -----------------------------------------------------------------------------------


async def test_issue_returns_code_state_and_iss(oauth, provider, client, session) -> None:
    areq = await oauth.validate(client)
    resp = await issue(areq, session, provider, consent_given_now=True)
    assert resp.redirect_uri == oauth.redirect_uri
    assert resp.response_mode == "query"
    assert set(resp.params) == {"code", "state", "iss"}
    assert resp.params["state"] == "st-1"
    assert resp.params["iss"] == "https://id.example.com"  # RFC 9207
    assert len(resp.params["code"]) >= 43  # 256 bits
    location = response.location(resp)
    assert dict(parse_qsl(urlsplit(location).query))["code"] == resp.params["code"]


async def test_issue_stores_only_the_hash_of_the_code(oauth, provider, client, session) -> None:
    areq = await oauth.validate(client, scope=OFFLINE)
    resp = await issue(areq, session, provider, consent_given_now=True)
    code = resp.params["code"]
    assert await provider.store.grants.get_code(code) is None
    stored = await provider.store.grants.get_code(sha256_hex(code))
    assert stored is not None
    assert stored.client_id == "rp"
    assert stored.sub == session.sub
    assert stored.redirect_uri == oauth.redirect_uri
    assert stored.scope == OFFLINE
    assert stored.nonce == "n-1"
    assert stored.sid == session.sid
    assert stored.auth_time == session.auth_time
    assert stored.code_challenge == oauth.challenge
    assert stored.code_challenge_method == "S256"
    assert stored.created_at == NOW
    assert stored.expires_at == NOW + provider.settings.code_ttl
    assert stored.consumed_at is None


async def test_issue_without_fresh_consent_drops_offline_access(
    oauth, provider, client, session
) -> None:
    areq = await oauth.validate(client, scope=OFFLINE)
    resp = await issue(areq, session, provider, consent_given_now=False)
    stored = await provider.store.grants.get_code(sha256_hex(resp.params["code"]))
    assert stored is not None
    assert stored.scope == "openid email"


async def test_each_issue_makes_a_new_code(oauth, provider, client, session) -> None:
    areq = await oauth.validate(client)
    first = await issue(areq, session, provider, consent_given_now=True)
    second = await issue(areq, session, provider, consent_given_now=True)
    assert first.params["code"] != second.params["code"]


async def test_issue_in_form_post_mode(oauth, provider, client, session) -> None:
    areq = await oauth.validate(client, response_mode="form_post", state=None)
    resp = await issue(areq, session, provider, consent_given_now=True)
    assert resp.response_mode == "form_post"
    assert set(resp.params) == {"code", "iss"}


async def test_issue_emits_an_event_without_secrets(
    oauth, provider, client, session, events
) -> None:
    areq = await oauth.validate(client)
    resp = await issue(areq, session, provider, consent_given_now=True)
    issued = [e for e in events if e.name == "authorization.issued"]
    assert len(issued) == 1
    assert issued[0].data["client_id"] == "rp"
    assert issued[0].data["sub"] == session.sub
    assert resp.params["code"] not in repr(issued[0].data)
